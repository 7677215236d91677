// `genogate mllp send` against a real MllpListener with the product
// handler (builder, validator, in-memory queue) on loopback.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "base/file.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/mllp/mllp_test_util.h"
#include "gateway/mllp/oru_handler.h"
#include "gateway/mllp/queue_sink.h"
#include "gateway/queue/memory_queue.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"

namespace genogate::cli {
namespace {

std::pair<int, std::string> Sh(const std::string& args) {
  std::string cmd =
      "'" + genogate::testing::BinaryDir() + "/genogate' " + args + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while (p != nullptr && (n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    out.append(buf.data(), n);
  }
  int status = p == nullptr ? -1 : ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string Data(const std::string& name) {
  return genogate::testing::ReadTestFile(genogate::testing::DataDir() +
                                         "/hl7v2/" + name);
}

class MllpSendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / "genogate-mllp-cli-XXXXXX")
               .string();
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
    const genogate::testing::ValidationEnv& env =
        genogate::testing::SharedValidationEnv();
    gateway::BundleQueueSinkOptions so;
    so.endpoints = {"ehr"};
    sink_ = std::make_unique<gateway::BundleQueueSink>(
        env.schema.get(), env.validator.get(), &queue_, so);
    handler_ = std::make_unique<gateway::OruHandler>(
        sink_.get(), gateway::OruHandlerOptions());
  }
  void TearDown() override {
    listener_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Listen(gateway::MllpListenerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    auto l = gateway::MllpListener::Start(o, handler_.get());
    ASSERT_TRUE(l.ok()) << l.error().ToString();
    listener_ = std::move(l).value();
  }
  std::string File(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, content).ok());
    return path;
  }
  std::string To() const {
    return " --to 127.0.0.1:" + std::to_string(listener_->port());
  }

  std::string dir_;
  gateway::MemoryQueue queue_;
  std::unique_ptr<gateway::BundleQueueSink> sink_;
  std::unique_ptr<gateway::OruHandler> handler_;
  std::unique_ptr<gateway::MllpListener> listener_;
};

TEST_F(MllpSendTest, AcceptedMessageExitsZero) {
  Listen();
  std::string f = File("good.hl7", Data("brca1_germline_two_variants.hl7"));
  auto [rc, out] = Sh("mllp send '" + f + "'" + To());
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "message 1 (MSG00001): AA\n");
  EXPECT_EQ(queue_.Stats("ehr")->ready, 1);
}

TEST_F(MllpSendTest, SeveralMessagesAndErrorsExitOne) {
  Listen();
  std::string f =
      File("batch.hl7", Data("cnv_pmp22_v231.hl7") + "\n\n" +
                            Data("malformed/nm_not_a_number.hl7") +
                            Data("malformed/unsupported_version.hl7"));
  auto [rc, out] = Sh("mllp send '" + f + "'" + To());
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("message 1 (CNV-7): AA\n"), std::string::npos) << out;
  EXPECT_NE(out.find("message 2 (BAD-10): AE\n"
                     "  E OBX^3^5^1 102 Data type error: OBX #3 (line 6), "
                     "field 5: \"abc\" is not a number (OBX-2 is NM)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("message 3 (BAD-07): AR\n  E MSH^1^12^1^1 203 "
                     "Unsupported version id: "),
            std::string::npos)
      << out;
  EXPECT_EQ(queue_.Stats("ehr")->ready, 1);
}

TEST_F(MllpSendTest, RawPrintsTheAck) {
  Listen();
  std::string f = File("bad.hl7", Data("malformed/no_obr.hl7"));
  auto [rc, out] = Sh("mllp send --raw '" + f + "'" + To());
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out.rfind("MSH|^~\\&|", 0), 0u) << out;
  EXPECT_NE(out.find("|ACK^R01^ACK|"), std::string::npos) << out;
  EXPECT_NE(out.find("\nMSA|AE|BAD-22\nERR||OBR^1|100^"), std::string::npos)
      << out;
}

TEST_F(MllpSendTest, NoReceiverExitsTwo) {
  int port = gateway::testing::FreePort();
  std::string f = File("good.hl7", Data("cnv_pmp22_v231.hl7"));
  auto [rc, out] =
      Sh("mllp send '" + f + "' --to 127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
  std::tie(rc, out) = Sh("mllp send '" + f + "' --to nowhere");
  EXPECT_EQ(rc, 2) << out;
  std::tie(rc, out) = Sh("mllp send '" + dir_ + "/missing.hl7' --to a:1");
  EXPECT_EQ(rc, 2) << out;
}

TEST_F(MllpSendTest, MutualTls) {
  gateway::testing::TestCerts certs;
  ASSERT_TRUE(certs.ok());
  gateway::MllpListenerOptions o;
  o.tls = true;
  o.tls_options.cert_file = certs.server_cert();
  o.tls_options.key_file = certs.server_key();
  o.tls_options.client_ca_file = certs.ca();
  Listen(o);
  std::string f = File("good.hl7", Data("cnv_pmp22_v231.hl7"));
  std::string tls = " --ca '" + certs.ca() + "' --server-name localhost";
  auto [rc, out] =
      Sh("mllp send '" + f + "'" + To() + tls + " --cert '" +
         certs.client_cert() + "' --key '" + certs.client_key() + "'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "message 1 (CNV-7): AA\n");
  // Without the client certificate the receiver refuses the link.
  std::tie(rc, out) = Sh("mllp send '" + f + "'" + To() + tls);
  EXPECT_EQ(rc, 2) << out;
  // A receiver the CA does not vouch for.
  std::tie(rc, out) = Sh("mllp send '" + f + "'" + To() + " --ca '" +
                         certs.other_ca() + "' --cert '" + certs.client_cert() +
                         "' --key '" + certs.client_key() + "'");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("certificate verify failed"), std::string::npos) << out;
}

}  // namespace
}  // namespace genogate::cli

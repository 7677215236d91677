// The MLLP listener's TLS: certificate and key reloaded from their files
// (ReloadTls() and the file watcher) while connections stay open, broken
// files keeping the old certificate, and TLS 1.0 / 1.1 refused. Clients
// are raw OpenSSL (gateway/server/tls_probe.h) to see which certificate a
// handshake got.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "gateway/mllp/mllp_listener.h"
#include "gateway/mllp/mllp_test_util.h"
#include "gateway/server/tls_probe.h"

namespace genogate::gateway {
namespace {

using testing::Frame;
using testing::TlsProbe;

class EchoHandler : public MllpHandler {
 public:
  std::string OnMessage(std::string_view er7, const MllpPeer&) override {
    return "ACK|" + std::string(er7);
  }
  std::string OnFramingError(const mappers::hl7v2::MllpEvent&,
                             const MllpPeer&) override {
    return "FRAMING";
  }
};

void Install(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to + ".new",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(to + ".new", to);
}

class MllpTlsReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-mllpreload-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    ASSERT_TRUE(testing::MakeServerCert(dir_, "mllp-a"));
    ASSERT_TRUE(testing::MakeServerCert(dir_, "mllp-b"));
    Install(dir_ + "/mllp-a.pem", Cert());
    Install(dir_ + "/mllp-a.key", Key());
  }
  void TearDown() override {
    listener_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Cert() const { return dir_ + "/live.pem"; }
  std::string Key() const { return dir_ + "/live.key"; }

  void Start(std::chrono::milliseconds watch) {
    MllpListenerOptions o;
    o.port = 0;
    o.tls = true;
    o.tls_options.cert_file = Cert();
    o.tls_options.key_file = Key();
    o.tls_options.watch_interval = watch;
    o.log = [this](std::string_view line) {
      std::lock_guard lock(mu_);
      logs_.append(line);
      logs_ += "\n";
    };
    Result<std::unique_ptr<MllpListener>> l = MllpListener::Start(o, &handler_);
    ASSERT_TRUE(l.ok()) << l.error().ToString();
    listener_ = std::move(l).value();
  }

  TlsProbe::Options Trusting() const {
    TlsProbe::Options o;
    o.ca_file = dir_ + "/ca.pem";
    return o;
  }

  // Sends one frame on `c`; the answer's frame content.
  std::string Send(TlsProbe& c, const std::string& message) {
    c.Write(Frame(message));
    std::string got = c.ReadUntil("\x1c\r");
    if (got.size() < 3) return "";
    return got.substr(1, got.size() - 3);
  }

  std::string Logs() {
    std::lock_guard lock(mu_);
    return logs_;
  }

  std::string dir_;
  EchoHandler handler_;
  std::mutex mu_;
  std::string logs_;
  std::unique_ptr<MllpListener> listener_;
};

TEST_F(MllpTlsReloadTest, NewConnectionsGetTheNewCertificateOpenOnesGoOn) {
  Start(std::chrono::milliseconds(0));
  TlsProbe before(listener_->port(), Trusting());
  ASSERT_TRUE(before.ok()) << before.error();
  EXPECT_EQ(before.server_cn(), "mllp-a");
  EXPECT_EQ(Send(before, "one"), "ACK|one");

  Install(dir_ + "/mllp-b.pem", Cert());
  Install(dir_ + "/mllp-b.key", Key());
  Status reloaded = listener_->ReloadTls();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().ToString();
  EXPECT_EQ(listener_->stats().tls_reloads, 1u);

  TlsProbe after(listener_->port(), Trusting());
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after.server_cn(), "mllp-b");
  EXPECT_EQ(Send(after, "two"), "ACK|two");
  // The connection made with certificate A goes on.
  EXPECT_EQ(Send(before, "three"), "ACK|three");
  EXPECT_NE(Logs().find("TLS certificate reloaded: subject CN=mllp-b"),
            std::string::npos)
      << Logs();
}

TEST_F(MllpTlsReloadTest, BrokenFilesKeepTheCertificateInUse) {
  Start(std::chrono::milliseconds(0));
  std::ofstream(Cert()) << "garbage\n";
  Status s = listener_->ReloadTls();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.error().message().find("MLLP TLS certificate " + Cert()),
            std::string::npos)
      << s.error().message();
  Install(dir_ + "/mllp-b.pem", Cert());  // B's certificate, A's key
  s = listener_->ReloadTls();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("does not match"), std::string::npos)
      << s.error().message();
  EXPECT_EQ(listener_->stats().tls_reloads, 0u);

  TlsProbe c(listener_->port(), Trusting());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.server_cn(), "mllp-a");
  EXPECT_EQ(Send(c, "still"), "ACK|still");
  EXPECT_NE(Logs().find("TLS reload failed, keeping the previous certificate"),
            std::string::npos)
      << Logs();
}

TEST_F(MllpTlsReloadTest, ChangedFilesAreReloadedWithoutASignal) {
  Start(std::chrono::milliseconds(20));
  Install(dir_ + "/mllp-b.pem", Cert());
  Install(dir_ + "/mllp-b.key", Key());
  std::string cn;
  for (int i = 0; i < 2000 && cn != "mllp-b"; ++i) {
    TlsProbe c(listener_->port(), Trusting());
    ASSERT_TRUE(c.ok()) << c.error();
    cn = c.server_cn();
    if (cn != "mllp-b") {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_EQ(cn, "mllp-b") << Logs();
}

TEST_F(MllpTlsReloadTest, Tls10And11AreRefused) {
  Start(std::chrono::milliseconds(0));
  TlsProbe::Options tls12 = Trusting();
  tls12.max_version = TLS1_2_VERSION;
  TlsProbe modern(listener_->port(), tls12);
  ASSERT_TRUE(modern.ok()) << modern.error();
  EXPECT_EQ(modern.version(), TLS1_2_VERSION);
  EXPECT_EQ(Send(modern, "hello"), "ACK|hello");
  testing::ExpectLegacyVersionRefused(listener_->port(), TLS1_VERSION, Cert(),
                                      Key());
  testing::ExpectLegacyVersionRefused(listener_->port(), TLS1_1_VERSION, Cert(),
                                      Key());
}

TEST_F(MllpTlsReloadTest, MinVersion13RefusesTls12) {
  EchoHandler h;
  MllpListenerOptions o;
  o.port = 0;
  o.tls = true;
  o.tls_options.cert_file = Cert();
  o.tls_options.key_file = Key();
  o.tls_options.min_version = TlsMinVersion::kTls13;
  Result<std::unique_ptr<MllpListener>> l = MllpListener::Start(o, &h);
  ASSERT_TRUE(l.ok()) << l.error().ToString();
  TlsProbe::Options tls12 = Trusting();
  tls12.max_version = TLS1_2_VERSION;
  TlsProbe old((*l)->port(), tls12);
  EXPECT_FALSE(old.ok());
  EXPECT_TRUE(old.protocol_version_alert()) << old.error();
  TlsProbe modern((*l)->port(), Trusting());
  ASSERT_TRUE(modern.ok()) << modern.error();
  EXPECT_EQ(modern.version(), TLS1_3_VERSION);
}

}  // namespace
}  // namespace genogate::gateway

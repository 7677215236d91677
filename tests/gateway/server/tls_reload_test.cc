// The HTTP server's TLS: certificate and key reloaded from their files
// (ReloadTls() and the file watcher) without dropping open connections,
// broken files keeping the old certificate, and TLS 1.0 / 1.1 refused.
// Clients are raw OpenSSL (tls_probe.h), so the tests see which
// certificate each handshake got.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "gateway/server/http_server.h"
#include "gateway/server/tls_probe.h"

namespace genogate::gateway {
namespace {

using testing::TlsProbe;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Replaces `to` by a copy of `from` the way rotation tools do: write a new
// file, then rename it over the old one.
void Install(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to + ".new",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(to + ".new", to);
}

class HttpTlsReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-tlsreload-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    ASSERT_TRUE(testing::MakeServerCert(dir_, "gw-a"));
    ASSERT_TRUE(testing::MakeServerCert(dir_, "gw-b"));
    Install(dir_ + "/gw-a.pem", Cert());
    Install(dir_ + "/gw-a.key", Key());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Cert() const { return dir_ + "/live.pem"; }
  std::string Key() const { return dir_ + "/live.key"; }

  void Start(std::chrono::milliseconds watch) {
    auto router = std::make_shared<Router>();
    ASSERT_TRUE(router
                    ->Add("GET", "/ping", "ping",
                          [](const HttpRequest&) {
                            HttpResponse r;
                            r.body = "pong";
                            return r;
                          })
                    .ok());
    HttpServerOptions o;
    o.port = 0;
    o.tls_cert_file = Cert();
    o.tls_key_file = Key();
    o.tls_watch_interval = watch;
    Result<std::unique_ptr<HttpServer>> s =
        HttpServer::Start(o, router, nullptr, &logger_);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    server_ = std::move(s).value();
  }

  TlsProbe::Options Trusting() const {
    TlsProbe::Options o;
    o.ca_file = dir_ + "/ca.pem";
    return o;
  }

  std::string Ping(TlsProbe& c) {
    c.Write("GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n");
    return c.ReadUntil("pong");
  }

  std::string Logs() {
    std::lock_guard lock(mu_);
    return logs_;
  }

  std::string dir_;
  std::mutex mu_;
  std::string logs_;
  Logger logger_{LogLevel::kInfo, [this](std::string_view line) {
                   std::lock_guard lock(mu_);
                   logs_.append(line);
                 }};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpTlsReloadTest, NewConnectionsGetTheNewCertificateOpenOnesGoOn) {
  Start(std::chrono::milliseconds(0));
  TlsProbe before(server_->port(), Trusting());
  ASSERT_TRUE(before.ok()) << before.error();
  EXPECT_EQ(before.server_cn(), "gw-a");
  EXPECT_NE(Ping(before).find("HTTP/1.1 200"), std::string::npos);

  Install(dir_ + "/gw-b.pem", Cert());
  Install(dir_ + "/gw-b.key", Key());
  Status reloaded = server_->ReloadTls();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().ToString();

  TlsProbe after(server_->port(), Trusting());
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after.server_cn(), "gw-b");
  EXPECT_NE(Ping(after).find("HTTP/1.1 200"), std::string::npos);
  // The connection opened with certificate A is still served.
  EXPECT_NE(Ping(before).find("HTTP/1.1 200"), std::string::npos);
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"event\":\"tls.reloaded\""), std::string::npos) << logs;
  EXPECT_NE(logs.find("CN=gw-b"), std::string::npos) << logs;
}

TEST_F(HttpTlsReloadTest, BrokenFilesKeepTheCertificateInUse) {
  Start(std::chrono::milliseconds(0));
  const std::string key_a = ReadAll(Key());
  ASSERT_NE(key_a.find("PRIVATE KEY"), std::string::npos);

  // A corrupt certificate.
  std::ofstream(Cert()) << "-----BEGIN CERTIFICATE-----\nnot base64 at all\n";
  Status s = server_->ReloadTls();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.error().message().find(Cert()), std::string::npos)
      << s.error().message();
  // Certificate B with key A: they do not match.
  Install(dir_ + "/gw-b.pem", Cert());
  s = server_->ReloadTls();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("does not match"), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find(Key()), std::string::npos);
  // A corrupt key.
  std::ofstream(Key()) << "-----BEGIN PRIVATE KEY-----\nAAAA\n";
  EXPECT_FALSE(server_->ReloadTls().ok());
  // A missing key.
  std::filesystem::remove(Key());
  EXPECT_FALSE(server_->ReloadTls().ok());

  // A good pair whose key others may read.
  Install(dir_ + "/gw-b.key", Key());
  std::filesystem::permissions(Key(), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  s = server_->ReloadTls();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("accessible by other users"),
            std::string::npos)
      << s.error().message();

  TlsProbe c(server_->port(), Trusting());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.server_cn(), "gw-a");
  EXPECT_NE(Ping(c).find("HTTP/1.1 200"), std::string::npos);
  // Fixed: the next reload takes it.
  std::filesystem::permissions(Key(), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::remove);
  ASSERT_TRUE(server_->ReloadTls().ok());
  TlsProbe fixed(server_->port(), Trusting());
  ASSERT_TRUE(fixed.ok()) << fixed.error();
  EXPECT_EQ(fixed.server_cn(), "gw-b");
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"event\":\"tls.reload_failed\""), std::string::npos)
      << logs;
  EXPECT_NE(logs.find("keeping the previous certificate"), std::string::npos);
  // No key material in the log: not a line of key A's PEM body.
  std::istringstream lines(key_a);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.rfind("-----", 0) == 0) continue;
    EXPECT_EQ(logs.find(line), std::string::npos);
  }
}

TEST_F(HttpTlsReloadTest, StartRefusesAKeyOthersCanRead) {
  std::filesystem::permissions(Key(), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  HttpServerOptions o;
  o.port = 0;
  o.tls_cert_file = Cert();
  o.tls_key_file = Key();
  Result<std::unique_ptr<HttpServer>> s =
      HttpServer::Start(o, std::make_shared<Router>(), nullptr, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.error().message(), "the TLS key " + Key() +
                                     " is accessible by other users; chmod "
                                     "600 or 640 it");
}

TEST_F(HttpTlsReloadTest, ChangedFilesAreReloadedWithoutASignal) {
  Start(std::chrono::milliseconds(20));
  Install(dir_ + "/gw-b.key", Key());  // key first: a mismatch for a while
  Install(dir_ + "/gw-b.pem", Cert());
  std::string cn;
  for (int i = 0; i < 2000 && cn != "gw-b"; ++i) {
    TlsProbe c(server_->port(), Trusting());
    ASSERT_TRUE(c.ok()) << c.error();  // never without a certificate
    cn = c.server_cn();
    if (cn != "gw-b")
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(cn, "gw-b") << Logs();
}

TEST_F(HttpTlsReloadTest, Tls10And11AreRefused) {
  Start(std::chrono::milliseconds(0));
  TlsProbe::Options tls12 = Trusting();
  tls12.max_version = TLS1_2_VERSION;
  TlsProbe modern(server_->port(), tls12);
  ASSERT_TRUE(modern.ok()) << modern.error();
  EXPECT_EQ(modern.version(), TLS1_2_VERSION);
  testing::ExpectLegacyVersionRefused(server_->port(), TLS1_VERSION, Cert(),
                                      Key());
  testing::ExpectLegacyVersionRefused(server_->port(), TLS1_1_VERSION, Cert(),
                                      Key());
}

TEST_F(HttpTlsReloadTest, MinVersion13RefusesTls12) {
  auto router = std::make_shared<Router>();
  HttpServerOptions o;
  o.port = 0;
  o.tls_cert_file = Cert();
  o.tls_key_file = Key();
  o.tls_min_version = TlsMinVersion::kTls13;
  Result<std::unique_ptr<HttpServer>> s =
      HttpServer::Start(o, router, nullptr, nullptr);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  TlsProbe::Options tls12 = Trusting();
  tls12.max_version = TLS1_2_VERSION;
  TlsProbe old(s.value()->port(), tls12);
  EXPECT_FALSE(old.ok());
  EXPECT_TRUE(old.protocol_version_alert()) << old.error();
  TlsProbe modern(s.value()->port(), Trusting());
  ASSERT_TRUE(modern.ok()) << modern.error();
  EXPECT_EQ(modern.version(), TLS1_3_VERSION);
}

}  // namespace
}  // namespace genogate::gateway

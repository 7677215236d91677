// The HTTP server over TLS and mTLS, with the project's HttpClient as the
// client and certificates generated per test with the openssl command line.
#include <gtest/gtest.h>

#include <filesystem>

#include "gateway/http/http_client.h"
#include "gateway/http/test_peers.h"
#include "gateway/server/whoami_server.h"

namespace genogate::gateway {
namespace {

using testing::Sh;

class HttpServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-srvtls-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
    // A CA, a server certificate for localhost, and a lab's client
    // certificate with a URI and a DNS subjectAltName.
    ASSERT_TRUE(Sh(
        "cd '" + dir_ + "' && openssl req -x509 " + ec +
        " -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca "
        "2>/dev/null && openssl req " +
        ec +
        " -nodes -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null"
        " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > srv.ext"
        " && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out srv.pem -days 2 -extfile srv.ext 2>/dev/null"
        " && openssl req " +
        ec +
        " -nodes -keyout lab.key -out lab.csr -subj '/O=Example Lab/CN=lab-a'"
        " 2>/dev/null && printf 'subjectAltName=URI:urn:genogate:lab:lab-a,"
        "DNS:lab-a.example\\n' > lab.ext && openssl x509 -req -in lab.csr -CA "
        "ca.pem -CAkey ca.key -CAcreateserial -out lab.pem -days 2 -extfile "
        "lab.ext 2>/dev/null"
        // A second CA whose client certificates the server must refuse.
        " && openssl req -x509 " +
        ec +
        " -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other-ca"
        " 2>/dev/null"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<HttpClient> Client(bool with_cert,
                                     const std::string& cert = "lab") {
    HttpClientOptions o;
    o.ca_file = dir_ + "/ca.pem";
    o.connect_timeout = std::chrono::milliseconds(5000);
    o.io_timeout = std::chrono::milliseconds(5000);
    if (with_cert) {
      o.client_cert_file = dir_ + "/" + cert + ".pem";
      o.client_key_file = dir_ + "/" + cert + ".key";
    }
    Result<std::unique_ptr<HttpClient>> c = NewHttpClient(o);
    EXPECT_TRUE(c.ok());
    return c.ok() ? std::move(c).value() : nullptr;
  }

  Result<HttpResponse> Get(HttpClient& c, int port) {
    HttpRequest r;
    r.url = "https://localhost:" + std::to_string(port) + "/whoami";
    return c.Send(r);
  }

  std::string dir_;
};

TEST_F(HttpServerTlsTest, ServesOverTls) {
  std::string error;
  auto server = testing::StartWhoAmIServer(dir_ + "/srv.pem", dir_ + "/srv.key",
                                           "", &error);
  ASSERT_NE(server, nullptr) << error;
  auto client = Client(false);
  Result<HttpResponse> r = Get(*client, server->port());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "tls=1\nsubject=\n");
  // Keep-alive over TLS: a second request on the pooled connection.
  Result<HttpResponse> again = Get(*client, server->port());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
  // A client that does not trust the server's CA fails verification.
  HttpClientOptions untrusting;
  untrusting.ca_file = dir_ + "/other.pem";
  auto other = NewHttpClient(untrusting);
  ASSERT_TRUE(other.ok());
  Result<HttpResponse> refused = Get(**other, server->port());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
}

// TLS 1.2 with the openssl command line. That TLS 1.0 and 1.1 are refused
// is shown in tls_reload_test.cc with a client that can really speak them
// (s_client's failure could be its own security level's doing).
TEST_F(HttpServerTlsTest, Tls12WithOpensslCommandLine) {
  std::string error;
  auto server = testing::StartWhoAmIServer(dir_ + "/srv.pem", dir_ + "/srv.key",
                                           "", &error);
  ASSERT_NE(server, nullptr) << error;
  std::string connect =
      "openssl s_client -connect 127.0.0.1:" + std::to_string(server->port()) +
      " -CAfile '" + dir_ +
      "/ca.pem' </dev/null >/dev/null "
      "2>&1";
  EXPECT_TRUE(Sh(connect + " -tls1_2"));
}

TEST_F(HttpServerTlsTest, MutualTlsExposesTheClientIdentity) {
  std::string error;
  auto server = testing::StartWhoAmIServer(dir_ + "/srv.pem", dir_ + "/srv.key",
                                           dir_ + "/ca.pem", &error);
  ASSERT_NE(server, nullptr) << error;
  auto with = Client(true);
  Result<HttpResponse> r = Get(*with, server->port());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body,
            "tls=1\nsubject=CN=lab-a,O=Example Lab\n"
            "san=URI:urn:genogate:lab:lab-a\nsan=DNS:lab-a.example\n");

  // No client certificate: the handshake fails, no request reaches a
  // handler.
  auto without = Client(false);
  Result<HttpResponse> refused = Get(*without, server->port());
  EXPECT_FALSE(refused.ok());

  // A certificate from another CA: refused too.
  ASSERT_TRUE(Sh("cd '" + dir_ +
                 "' && openssl req -newkey ec -pkeyopt "
                 "ec_paramgen_curve:prime256v1 -nodes -keyout rogue.key -out "
                 "rogue.csr -subj /CN=rogue 2>/dev/null && openssl x509 -req "
                 "-in rogue.csr -CA other.pem -CAkey other.key "
                 "-CAcreateserial -out rogue.pem -days 2 2>/dev/null"));
  auto rogue = Client(true, "rogue");
  EXPECT_FALSE(Get(*rogue, server->port()).ok());
}

}  // namespace
}  // namespace genogate::gateway

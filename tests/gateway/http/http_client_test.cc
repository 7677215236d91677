// The Beast HttpClient against loopback peers: a scripted HTTP server, a
// CONNECT proxy and `openssl s_server` with a CA generated in the test.
#include "gateway/http/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "gateway/http/test_peers.h"

namespace genogate::gateway {
namespace {

using testing::FreePort;
using testing::TestConnectProxy;
using testing::TestHttpServer;
using testing::TlsServer;

std::unique_ptr<HttpClient> Client(HttpClientOptions o = {}) {
  Result<std::unique_ptr<HttpClient>> c = NewHttpClient(o);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().ToString());
  return c.ok() ? std::move(c).value() : nullptr;
}

std::string TempDir() {
  std::string t =
      (std::filesystem::temp_directory_path() / "genogate-http-XXXXXX")
          .string();
  char* d = ::mkdtemp(t.data());
  EXPECT_NE(d, nullptr);
  return t;
}

TEST(UrlTest, ParsesAndRejects) {
  Result<Url> u = ParseUrl("HTTPS://EHR.example.org:8443/fhir?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "ehr.example.org");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/fhir?x=1");
  EXPECT_EQ(u->Origin(), "https://ehr.example.org:8443");
  Result<Url> v6 = ParseUrl("http://[::1]/");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 80);
  EXPECT_FALSE(ParseUrl("ftp://x/").ok());
  EXPECT_FALSE(ParseUrl("http://user:pw@x/").ok());
  EXPECT_FALSE(ParseUrl("http://x:99999/").ok());
  EXPECT_FALSE(ParseUrl("http://x/a b").ok());
  EXPECT_FALSE(ParseUrl("http:///x").ok());
}

TEST(HttpClientTest, SendsRequestAndReusesConnection) {
  std::string seen_head, seen_body;
  TestHttpServer server([&](const std::string& head, const std::string& body) {
    seen_head = head;
    seen_body = body;
    return TestHttpServer::Response(201, "{\"ok\":true}",
                                    "Location: Patient/1\r\n");
  });
  auto client = Client();
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    HttpRequest req;
    req.method = "POST";
    req.url = server.url() + "/fhir?a=1";
    req.headers = {{"Content-Type", "application/fhir+json"}};
    req.body = "{\"resourceType\":\"Bundle\"}";
    Result<HttpResponse> res = client->Send(req);
    ASSERT_TRUE(res.ok()) << res.error().ToString();
    EXPECT_EQ(res->status, 201);
    EXPECT_EQ(res->body, "{\"ok\":true}");
    EXPECT_EQ(res->Header("location"), "Patient/1");
  }
  EXPECT_EQ(seen_body, "{\"resourceType\":\"Bundle\"}");
  EXPECT_NE(seen_head.find("POST /fhir?a=1 HTTP/1.1"), std::string::npos);
  EXPECT_NE(seen_head.find("Content-Type: application/fhir+json"),
            std::string::npos);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.connections(), 1);  // keep-alive
}

TEST(HttpClientTest, RetriesOnceWhenIdleConnectionWasClosed) {
  int n = 0;
  TestHttpServer server([&](const std::string&, const std::string&) {
    // The first answer keeps the connection open, then the server drops it
    // on the next request without answering (as after a keep-alive timeout).
    ++n;
    if (n == 2) return std::string();
    return TestHttpServer::Response(200, "x");
  });
  auto client = Client();
  HttpRequest req;
  req.url = server.url() + "/";
  ASSERT_TRUE(client->Send(req).ok());
  Result<HttpResponse> res = client->Send(req);
  ASSERT_TRUE(res.ok()) << res.error().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  auto client = Client();
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(FreePort()) + "/fhir";
  Result<HttpResponse> res = client->Send(req);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(res.error().retryable());
  EXPECT_NE(res.error().message().find("127.0.0.1:"), std::string::npos);
}

TEST(HttpClientTest, ReadTimeoutIsTimeout) {
  TestHttpServer server(
      [](const std::string&, const std::string&) { return "HANG"; });
  HttpClientOptions o;
  o.io_timeout = std::chrono::milliseconds(300);
  auto client = Client(o);
  HttpRequest req;
  req.url = server.url() + "/slow";
  auto t0 = std::chrono::steady_clock::now();
  Result<HttpResponse> res = client->Send(req);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code(), ErrorCode::kTimeout);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(HttpClientTest, BodyLimitAndRedirectIsAResponse) {
  TestHttpServer server([](const std::string& head, const std::string&) {
    if (head.find("GET /big") == 0) {
      return TestHttpServer::Response(200, std::string(5000, 'x'));
    }
    return TestHttpServer::Response(302, "", "Location: http://elsewhere/\r\n");
  });
  HttpClientOptions o;
  o.max_response_bytes = 1000;
  auto client = Client(o);
  HttpRequest req;
  req.url = server.url() + "/big";
  Result<HttpResponse> big = client->Send(req);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), ErrorCode::kLimitExceeded);
  req.url = server.url() + "/moved";
  Result<HttpResponse> moved = client->Send(req);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->status, 302);  // not followed
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpClientTest, PlainHttpThroughProxyUsesAbsoluteForm) {
  std::string seen;
  TestHttpServer proxy([&](const std::string& head, const std::string&) {
    seen = head.substr(0, head.find("\r\n"));
    return TestHttpServer::Response(200, "via proxy");
  });
  HttpClientOptions o;
  o.proxy_url = proxy.url();
  auto client = Client(o);
  HttpRequest req;
  req.url = "http://127.0.0.1:1/fhir/metadata";
  Result<HttpResponse> res = client->Send(req);
  ASSERT_TRUE(res.ok()) << res.error().ToString();
  EXPECT_EQ(res->body, "via proxy");
  EXPECT_EQ(seen, "GET http://127.0.0.1:1/fhir/metadata HTTP/1.1");
  o.proxy_url = "https://127.0.0.1:1";
  EXPECT_FALSE(NewHttpClient(o).ok());
}

TEST(HttpClientTest, ConcurrentSendsShareThePool) {
  TestHttpServer server([](const std::string& head, const std::string&) {
    return TestHttpServer::Response(200, head.substr(0, head.find(' ')));
  });
  HttpClientOptions o;
  o.max_idle_per_host = 2;
  auto client = Client(o);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        HttpRequest req;
        req.url = server.url() + "/x";
        Result<HttpResponse> r = client->Send(req);
        if (r.ok() && r->status == 200 && r->body == "GET") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 100);
  EXPECT_EQ(server.requests(), 100);
  // At most one connection per concurrent caller at any time, reused.
  EXPECT_LE(server.connections(), 40);
}

TEST(HttpClientTest, BadCaFileFailsAtCreation) {
  HttpClientOptions o;
  o.ca_file = "/nonexistent/ca.pem";
  Result<std::unique_ptr<HttpClient>> c = NewHttpClient(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kFailedPrecondition);
  o.ca_file.clear();
  o.client_cert_file = "x.pem";
  EXPECT_FALSE(NewHttpClient(o).ok());
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    server_ = std::make_unique<TlsServer>(dir_);
    ASSERT_TRUE(server_->MakeCerts());
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<TlsServer> server_;
};

TEST_F(TlsTest, TrustedCaAndMatchingHostSucceeds) {
  HttpClientOptions o;
  o.ca_file = server_->ca();
  auto client = Client(o);
  HttpRequest req;
  req.url = "https://localhost:" + std::to_string(server_->port()) + "/";
  Result<HttpResponse> res = client->Send(req);
  ASSERT_TRUE(res.ok()) << res.error().ToString();
  EXPECT_EQ(res->status, 200);
}

TEST_F(TlsTest, WrongHostNameIsFailedPrecondition) {
  HttpClientOptions o;
  o.ca_file = server_->ca();
  auto client = Client(o);
  HttpRequest req;
  // The certificate names DNS:localhost only.
  req.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/";
  Result<HttpResponse> res = client->Send(req);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(res.error().retryable());
  EXPECT_NE(res.error().message().find("127.0.0.1:"), std::string::npos);
  EXPECT_NE(res.error().message().find("verification failed"),
            std::string::npos);
}

TEST_F(TlsTest, UnknownCaIsFailedPrecondition) {
  auto client = Client();  // system store: does not know the test CA
  HttpRequest req;
  req.url = "https://localhost:" + std::to_string(server_->port()) + "/";
  Result<HttpResponse> res = client->Send(req);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(res.error().message().find("localhost:"), std::string::npos);
}

TEST_F(TlsTest, HttpsThroughConnectProxy) {
  TestConnectProxy proxy;
  HttpClientOptions o;
  o.ca_file = server_->ca();
  o.proxy_url = proxy.url();
  auto client = Client(o);
  HttpRequest req;
  req.url = "https://localhost:" + std::to_string(server_->port()) + "/";
  Result<HttpResponse> res = client->Send(req);
  ASSERT_TRUE(res.ok()) << res.error().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(proxy.tunnels(), 1);
  EXPECT_EQ(
      proxy.last_request_line(),
      "CONNECT localhost:" + std::to_string(server_->port()) + " HTTP/1.1");
}

TEST(TlsClientCertTest, MutualTls) {
  std::string dir = TempDir();
  {
    TlsServer server(dir);
    ASSERT_TRUE(server.MakeCerts());
    ASSERT_TRUE(testing::Sh(
        "cd '" + dir +
        "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -keyout cli.key -out cli.csr -subj /CN=genogate 2>/dev/null "
        "&& openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out cli.pem -days 2 2>/dev/null"));
    ASSERT_TRUE(server.Start({"-Verify", "1", "-CAfile", server.ca()}));
    HttpRequest req;
    req.url = "https://localhost:" + std::to_string(server.port()) + "/";
    HttpClientOptions o;
    o.ca_file = server.ca();
    auto anonymous = Client(o);
    EXPECT_FALSE(anonymous->Send(req).ok());
    o.client_cert_file = dir + "/cli.pem";
    o.client_key_file = dir + "/cli.key";
    auto with_cert = Client(o);
    Result<HttpResponse> res = with_cert->Send(req);
    ASSERT_TRUE(res.ok()) << res.error().ToString();
    EXPECT_EQ(res->status, 200);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace genogate::gateway

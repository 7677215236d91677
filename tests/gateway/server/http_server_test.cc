// The Beast HttpServer over real loopback sockets: routing, keep-alive and
// pipelining, limits (413, 431, 408, max connections), gzip bodies and zip
// bombs, 503 back-pressure, graceful shutdown, metrics and logs. A raw
// socket client sends exactly the bytes each case needs (malformed, slow,
// partial requests).
#include "gateway/server/http_server.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gateway/http/test_peers.h"
#include "gateway/server/health.h"
#include "gateway/server/whoami_server.h"

namespace genogate::gateway {
namespace {

using testing::ConnectLoopback;
using testing::WriteAll;

struct RawResponse {
  int status = 0;  // 0: no complete response (closed or timed out)
  std::string head;
  std::string body;

  std::string Header(std::string_view name) const {
    std::string lower_head;
    for (char c : head) lower_head += static_cast<char>(std::tolower(c));
    std::string key = "\r\n";
    for (char c : name) key += static_cast<char>(std::tolower(c));
    key += ":";
    size_t p = lower_head.find(key);
    if (p == std::string::npos) return "";
    size_t start = p + key.size();
    size_t end = head.find("\r\n", start);
    std::string v = head.substr(start, end - start);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
  }
};

// One client connection on plain sockets.
class Conn {
 public:
  explicit Conn(int port) : fd_(ConnectLoopback(port)) {}
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  bool Send(std::string_view bytes) { return WriteAll(fd_, bytes); }

  // Reads one response; HEAD answers have no body whatever Content-Length
  // says.
  RawResponse Read(bool head_only = false, int timeout_ms = 10000) {
    RawResponse r;
    while (buf_.find("\r\n\r\n") == std::string::npos) {
      if (!Fill(timeout_ms)) return r;
    }
    size_t end = buf_.find("\r\n\r\n");
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    size_t length = 0;
    std::string cl = r.Header("Content-Length");
    if (!cl.empty() && !head_only) length = std::stoul(cl);
    while (buf_.size() < length) {
      if (!Fill(timeout_ms)) return r;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    r.status = std::atoi(r.head.substr(9, 3).c_str());
    return r;
  }

  // True if the server closes the connection within the time.
  bool WaitClosed(int timeout_ms = 10000) {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) return true;
    }
  }

 private:
  bool Fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string buf_;
};

std::string Request(std::string_view method, std::string_view target,
                    std::string_view body = {}, std::string extra = {}) {
  std::string r = std::string(method) + " " + std::string(target) +
                  " HTTP/1.1\r\nHost: test\r\n" + extra;
  if (!body.empty() || method == "POST") {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + std::string(body);
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A gate handlers wait at until the test opens it.
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Blocks until n handlers are waiting.
  bool AwaitWaiting(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10),
                        [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "text/plain");
  r.body = std::move(body);
  return r;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    gate_.Open();
    if (server_) server_->Stop(std::chrono::milliseconds(0));
  }

  static HttpServerOptions Options() {
    HttpServerOptions o;
    o.port = 0;
    o.handler_threads = 2;
    o.max_body_bytes = 1000;
    o.body_limits = {{"text/x-vcf", 5000}, {"text/plain", 64 * 1024}};
    return o;
  }

  void Start(HttpServerOptions o = Options()) {
    auto router = std::make_shared<Router>();
    ASSERT_TRUE(router
                    ->Add("GET", "/things/{id}", "things.get",
                          [](const HttpRequest& r) {
                            return Text(200, "id=" + r.path_params.at("id"));
                          })
                    .ok());
    ASSERT_TRUE(router
                    ->Add("POST", "/echo", "echo",
                          [](const HttpRequest& r) {
                            HttpResponse res = Text(200, r.body);
                            res.SetHeader(
                                "X-Seen-Encoding",
                                std::string(r.Header("Content-Encoding")));
                            return res;
                          })
                    .ok());
    ASSERT_TRUE(
        router
            ->Add("GET", "/slow", "slow",
                  [](const HttpRequest& r) {
                    int ms = std::atoi(
                        std::string(r.Query("ms").value_or("0")).c_str());
                    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                    return Text(200, "slow " + std::to_string(ms));
                  })
            .ok());
    ASSERT_TRUE(router
                    ->Add("GET", "/block", "block",
                          [this](const HttpRequest&) {
                            gate_.Wait();
                            return Text(200, "unblocked");
                          })
                    .ok());
    ASSERT_TRUE(
        router
            ->Add("POST", "/submit", "submit",
                  [](const HttpRequest&) { return Text(202, "queued"); },
                  {.shed_when_overloaded = true})
            .ok());
    ASSERT_TRUE(AddOperationsRoutes(router.get(), &metrics_, {}).ok());
    o.overloaded = [this] { return overloaded_.load(); };
    Result<std::unique_ptr<HttpServer>> s =
        HttpServer::Start(o, router, &metrics_, &logger_);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    server_ = std::move(s).value();
  }

  int port() const { return server_->port(); }

  RawResponse Exchange(const std::string& request, bool head_only = false) {
    Conn c(port());
    EXPECT_TRUE(c.ok());
    EXPECT_TRUE(c.Send(request));
    return c.Read(head_only);
  }

  std::string Logs() {
    std::lock_guard lock(log_mu_);
    return logs_;
  }

  MetricsRegistry metrics_;
  std::mutex log_mu_;
  std::string logs_;
  Logger logger_{LogLevel::kDebug, [this](std::string_view line) {
                   std::lock_guard lock(log_mu_);
                   logs_ += line;
                 }};
  std::atomic<bool> overloaded_{false};
  Gate gate_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, RoutesWithPathParametersAndErrors) {
  Start();
  RawResponse ok = Exchange(Request("GET", "/things/a%20b?x=1"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "id=a b");
  EXPECT_EQ(ok.Header("Server"), "genogate");
  EXPECT_FALSE(ok.Header("Date").empty());

  RawResponse missing = Exchange(Request("GET", "/nothing/here"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("Content-Type"), "application/fhir+json");
  EXPECT_NE(missing.body.find("\"resourceType\":\"OperationOutcome\""),
            std::string::npos);
  EXPECT_NE(missing.body.find("\"code\":\"not-found\""), std::string::npos);

  RawResponse wrong = Exchange(Request("DELETE", "/things/1"));
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("Allow"), "GET, HEAD");
  EXPECT_NE(wrong.body.find("OperationOutcome"), std::string::npos);

  RawResponse head = Exchange(Request("HEAD", "/things/abc"), true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), "6");
  EXPECT_EQ(head.body, "");
}

TEST_F(HttpServerTest, RequestIdIsEchoedOrGenerated) {
  Start();
  RawResponse given =
      Exchange(Request("GET", "/things/1", {}, "X-Request-Id: lab-42.a_b\r\n"));
  EXPECT_EQ(given.Header("X-Request-Id"), "lab-42.a_b");
  RawResponse bad =
      Exchange(Request("GET", "/things/1", {}, "X-Request-Id: <script>\r\n"));
  std::string id = bad.Header("X-Request-Id");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find('<'), std::string::npos);
  RawResponse other = Exchange(Request("GET", "/things/1"));
  EXPECT_NE(other.Header("X-Request-Id"), id);
}

TEST_F(HttpServerTest, KeepAliveAndPipelinedRequestsAnswerInOrder) {
  Start();
  Conn c(port());
  ASSERT_TRUE(c.Send(Request("GET", "/things/1")));
  RawResponse first = c.Read();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "id=1");
  EXPECT_NE(first.Header("Connection"), "close");
  // Three requests in one write; the first is slow, yet answers keep order.
  ASSERT_TRUE(c.Send(Request("GET", "/slow?ms=150") +
                     Request("POST", "/echo", "hello") +
                     Request("GET", "/things/3")));
  EXPECT_EQ(c.Read().body, "slow 150");
  EXPECT_EQ(c.Read().body, "hello");
  EXPECT_EQ(c.Read().body, "id=3");
  ASSERT_TRUE(c.Send(Request("GET", "/things/4", {}, "Connection: close\r\n")));
  RawResponse last = c.Read();
  EXPECT_EQ(last.body, "id=4");
  EXPECT_EQ(last.Header("Connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, BodyLimitsPerContentType) {
  Start();
  // Content-Length over the limit: answered before any body byte is sent.
  Conn c(port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: "
             "application/json\r\nContent-Length: 1001\r\n\r\n"));
  RawResponse early = c.Read();
  EXPECT_EQ(early.status, 413);
  EXPECT_NE(early.body.find("too-costly"), std::string::npos);
  EXPECT_EQ(early.Header("Connection"), "close");

  std::string body(3000, 'v');
  RawResponse vcf =
      Exchange(Request("POST", "/echo", body, "Content-Type: text/x-vcf\r\n"));
  EXPECT_EQ(vcf.status, 200);
  EXPECT_EQ(vcf.body.size(), 3000u);
  RawResponse json = Exchange(
      Request("POST", "/echo", body, "Content-Type: application/json\r\n"));
  EXPECT_EQ(json.status, 413);
  RawResponse at_limit =
      Exchange(Request("POST", "/echo", std::string(1000, 'j'),
                       "Content-Type: application/json\r\n"));
  EXPECT_EQ(at_limit.status, 200);

  // Chunked: no Content-Length, the limit applies while reading.
  std::string chunk(600, 'c');
  std::string chunked =
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "258\r\n" +
      chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n";
  EXPECT_EQ(Exchange(chunked).status, 413);
  std::string small =
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "258\r\n" +
      chunk + "\r\n0\r\n\r\n";
  RawResponse small_r = Exchange(small);
  EXPECT_EQ(small_r.status, 200);
  EXPECT_EQ(small_r.body, chunk);
}

TEST_F(HttpServerTest, HeaderTooLargeIs431) {
  HttpServerOptions o = Options();
  o.max_header_bytes = 2048;
  Start(o);
  std::string big(4096, 'x');
  RawResponse r =
      Exchange(Request("GET", "/things/1", {}, "X-Big: " + big + "\r\n"));
  EXPECT_EQ(r.status, 431);
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
  // A head within the limit passes.
  EXPECT_EQ(Exchange(Request("GET", "/things/1", {},
                             "X-Big: " + std::string(1000, 'x') + "\r\n"))
                .status,
            200);
}

TEST_F(HttpServerTest, SlowHeadersGet408AndClose) {
  HttpServerOptions o = Options();
  o.header_timeout = std::chrono::milliseconds(300);
  Start(o);
  Conn c(port());
  // Slowloris: a few bytes of head, then nothing more.
  ASSERT_TRUE(c.Send("GET /things/1 HTTP/1.1\r\nHost: t\r\nX-A: "));
  RawResponse r = c.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, SlowBodyGets408) {
  HttpServerOptions o = Options();
  o.body_timeout = std::chrono::milliseconds(300);
  Start(o);
  Conn c(port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
             "100\r\n\r\nonly a little"));
  EXPECT_EQ(c.Read().status, 408);
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  HttpServerOptions o = Options();
  o.idle_timeout = std::chrono::milliseconds(200);
  Start(o);
  Conn c(port());
  ASSERT_TRUE(c.Send(Request("GET", "/things/1")));
  EXPECT_EQ(c.Read().status, 200);
  EXPECT_TRUE(c.WaitClosed());
  for (int i = 0; i < 500 && server_->active_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitGet503) {
  HttpServerOptions o = Options();
  o.max_connections = 2;
  Start(o);
  Conn a(port()), b(port());
  // Make sure both are accepted (and counted) before the third arrives.
  ASSERT_TRUE(a.Send(Request("GET", "/things/a")));
  EXPECT_EQ(a.Read().status, 200);
  ASSERT_TRUE(b.Send(Request("GET", "/things/b")));
  EXPECT_EQ(b.Read().status, 200);
  Conn c(port());
  ASSERT_TRUE(c.ok());
  RawResponse refused = c.Read();
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.Header("Retry-After"), "5");
  EXPECT_TRUE(c.WaitClosed());
  // The two kept connections still work.
  ASSERT_TRUE(a.Send(Request("GET", "/things/a2")));
  EXPECT_EQ(a.Read().body, "id=a2");
  EXPECT_NE(metrics_.Render().find(
                "genogate_http_refused_total{reason=\"connection_limit\"} 1"),
            std::string::npos);
}

TEST_F(HttpServerTest, GzipBodiesAreInflatedWithinTheLimit) {
  Start();
  std::string text = "##fileformat=VCFv4.2\n" + std::string(2000, 'A');
  RawResponse r = Exchange(
      Request("POST", "/echo", Gzip(text),
              "Content-Type: text/x-vcf\r\nContent-Encoding: gzip\r\n"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, text);
  EXPECT_EQ(r.Header("X-Seen-Encoding"), "gzip");
  // Two gzip members concatenated are one body.
  RawResponse two = Exchange(
      Request("POST", "/echo", Gzip("abc") + Gzip("def"),
              "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n"));
  EXPECT_EQ(two.body, "abcdef");
}

TEST_F(HttpServerTest, ZipBombIs413AndBadGzipIs400) {
  Start();
  // 10 MB of zeros compress to ~10 KB; the text/plain limit here is 64 KiB.
  std::string bomb = Gzip(std::string(10 << 20, '\0'));
  ASSERT_LT(bomb.size(), 64u * 1024);
  RawResponse r = Exchange(
      Request("POST", "/echo", bomb,
              "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n"));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("decompressed"), std::string::npos);
  std::string truncated = Gzip(std::string(500, 'x'));
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(Exchange(Request("POST", "/echo", truncated,
                             "Content-Encoding: gzip\r\n"))
                .status,
            400);
  EXPECT_EQ(Exchange(Request("POST", "/echo", "not gzip",
                             "Content-Encoding: gzip\r\n"))
                .status,
            400);
  EXPECT_EQ(Exchange(Request("POST", "/echo", "x", "Content-Encoding: br\r\n"))
                .status,
            415);
}

TEST_F(HttpServerTest, ExpectContinue) {
  Start();
  Conn c(port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
             "5\r\nExpect: 100-continue\r\n\r\n"));
  RawResponse cont = c.Read();
  EXPECT_EQ(cont.status, 100);
  ASSERT_TRUE(c.Send("hello"));
  RawResponse r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
}

TEST_F(HttpServerTest, FullHandlerQueueAnswers503) {
  HttpServerOptions o = Options();
  o.handler_threads = 1;
  o.handler_queue = 0;
  Start(o);
  Conn blocked(port());
  ASSERT_TRUE(blocked.Send(Request("GET", "/block")));
  ASSERT_TRUE(gate_.AwaitWaiting(1));
  RawResponse busy = Exchange(Request("GET", "/things/1"));
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.Header("Retry-After"), "5");
  EXPECT_NE(busy.body.find("transient"), std::string::npos);
  gate_.Open();
  EXPECT_EQ(blocked.Read().body, "unblocked");
  // The thread is free again once it has handed the answer back.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = Exchange(Request("GET", "/things/1")).status;
    if (status != 200)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpServerTest, OverloadedShedsSubmissionRoutesOnly) {
  Start();
  overloaded_ = true;
  Conn c(port());
  // Refused before the (large) body is sent.
  ASSERT_TRUE(
      c.Send("POST /submit HTTP/1.1\r\nHost: t\r\nContent-Length: "
             "900\r\n\r\n"));
  RawResponse shed = c.Read();
  EXPECT_EQ(shed.status, 503);
  EXPECT_EQ(shed.Header("Retry-After"), "5");
  EXPECT_NE(shed.body.find("overloaded"), std::string::npos);
  EXPECT_EQ(Exchange(Request("GET", "/things/1")).status, 200);
  overloaded_ = false;
  EXPECT_EQ(Exchange(Request("POST", "/submit", "x")).status, 202);
}

TEST_F(HttpServerTest, GracefulShutdownFinishesInFlightRequests) {
  Start();
  Conn idle(port());
  ASSERT_TRUE(idle.Send(Request("GET", "/things/1")));
  EXPECT_EQ(idle.Read().status, 200);
  Conn busy(port());
  ASSERT_TRUE(busy.Send(Request("GET", "/block")));
  ASSERT_TRUE(gate_.AwaitWaiting(1));
  int p = port();
  std::thread stopper(
      [&] { server_->Stop(std::chrono::milliseconds(10'000)); });
  // The idle keep-alive connection is closed; new connections are refused.
  EXPECT_TRUE(idle.WaitClosed());
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {
    int fd = ConnectLoopback(p);
    if (fd < 0) {
      refused = true;
    } else {
      ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_TRUE(refused);
  // The request in progress still gets its answer, then the connection
  // closes.
  gate_.Open();
  RawResponse r = busy.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "unblocked");
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_TRUE(busy.WaitClosed());
  stopper.join();
}

TEST_F(HttpServerTest, ShutdownClosesRequestsThatOutliveTheGrace) {
  Start();
  Conn busy(port());
  ASSERT_TRUE(busy.Send(Request("GET", "/block")));
  ASSERT_TRUE(gate_.AwaitWaiting(1));
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    gate_.Open();  // lets the handler thread finish so Stop can join it
  });
  server_->Stop(std::chrono::milliseconds(50));
  EXPECT_EQ(busy.Read().status, 0);  // closed without an answer
  opener.join();
}

TEST_F(HttpServerTest, MetricsAndLogs) {
  Start();
  EXPECT_EQ(Exchange(Request("GET", "/things/1")).status, 200);
  EXPECT_EQ(Exchange(Request("GET", "/things/2")).status, 200);
  EXPECT_EQ(Exchange(Request("GET", "/nope")).status, 404);
  RawResponse m = Exchange(Request("GET", "/metrics"));
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.Header("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("# TYPE genogate_http_requests_total counter\n"),
            std::string::npos);
  EXPECT_NE(m.body.find("genogate_http_requests_total{route=\"things.get\","
                        "code=\"2xx\"} 2\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("genogate_http_requests_total{route=\"not_found\","
                        "code=\"4xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.body.find("genogate_http_request_duration_seconds_bucket{route="
                        "\"things.get\",code=\"2xx\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(m.body.find("genogate_http_request_duration_seconds_count{route="
                        "\"things.get\",code=\"2xx\"} 2\n"),
            std::string::npos);
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"event\":\"http.request\""), std::string::npos);
  EXPECT_NE(logs.find("\"route\":\"things.get\",\"status\":200"),
            std::string::npos)
      << logs;
}

TEST_F(HttpServerTest, LogsCarryNoPathQueryHeaderOrBody) {
  Start();
  const std::string secret = "Zebedee-Quixote";
  EXPECT_EQ(Exchange(Request("GET", "/things/" + secret + "?patient=" + secret,
                             {}, "Authorization: Bearer " + secret + "\r\n"))
                .status,
            200);
  EXPECT_EQ(Exchange(Request("POST", "/echo", "PID|" + secret,
                             "Cookie: " + secret + "\r\n"))
                .status,
            200);
  EXPECT_EQ(Exchange(Request("GET", "/" + secret)).status, 404);
  std::string logs = Logs();
  EXPECT_NE(logs.find("http.request"), std::string::npos);
  EXPECT_EQ(logs.find(secret), std::string::npos) << logs;
}

TEST_F(HttpServerTest, AuthenticationHookRunsBeforeHandlers) {
  HttpServerOptions o = Options();
  o.authenticate = [](std::string_view route,
                      HttpRequest* r) -> std::optional<HttpResponse> {
    if (route == "healthz") return std::nullopt;  // stays open
    if (r->Header("Authorization") != "Bearer good") {
      HttpResponse denied = Text(401, "who are you");
      denied.SetHeader("WWW-Authenticate", "Bearer");
      return denied;
    }
    r->caller = "lab-a";
    r->roles = {"lab"};
    return std::nullopt;
  };
  Start(o);
  RawResponse anonymous = Exchange(Request("GET", "/things/1"));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.Header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(Exchange(Request("GET", "/healthz")).status, 200);
  RawResponse known = Exchange(
      Request("GET", "/things/1", {}, "Authorization: Bearer good\r\n"));
  EXPECT_EQ(known.status, 200);
  EXPECT_NE(Logs().find("\"caller\":\"lab-a\""), std::string::npos);
  EXPECT_EQ(Logs().find("Bearer good"), std::string::npos);
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  Start();
  RawResponse r = Exchange("GARBAGE\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  RawResponse bad_escape = Exchange(Request("POST", "/echo?x=%zz", "a"));
  EXPECT_EQ(bad_escape.status, 400);
}

TEST(HttpServerStartTest, RefusesBadOptions) {
  auto router = std::make_shared<Router>();
  HttpServerOptions o;
  o.port = 0;
  o.tls_cert_file = "/nonexistent/cert.pem";
  Result<std::unique_ptr<HttpServer>> only_cert =
      HttpServer::Start(o, router, nullptr, nullptr);
  ASSERT_FALSE(only_cert.ok());
  EXPECT_EQ(only_cert.error().code(), ErrorCode::kInvalidInput);
  o.tls_key_file = "/nonexistent/key.pem";
  Result<std::unique_ptr<HttpServer>> missing =
      HttpServer::Start(o, router, nullptr, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(missing.error().message().find("/nonexistent/cert.pem"),
            std::string::npos);
  HttpServerOptions bad;
  bad.host = "not-an-address";
  bad.port = 0;
  EXPECT_FALSE(HttpServer::Start(bad, router, nullptr, nullptr).ok());
  // The port is taken.
  HttpServerOptions first;
  first.port = 0;
  Result<std::unique_ptr<HttpServer>> a =
      HttpServer::Start(first, router, nullptr, nullptr);
  ASSERT_TRUE(a.ok());
  HttpServerOptions second;
  second.port = (*a)->port();
  Result<std::unique_ptr<HttpServer>> b =
      HttpServer::Start(second, router, nullptr, nullptr);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kUnavailable);
}

}  // namespace

namespace testing {
namespace {

class WhoAmIServerImpl final : public WhoAmIServer {
 public:
  std::unique_ptr<HttpServer> server;
  int port() const override { return server->port(); }
};

}  // namespace

std::unique_ptr<WhoAmIServer> StartWhoAmIServer(const std::string& cert,
                                                const std::string& key,
                                                const std::string& client_ca,
                                                std::string* error) {
  auto router = std::make_shared<Router>();
  Status added =
      router->Add("GET", "/whoami", "whoami", [](const HttpRequest& r) {
        std::string body = std::string("tls=") + (r.tls ? "1" : "0") + "\n";
        body += "subject=" + r.client_cert_subject + "\n";
        for (const std::string& s : r.client_cert_sans)
          body += "san=" + s + "\n";
        HttpResponse res;
        res.body = body;
        return res;
      });
  if (!added.ok()) return nullptr;
  HttpServerOptions o;
  o.port = 0;
  o.tls_cert_file = cert;
  o.tls_key_file = key;
  o.client_ca_file = client_ca;
  Result<std::unique_ptr<HttpServer>> s =
      HttpServer::Start(o, router, nullptr, nullptr);
  if (!s.ok()) {
    *error = s.error().ToString();
    return nullptr;
  }
  auto impl = std::make_unique<WhoAmIServerImpl>();
  impl->server = std::move(s).value();
  return impl;
}

}  // namespace testing
}  // namespace genogate::gateway

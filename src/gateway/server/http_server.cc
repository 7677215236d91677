// The Boost.Beast HTTP/1.1 server (see http_server.h for the design). This
// is the only translation unit of the server that includes Beast.
#include "gateway/server/http_server.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <zlib.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include "base/ascii.h"

namespace genogate::gateway {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Handler threads: a fixed pool with a bounded queue.
class HandlerPool {
 public:
  HandlerPool(int threads, size_t capacity) : capacity_(capacity) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Loop(); });
    }
  }
  ~HandlerPool() { Stop(); }

  // False when the queue is full (or the pool is stopped).
  bool TrySubmit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      // Outstanding work (running + queued) is at most one task per thread
      // plus the queue's capacity.
      if (stopped_ || queue_.size() + running_ >= capacity_ + threads_.size()) {
        return false;
      }
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  }

  // Lets running tasks finish, drops queued ones, joins the threads.
  void Stop() {
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      dropped.swap(queue_);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  size_t queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopped_ || !queue_.empty(); });
        if (stopped_) return;
        task = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
      }
      task();
      task = nullptr;  // release what it holds before counting it done
      std::lock_guard lock(mu_);
      --running_;
    }
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;  // tasks being run by a thread
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------
// Small helpers.

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(a >> (i * 4)) & 15];
    id[16 + i] = kHex[(b >> (i * 4)) & 15];
  }
  return id;
}

bool AcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "text/x-vcf; charset=utf-8" -> "text/x-vcf".
std::string MediaType(std::string_view content_type) {
  return AsciiLower(TrimBlanks(content_type.substr(0, content_type.find(';'))));
}

std::string StatusClass(int status) {
  return std::to_string(status / 100) + "xx";
}

enum class InflateResult { kOk, kTooLarge, kCorrupt };

// Undoes gzip (one or more members) into *out, at most `limit` bytes.
InflateResult Gunzip(std::string_view in, size_t limit, std::string* out) {
  out->clear();
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return InflateResult::kCorrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[64 * 1024];
  InflateResult result = InflateResult::kOk;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = sizeof(buf) - zs.avail_out;
    if (out->size() + produced > limit) {
      result = InflateResult::kTooLarge;
      break;
    }
    out->append(buf, produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows.
      if (inflateReset(&zs) != Z_OK) {
        result = InflateResult::kCorrupt;
        break;
      }
      continue;
    }
    if (rc != Z_OK || (produced == 0 && zs.avail_in == 0)) {
      // Z_BUF_ERROR with no input left: truncated stream.
      result = InflateResult::kCorrupt;
      break;
    }
  }
  inflateEnd(&zs);
  return result;
}

bool ParseQuery(std::string_view q,
                std::vector<std::pair<std::string, std::string>>* out) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string k, v;
    if (!PercentDecode(part.substr(0, eq), true, &k)) return false;
    if (eq != std::string_view::npos &&
        !PercentDecode(part.substr(eq + 1), true, &v)) {
      return false;
    }
    out->emplace_back(std::move(k), std::move(v));
  }
  return true;
}

// The verified client certificate's subject and subjectAltNames.
void PeerIdentity(SSL* ssl, std::string* subject,
                  std::vector<std::string>* sans) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return;
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    X509_free(cert);
    return;
  }
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) subject->assign(data, static_cast<size_t>(n));
    BIO_free(bio);
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      auto str = [](const ASN1_STRING* s) {
        return std::string(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            static_cast<size_t>(ASN1_STRING_length(s)));
      };
      switch (g->type) {
        case GEN_DNS:
          sans->push_back("DNS:" + str(g->d.dNSName));
          break;
        case GEN_URI:
          sans->push_back("URI:" + str(g->d.uniformResourceIdentifier));
          break;
        case GEN_EMAIL:
          sans->push_back("email:" + str(g->d.rfc822Name));
          break;
        case GEN_IPADD: {
          char buf[INET6_ADDRSTRLEN] = {};
          const ASN1_OCTET_STRING* ip = g->d.iPAddress;
          int len = ASN1_STRING_length(ip);
          const unsigned char* p = ASN1_STRING_get0_data(ip);
          if (len == 4) {
            inet_ntop(AF_INET, p, buf, sizeof(buf));
          } else if (len == 16) {
            inet_ntop(AF_INET6, p, buf, sizeof(buf));
          }
          if (buf[0] != '\0') sans->push_back(std::string("IP:") + buf);
          break;
        }
        default:
          break;
      }
    }
    GENERAL_NAMES_free(names);
  }
  X509_free(cert);
}

// The canned answer to a connection beyond max_connections.
std::string BusyResponse(int retry_after_seconds) {
  std::string body =
      "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
      "\"error\",\"code\":\"transient\",\"details\":{\"text\":\"Too "
      "many connections; try again later.\"}}]}";
  return "HTTP/1.1 503 Service Unavailable\r\n"
         "Content-Type: application/fhir+json\r\n"
         "Retry-After: " +
         std::to_string(retry_after_seconds) +
         "\r\n"
         "Connection: close\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

// ---------------------------------------------------------------------------
// The server's shared state. Sessions hold a plain pointer to it: Stop()
// joins every thread that runs them before Impl goes away.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Runs on the session's strand: close if idle (graceful stop).
  virtual void PostStop() = 0;
  // Runs on the session's strand: close now (grace period over).
  virtual void PostClose() = 0;
};

namespace internal {
struct HttpServerImpl {
  HttpServerOptions opt;
  std::shared_ptr<const Router> router;
  MetricsRegistry* metrics = nullptr;
  Logger* logger = nullptr;
  std::unique_ptr<ServerTlsContext> tls;
  std::unique_ptr<HandlerPool> pool;

  CounterFamily* requests = nullptr;
  HistogramFamily* durations = nullptr;
  CounterFamily* refused = nullptr;
  Gauge* connection_gauge = nullptr;

  std::string busy_response;  // BusyResponse(opt.retry_after_seconds)
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  bool stopped = false;
  uint16_t bound_port = 0;

  std::mutex sessions_mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;

  std::vector<std::thread> threads;
  // Declared last: destroyed first, while the members above (which
  // sessions use in their destructors) still exist.
  asio::io_context ioc;
  // Keeps ioc.run() going while no socket operation is pending (every
  // connection waiting for its handler): handlers post their answers back.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work;
  std::optional<tcp::acceptor> acceptor;

  size_t BodyLimit(const std::string& media_type) const {
    for (const auto& [type, limit] : opt.body_limits) {
      if (type == media_type) return limit;
    }
    return opt.max_body_bytes;
  }
  void Register(SessionBase* s, std::weak_ptr<SessionBase> w) {
    std::lock_guard lock(sessions_mu);
    sessions.emplace(s, std::move(w));
    if (connection_gauge)
      connection_gauge->Set(static_cast<double>(sessions.size()));
  }
  void Unregister(SessionBase* s) {
    std::lock_guard lock(sessions_mu);
    sessions.erase(s);
    if (connection_gauge)
      connection_gauge->Set(static_cast<double>(sessions.size()));
  }
  void CountRefused(const char* reason) {
    if (refused) refused->WithLabels({reason}).Inc();
  }

  void Accept();
  void OnAccept(error_code ec, tcp::socket socket);
};
}  // namespace internal

namespace {

// One connection. Stream is tcp::socket or ssl::stream<tcp::socket>.
template <typename Stream>
class Session final : public SessionBase,
                      public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  // `tls_context`: the TLS context the stream uses (null for plain TCP),
  // kept for the session's lifetime: a reload installs a new one for new
  // connections only.
  template <typename... Args>
  Session(internal::HttpServerImpl* srv,
          std::shared_ptr<ssl::context> tls_context, tcp::socket&& socket,
          Args&&... args)
      : srv_(srv),
        tls_context_(std::move(tls_context)),
        stream_(std::move(socket), std::forward<Args>(args)...),
        timer_(stream_.get_executor()) {
    error_code ec;
    tcp::endpoint ep = stream_.lowest_layer().remote_endpoint(ec);
    if (!ec) {
      std::string ip = ep.address().to_string();
      remote_ = ep.address().is_v6() ? "[" + ip + "]:" : ip + ":";
      remote_ += std::to_string(ep.port());
    }
  }

  ~Session() override {
    srv_->Unregister(this);
    srv_->connections.fetch_sub(1);
  }

  void Run() {
    auto self = this->shared_from_this();
    srv_->Register(this, self);
    asio::dispatch(stream_.get_executor(), [self] { self->Begin(); });
  }

  void PostStop() override {
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this()] { self->OnStop(); });
  }
  void PostClose() override {
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this()] { self->Abort(); });
  }

 private:
  enum class Phase {
    kHandshake,
    kIdle,
    kHeader,
    kBody,
    kHandler,
    kWrite,
    kClosing
  };

  void Begin() {
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      Arm(srv_->opt.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                self->OnHandshake(ec);
                              });
    } else {
      ReadNext(true);
    }
  }

  void OnHandshake(error_code ec) {
    Disarm();
    if (ec) return Abort();
    if constexpr (kTls) {
      PeerIdentity(stream_.native_handle(), &peer_subject_, &peer_sans_);
    }
    ReadNext(true);
  }

  // Waits for the first byte of the next request (idle keep-alive), unless
  // pipelined bytes are already buffered.
  void ReadNext(bool first) {
    if (srv_->stopping && !first) return Close(false);
    if (buffer_.size() > 0) return ReadHeader();
    phase_ = Phase::kIdle;
    Arm(first ? srv_->opt.header_timeout : srv_->opt.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(4096),
        [self = this->shared_from_this()](error_code ec, size_t n) {
          self->OnFirstBytes(ec, n);
        });
  }

  void OnFirstBytes(error_code ec, size_t n) {
    Disarm();
    buffer_.commit(n);
    if (ec || n == 0) return Abort();  // idle timeout, EOF, stop, reset
    ReadHeader();
  }

  void ReadHeader() {
    phase_ = Phase::kHeader;
    start_ = SteadyClock::now();
    request_id_ = NewRequestId();
    route_name_ = "none";
    method_.clear();
    head_parser_.emplace();
    negotiation_ = HttpRequest();  // until this request's head is read
    head_parser_->header_limit(
        static_cast<std::uint32_t>(srv_->opt.max_header_bytes));
    head_parser_->body_limit(boost::none);  // checked per media type below
    Arm(srv_->opt.header_timeout);
    http::async_read_header(stream_, buffer_, *head_parser_,
                            [self = this->shared_from_this()](
                                error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    bool timed_out = Disarm();
    if (timed_out) {
      return Fail(408, "timeout", "The request head did not arrive in time.",
                  "request-timeout");
    }
    if (ec == http::error::header_limit) {
      return Fail(431, "too-long", "The request head is too large.",
                  "header-too-large");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
      return Abort();
    }
    if (ec) {
      return Fail(400, "structure", "Malformed HTTP request.", "bad-request");
    }
    const auto& req = head_parser_->get();
    method_ = std::string(req.method_string());
    std::string_view incoming_id(req["X-Request-Id"].data(),
                                 req["X-Request-Id"].size());
    if (AcceptableRequestId(incoming_id))
      request_id_ = std::string(incoming_id);
    keep_alive_ = req.keep_alive();
    std::string_view target(req.target().data(), req.target().size());
    match_ = srv_->router->Find(method_, target);
    route_name_ = std::string(match_.name());
    bool has_body =
        head_parser_->chunked() ||
        (head_parser_->content_length() && *head_parser_->content_length() > 0);
    // What early answers need to pick JSON or XML: Accept and _format.
    negotiation_.method = method_;
    negotiation_.target = std::string(target);
    std::string_view accept(req[http::field::accept].data(),
                            req[http::field::accept].size());
    if (!accept.empty()) negotiation_.headers.emplace_back("Accept", accept);
    if (size_t q = target.find('?'); q != std::string_view::npos) {
      ParseQuery(target.substr(q + 1), &negotiation_.query);  // best effort
    }
    // Early answers leave the body unread: the connection closes after them.
    if (match_.kind != RouteMatch::Kind::kFound) {
      HttpRequest r = negotiation_;
      HttpResponse res = srv_->router->Dispatch(match_, &r);
      return Respond(std::move(res), has_body);
    }
    std::string encoding = AsciiLower(TrimBlanks(
        std::string_view(req[http::field::content_encoding].data(),
                         req[http::field::content_encoding].size())));
    if (!encoding.empty() && encoding != "identity" && encoding != "gzip" &&
        encoding != "x-gzip") {
      return Fail(415, "not-supported",
                  "Content-Encoding must be gzip or identity.",
                  "unsupported-encoding", has_body);
    }
    gzip_ = encoding == "gzip" || encoding == "x-gzip";
    body_limit_ = srv_->BodyLimit(
        MediaType(std::string_view(req[http::field::content_type].data(),
                                   req[http::field::content_type].size())));
    if (head_parser_->content_length() &&
        *head_parser_->content_length() > body_limit_) {
      return Fail(413, "too-costly",
                  "The request body is larger than " +
                      std::to_string(body_limit_) +
                      " bytes, the limit for its content type.",
                  "body-too-large", has_body);
    }
    if (match_.route->options.shed_when_overloaded && srv_->opt.overloaded &&
        srv_->opt.overloaded()) {
      srv_->CountRefused("overloaded");
      return Fail(503, "transient",
                  "The gateway is overloaded (delivery queue above its "
                  "high-water mark); try again later.",
                  "overloaded", has_body);
    }
    body_parser_.emplace(std::move(*head_parser_));
    head_parser_.reset();
    body_parser_->body_limit(body_limit_);
    std::string_view expect(body_parser_->get()[http::field::expect].data(),
                            body_parser_->get()[http::field::expect].size());
    if (has_body &&
        internal::EqualsIgnoreCase(TrimBlanks(expect), "100-continue")) {
      phase_ = Phase::kWrite;
      Arm(srv_->opt.write_timeout);
      asio::async_write(
          stream_, asio::buffer(kContinue),
          [self = this->shared_from_this()](error_code werr, size_t) {
            if (self->Disarm() || werr) return self->Abort();
            self->ReadBody();
          });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    phase_ = Phase::kBody;
    Arm(srv_->opt.body_timeout);
    http::async_read(stream_, buffer_, *body_parser_,
                     [self = this->shared_from_this()](error_code ec, size_t) {
                       self->OnBody(ec);
                     });
  }

  void OnBody(error_code ec) {
    bool timed_out = Disarm();
    if (timed_out) {
      return Fail(408, "timeout", "The request body did not arrive in time.",
                  "request-timeout");
    }
    if (ec == http::error::body_limit) {
      return Fail(413, "too-costly",
                  "The request body is larger than " +
                      std::to_string(body_limit_) +
                      " bytes, the limit for its content type.",
                  "body-too-large");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
      return Abort();
    }
    if (ec) {
      return Fail(400, "structure", "Malformed HTTP request body.",
                  "bad-request");
    }
    auto msg = body_parser_->release();
    body_parser_.reset();
    HttpRequest r;
    r.method = method_;
    r.target = std::string(msg.target());
    std::string_view target = r.target;
    size_t q = target.find('?');
    if (!PercentDecode(target.substr(0, q), false, &r.path) ||
        (q != std::string_view::npos &&
         !ParseQuery(target.substr(q + 1), &r.query))) {
      return Fail(400, "structure", "Malformed percent-encoding in the URL.",
                  "bad-request");
    }
    for (const auto& f : msg) {
      r.headers.emplace_back(std::string(f.name_string()),
                             std::string(f.value()));
    }
    if (gzip_) {
      std::string plain;
      switch (Gunzip(msg.body(), body_limit_, &plain)) {
        case InflateResult::kOk:
          break;
        case InflateResult::kTooLarge:
          return Fail(413, "too-costly",
                      "The decompressed request body is larger than " +
                          std::to_string(body_limit_) +
                          " bytes, the limit for its content type.",
                      "body-too-large", false);
        case InflateResult::kCorrupt:
          return Fail(400, "structure", "The request body is not valid gzip.",
                      "bad-gzip", false);
      }
      r.body = std::move(plain);
    } else {
      r.body = std::move(msg.body());
    }
    bytes_in_ = r.body.size();
    r.remote_address = remote_;
    r.request_id = request_id_;
    r.tls = kTls;
    r.client_cert_subject = peer_subject_;
    r.client_cert_sans = peer_sans_;

    phase_ = Phase::kHandler;
    auto self = this->shared_from_this();
    const Router* router = srv_->router.get();
    const auto* authenticate = &srv_->opt.authenticate;
    bool submitted =
        srv_->pool->TrySubmit([self, router, authenticate, match = match_,
                               r = std::move(r)]() mutable {
          std::optional<HttpResponse> refused;
          if (*authenticate) refused = (*authenticate)(match.name(), &r);
          HttpResponse res =
              refused ? std::move(*refused) : router->Dispatch(match, &r);
          std::string caller = r.caller;
          asio::post(self->stream_.get_executor(),
                     [self, res = std::move(res),
                      caller = std::move(caller)]() mutable {
                       self->caller_ = std::move(caller);
                       self->Respond(std::move(res), false);
                     });
        });
    if (!submitted) {
      srv_->CountRefused("busy");
      Fail(503, "transient", "The gateway is busy; try again later.", "busy",
           false);
    }
  }

  // An error answer from the network thread; `unread_body`: the request's
  // body was not read, so the connection closes after the answer.
  void Fail(int status, std::string_view type, const std::string& message,
            std::string_view code, bool unread_body = true) {
    if (status == 408 || status == 400 || status == 431) unread_body = true;
    // In the format the request's head negotiated (JSON before it is read).
    Respond(
        NegotiatedOutcomeResponse(negotiation_, status, type, message, code),
        unread_body);
  }

  void Respond(HttpResponse res, bool close) {
    if (phase_ == Phase::kClosing) return;
    phase_ = Phase::kWrite;
    status_ = res.status;
    bool keep = keep_alive_ && !close && !srv_->stopping;
    must_linger_ = close;
    auto out = std::make_shared<http::response<http::string_body>>();
    out->version(11);
    out->result(static_cast<unsigned>(res.status));
    for (auto& [k, v] : res.headers) {
      if (internal::EqualsIgnoreCase(k, "content-length") ||
          internal::EqualsIgnoreCase(k, "transfer-encoding") ||
          internal::EqualsIgnoreCase(k, "connection")) {
        continue;
      }
      out->insert(k, v);
    }
    out->set(http::field::server, srv_->opt.server_name);
    out->set(http::field::date, HttpDate());
    out->set("X-Request-Id", request_id_);
    if (res.status == 503 && res.Header("Retry-After").empty()) {
      out->set(http::field::retry_after,
               std::to_string(srv_->opt.retry_after_seconds));
    }
    bytes_out_ = res.body.size();
    if (method_ == "HEAD") {
      out->content_length(res.body.size());
    } else {
      out->body() = std::move(res.body);
      out->prepare_payload();
    }
    out->keep_alive(keep);
    keep_alive_ = keep;
    response_ = out;
    // Counted and logged before the write, so that whoever reads the answer
    // also finds it in /metrics and the log (the duration ends here).
    Record();
    Arm(srv_->opt.write_timeout);
    http::async_write(stream_, *out,
                      [self = this->shared_from_this()](error_code ec, size_t) {
                        self->OnWrite(ec);
                      });
  }

  void OnWrite(error_code ec) {
    bool timed_out = Disarm();
    response_.reset();
    if (ec || timed_out) return Abort();
    if (!keep_alive_) return Close(must_linger_);
    ReadNext(false);
  }

  void Record() {
    double seconds =
        std::chrono::duration<double>(SteadyClock::now() - start_).count();
    std::string code = StatusClass(status_);
    if (srv_->requests) {
      srv_->requests->WithLabels({route_name_, code}).Inc();
      srv_->durations->WithLabels({route_name_, code}).Observe(seconds);
    }
    if (srv_->logger) {
      auto line = srv_->logger->Info("http.request");
      line.Str("request_id", request_id_)
          .Str("method", method_)
          .Str("route", route_name_)
          .Int("status", status_)
          .Num("duration_ms", seconds * 1000)
          .Int("bytes_in", static_cast<int64_t>(bytes_in_))
          .Int("bytes_out", static_cast<int64_t>(bytes_out_))
          .Bool("tls", kTls);
      if (!caller_.empty()) line.Str("caller", caller_);
    }
    bytes_in_ = bytes_out_ = 0;
    caller_.clear();
  }

  void OnStop() {
    if (phase_ == Phase::kIdle || phase_ == Phase::kHandshake) Abort();
  }

  // Graceful close: TLS close_notify or TCP FIN, then (if the request body
  // was left unread) read and drop what the client still sends for a short
  // while, so that it sees our answer instead of a reset.
  void Close(bool linger) {
    if (phase_ == Phase::kClosing) return;
    phase_ = Phase::kClosing;
    if constexpr (kTls) {
      (void)linger;
      Arm(std::chrono::milliseconds(2000));
      stream_.async_shutdown([self = this->shared_from_this()](error_code) {
        self->Disarm();
        self->Shut();
      });
    } else {
      error_code ignored;
      stream_.shutdown(tcp::socket::shutdown_send, ignored);
      if (!linger) return Shut();
      linger_left_ = 1 << 20;
      Arm(std::chrono::milliseconds(2000));
      Drain();
    }
  }

  void Drain() {
    stream_.async_read_some(
        asio::buffer(drain_, sizeof(drain_)),
        [self = this->shared_from_this()](error_code ec, size_t n) {
          if (ec || n >= self->linger_left_) {
            self->Disarm();
            return self->Shut();
          }
          self->linger_left_ -= n;
          self->Drain();
        });
  }

  void Abort() {
    phase_ = Phase::kClosing;
    Shut();
  }

  void Shut() {
    ++timer_gen_;
    timer_.cancel();
    error_code ignored;
    stream_.lowest_layer().close(ignored);
  }

  // Deadline for the operation in progress: when it passes, the socket's
  // operations are cancelled (the handler sees Disarm() == true).
  void Arm(std::chrono::milliseconds d) {
    timed_out_ = false;
    uint64_t gen = ++timer_gen_;
    timer_.expires_after(d);
    timer_.async_wait([self = this->shared_from_this(), gen](error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->timed_out_ = true;
      error_code ignored;
      if (self->phase_ == Phase::kWrite || self->phase_ == Phase::kClosing ||
          self->phase_ == Phase::kHandshake) {
        self->stream_.lowest_layer().close(ignored);
      } else {
        self->stream_.lowest_layer().cancel(ignored);
      }
    });
  }
  // Stops the deadline; true if it had passed.
  bool Disarm() {
    ++timer_gen_;
    timer_.cancel();
    bool t = timed_out_;
    timed_out_ = false;
    return t;
  }

  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

  internal::HttpServerImpl* srv_;
  std::shared_ptr<ssl::context> tls_context_;  // outlives stream_
  Stream stream_;
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> head_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  Phase phase_ = Phase::kIdle;
  std::string remote_;
  std::string peer_subject_;
  std::vector<std::string> peer_sans_;
  // The request in progress.
  RouteMatch match_;
  // The current request's method, target, query and Accept (for the format of
  // early answers); empty until its head is read.
  HttpRequest negotiation_;
  std::string method_;
  std::string request_id_;
  std::string route_name_ = "none";
  std::string caller_;
  SteadyClock::time_point start_ = SteadyClock::now();
  size_t body_limit_ = 0;
  size_t bytes_in_ = 0;
  size_t bytes_out_ = 0;
  int status_ = 0;
  bool gzip_ = false;
  bool keep_alive_ = false;
  bool must_linger_ = false;
  size_t linger_left_ = 0;
  char drain_[4096];
};

}  // namespace

void internal::HttpServerImpl::Accept() {
  acceptor->async_accept(asio::make_strand(ioc),
                         [this](error_code ec, tcp::socket socket) {
                           OnAccept(ec, std::move(socket));
                         });
}

void internal::HttpServerImpl::OnAccept(error_code ec, tcp::socket socket) {
  if (stopping || !acceptor || !acceptor->is_open()) return;
  if (ec) {
    // EMFILE and friends: back off a little instead of spinning.
    if (ec != asio::error::operation_aborted) {
      auto timer = std::make_shared<asio::steady_timer>(ioc);
      timer->expires_after(std::chrono::milliseconds(50));
      timer->async_wait([this, timer](error_code) {
        if (!stopping) Accept();
      });
    }
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (connections.load() >= opt.max_connections) {
    CountRefused("connection_limit");
    if (tls) {
      socket.close(ignored);
    } else {
      // A canned 503, written without waiting (a full socket buffer just
      // loses it), then close.
      socket.non_blocking(true, ignored);
      asio::const_buffer b(busy_response.data(), busy_response.size());
      socket.write_some(b, ignored);
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    }
    return Accept();
  }
  connections.fetch_add(1);
  if (tls) {
    std::shared_ptr<ssl::context> context = tls->Current();
    ssl::context& ref = *context;
    std::make_shared<Session<ssl::stream<tcp::socket>>>(
        this, std::move(context), std::move(socket), ref)
        ->Run();
  } else {
    std::make_shared<Session<tcp::socket>>(this, nullptr, std::move(socket))
        ->Run();
  }
  Accept();
}

HttpServer::HttpServer(std::shared_ptr<internal::HttpServerImpl> impl)
    : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

uint16_t HttpServer::port() const { return impl_->bound_port; }

size_t HttpServer::active_connections() const {
  return impl_->connections.load();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(
    HttpServerOptions options, std::shared_ptr<const Router> router,
    MetricsRegistry* metrics, Logger* logger) {
  if (router == nullptr) {
    return Error(ErrorCode::kInvalidInput, "the server needs a router");
  }
  if (options.network_threads < 1 || options.handler_threads < 1 ||
      options.max_connections < 1 || options.max_header_bytes < 256) {
    return Error(ErrorCode::kInvalidInput,
                 "server threads, connections and header limit must be "
                 "positive");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "TLS needs both a certificate and a key file");
  }
  if (!options.client_ca_file.empty() && options.tls_cert_file.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "a client CA (mTLS) needs a server certificate and key");
  }
  auto impl = std::make_shared<internal::HttpServerImpl>();
  impl->opt = std::move(options);
  impl->router = std::move(router);
  impl->metrics = metrics;
  impl->logger = logger;
  const HttpServerOptions& o = impl->opt;
  impl->busy_response = BusyResponse(o.retry_after_seconds);

  if (!o.tls_cert_file.empty()) {
    ServerTlsFiles files;
    files.cert_file = o.tls_cert_file;
    files.key_file = o.tls_key_file;
    files.client_ca_file = o.client_ca_file;
    files.min_version = o.tls_min_version;
    files.watch_interval = o.tls_watch_interval;
    Result<std::unique_ptr<ServerTlsContext>> tls = ServerTlsContext::Create(
        files, "TLS",
        [logger, cert = o.tls_cert_file](const Status& result,
                                         const std::string& summary) {
          if (logger == nullptr) return;
          if (result.ok()) {
            logger->Info("tls.reloaded")
                .Str("server", "http")
                .Str("cert_file", cert)
                .Str("certificate", summary);
          } else {
            logger->Warn("tls.reload_failed")
                .Str("server", "http")
                .Str("message", "keeping the previous certificate: " +
                                    result.error().message());
          }
        });
    if (!tls.ok()) return tls.error();
    impl->tls = std::move(tls).value();
  }

  if (metrics != nullptr) {
    impl->requests = &metrics->AddCounter(
        "genogate_http_requests_total",
        "HTTP requests answered, by route and status class", {"route", "code"});
    impl->durations =
        &metrics->AddHistogram("genogate_http_request_duration_seconds",
                               "Time from the first byte of a request until "
                               "its answer is ready to send",
                               {"route", "code"});
    impl->refused = &metrics->AddCounter(
        "genogate_http_refused_total",
        "Requests or connections refused with 503, by reason", {"reason"});
    impl->connection_gauge =
        &metrics->AddGauge("genogate_http_connections", "Open HTTP connections")
             .WithLabels({});
  }

  impl->pool =
      std::make_unique<HandlerPool>(o.handler_threads, o.handler_queue);
  if (metrics != nullptr) {
    HandlerPool* pool = impl->pool.get();
    metrics->AddCallback("genogate_http_handler_queue",
                         "Requests waiting for a handler thread",
                         MetricsRegistry::Type::kGauge, {}, [pool] {
                           return std::vector<MetricSample>{
                               {{}, static_cast<double>(pool->queued())}};
                         });
  }

  error_code ec;
  asio::ip::address address;
  if (o.host == "localhost") {
    address = asio::ip::address_v4::loopback();
  } else {
    address = asio::ip::make_address(o.host, ec);
    if (ec) {
      return Error(
          ErrorCode::kInvalidInput,
          "listen address must be an IP address or localhost: " + o.host);
    }
  }
  tcp::endpoint endpoint(address, o.port);
  impl->acceptor.emplace(asio::make_strand(impl->ioc));
  tcp::acceptor& acc = *impl->acceptor;
  std::string where = o.host + ":" + std::to_string(o.port);
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl->pool->Stop();
    return Error(ErrorCode::kUnavailable,
                 "cannot listen on " + where + ": " + ec.message());
  }
  impl->bound_port = acc.local_endpoint(ec).port();
  impl->work.emplace(impl->ioc.get_executor());
  impl->Accept();
  for (int i = 0; i < o.network_threads; ++i) {
    impl->threads.emplace_back([p = impl.get()] { p->ioc.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

Status HttpServer::ReloadTls() {
  if (!impl_->tls) {
    return Error(ErrorCode::kFailedPrecondition,
                 "the HTTP server does not use TLS");
  }
  return impl_->tls->Reload();
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  internal::HttpServerImpl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  s.stopping = true;
  if (s.tls) s.tls->StopWatching();
  // Stop accepting.
  {
    std::promise<void> closed;
    auto done = closed.get_future();
    asio::post(s.acceptor->get_executor(), [&s, &closed] {
      error_code ignored;
      s.acceptor->close(ignored);
      closed.set_value();
    });
    done.wait_for(std::chrono::seconds(5));
  }
  auto for_each_session = [&s](auto f) {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lock(s.sessions_mu);
      for (auto& [p, w] : s.sessions) {
        if (auto sp = w.lock()) live.push_back(std::move(sp));
      }
    }
    for (auto& sp : live) f(*sp);
  };
  // Close idle connections; the others close after their answer.
  for_each_session([](SessionBase& b) { b.PostStop(); });
  auto deadline = SteadyClock::now() + grace;
  while (s.connections.load() > 0 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Grace is over: close whatever is left.
  for_each_session([](SessionBase& b) { b.PostClose(); });
  auto hard = SteadyClock::now() + std::chrono::seconds(2);
  while (s.connections.load() > 0 && SteadyClock::now() < hard) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  // Running handlers finish; queued ones are dropped (their connections
  // are closed already).
  s.pool->Stop();
  s.acceptor.reset();
}

}  // namespace genogate::gateway

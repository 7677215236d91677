// The Boost.Beast + OpenSSL HttpClient (see http_client.h for the design).
// This is the only translation unit of the gateway that includes Beast.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "gateway/http/http_client.h"

namespace genogate::gateway {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

constexpr uint32_t kMaxHeaderBytes = 64 * 1024;

// One keep-alive connection with its own io_context (so that a call can run
// it with a deadline without touching other connections).
struct Connection {
  asio::io_context ioc;
  std::optional<tcp::socket> plain;
  std::optional<ssl::stream<tcp::socket>> tls;
  beast::flat_buffer buffer;
  SteadyClock::time_point last_used;

  tcp::socket& lowest() { return tls ? tls->next_layer() : *plain; }
  void Close() {
    error_code ignored;
    if (tls) {
      tls->next_layer().close(ignored);
    } else if (plain) {
      plain->close(ignored);
    }
  }
};

// Runs `ioc` until `done` is set by a completion handler or `timeout`
// passes. On timeout calls `cancel` (which must make the pending operation
// complete, e.g. by closing the socket), drains the handlers and returns
// false.
bool RunWithDeadline(asio::io_context& ioc, const bool& done,
                     std::chrono::milliseconds timeout,
                     const std::function<void()>& cancel) {
  ioc.restart();
  const auto deadline = SteadyClock::now() + timeout;
  while (!done) {
    if (ioc.run_one_until(deadline) == 0 && !done) {
      cancel();
      ioc.restart();
      while (!done && ioc.run_one() != 0) {
      }
      return false;
    }
  }
  return true;
}

std::string HostPort(const Url& url) {
  std::string host =
      url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return host + ":" + std::to_string(url.port);
}

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Errors on the wire (not TLS verification) by what the caller does next.
Error NetworkError(const error_code& ec, std::string_view what,
                   const std::string& where) {
  if (ec == http::error::body_limit) {
    return Error(ErrorCode::kLimitExceeded,
                 "response body from " + where + " exceeds the size limit");
  }
  if (ec == http::error::header_limit) {
    return Error(ErrorCode::kLimitExceeded,
                 "response header from " + where + " exceeds the size limit");
  }
  return Error(ErrorCode::kUnavailable,
               std::string(what) + " " + where + ": " + ec.message());
}

Error Timeout(std::string_view what, const std::string& where,
              std::chrono::milliseconds t) {
  return Error(ErrorCode::kTimeout, std::string(what) + " " + where +
                                        " timed out after " +
                                        std::to_string(t.count()) + " ms");
}

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(HttpClientOptions options, std::optional<Url> proxy)
      : options_(std::move(options)),
        proxy_(std::move(proxy)),
        tls_(ssl::context::tls_client) {}

  Status Init() {
    error_code ec;
    tls_.set_options(ssl::context::default_workarounds |
                         ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
    tls_.set_verify_mode(ssl::verify_peer, ec);
    if (options_.ca_file.empty()) {
      tls_.set_default_verify_paths(ec);
      if (ec) {
        return Error(ErrorCode::kFailedPrecondition,
                     "cannot load the system CA store: " + ec.message());
      }
    } else {
      tls_.load_verify_file(options_.ca_file, ec);
      if (ec) {
        return Error(
            ErrorCode::kFailedPrecondition,
            "cannot load CA file " + options_.ca_file + ": " + ec.message());
      }
    }
    if (options_.client_cert_file.empty() != options_.client_key_file.empty()) {
      return Error(ErrorCode::kFailedPrecondition,
                   "a client certificate needs both a certificate file and "
                   "a key file");
    }
    if (!options_.client_cert_file.empty()) {
      tls_.use_certificate_chain_file(options_.client_cert_file, ec);
      if (ec) {
        return Error(ErrorCode::kFailedPrecondition,
                     "cannot load client certificate " +
                         options_.client_cert_file + ": " + ec.message());
      }
      tls_.use_private_key_file(options_.client_key_file, ssl::context::pem,
                                ec);
      if (ec) {
        // The message names the file, never its contents.
        return Error(ErrorCode::kFailedPrecondition,
                     "cannot load client key " + options_.client_key_file +
                         ": " + ec.message());
      }
    }
    return Status::Ok();
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    try {
      return SendImpl(request);
    } catch (const std::exception& e) {
      return Error(ErrorCode::kInternal,
                   std::string("HTTP client failure: ") + e.what());
    }
  }

 private:
  Result<HttpResponse> SendImpl(const HttpRequest& request) {
    Result<Url> url = ParseUrl(request.url);
    if (!url.ok()) return url.error();
    http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) {
      return Error(ErrorCode::kInvalidInput, "unknown HTTP method");
    }
    const std::string key = url->Origin();
    std::unique_ptr<Connection> conn = TakeIdle(key);
    bool reused = conn != nullptr;
    for (int attempt = 0;; ++attempt) {
      if (!conn) {
        Result<std::unique_ptr<Connection>> fresh = Connect(*url);
        if (!fresh.ok()) return fresh.error();
        conn = std::move(fresh).value();
        reused = false;
      }
      bool got_some = false;
      bool keep_alive = false;
      Result<HttpResponse> response =
          Exchange(*conn, *url, verb, request, &got_some, &keep_alive);
      if (!response.ok() && reused && !got_some &&
          response.error().code() == ErrorCode::kUnavailable && attempt == 0) {
        // The server closed the idle connection: once more on a new one.
        conn->Close();
        conn.reset();
        continue;
      }
      if (response.ok() && keep_alive) {
        PutIdle(key, std::move(conn));
      } else {
        conn->Close();
      }
      return response;
    }
  }

  std::unique_ptr<Connection> TakeIdle(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto now = SteadyClock::now();
    while (!it->second.empty()) {
      std::unique_ptr<Connection> c = std::move(it->second.back());
      it->second.pop_back();
      if (now - c->last_used < options_.idle_timeout) return c;
      c->Close();
    }
    return nullptr;
  }

  void PutIdle(const std::string& key, std::unique_ptr<Connection> conn) {
    conn->last_used = SteadyClock::now();
    std::lock_guard<std::mutex> lock(mu_);
    auto& list = idle_[key];
    if (static_cast<int>(list.size()) >= options_.max_idle_per_host) {
      conn->Close();
      return;
    }
    list.push_back(std::move(conn));
  }

  Result<std::unique_ptr<Connection>> Connect(const Url& url) {
    auto conn = std::make_unique<Connection>();
    const Url& peer = proxy_ ? *proxy_ : url;
    const std::string where = HostPort(peer);
    const std::string target_where = HostPort(url);
    const auto deadline_budget = options_.connect_timeout;

    // Resolve and connect within connect_timeout.
    tcp::resolver resolver(conn->ioc);
    conn->plain.emplace(conn->ioc);
    bool done = false;
    error_code ec;
    tcp::resolver::results_type results;
    resolver.async_resolve(
        peer.host, std::to_string(peer.port),
        [&](const error_code& e, tcp::resolver::results_type r) {
          ec = e;
          results = std::move(r);
          done = true;
        });
    auto start = SteadyClock::now();
    if (!RunWithDeadline(conn->ioc, done, deadline_budget,
                         [&] { resolver.cancel(); })) {
      return Timeout("resolving", where, deadline_budget);
    }
    if (ec) {
      return Error(ErrorCode::kUnavailable,
                   "cannot resolve host of " + where + ": " + ec.message());
    }
    auto left =
        deadline_budget - std::chrono::duration_cast<std::chrono::milliseconds>(
                              SteadyClock::now() - start);
    if (left.count() <= 0)
      return Timeout("connecting to", where, deadline_budget);
    done = false;
    asio::async_connect(*conn->plain, results,
                        [&](const error_code& e, const tcp::endpoint&) {
                          ec = e;
                          done = true;
                        });
    if (!RunWithDeadline(conn->ioc, done, left, [&] { conn->Close(); })) {
      return Timeout("connecting to", where, deadline_budget);
    }
    if (ec) return NetworkError(ec, "cannot connect to", where);
    error_code ignored;
    conn->plain->set_option(tcp::no_delay(true), ignored);

    if (proxy_ && url.scheme == "https") {
      Status tunnel = ProxyConnect(*conn, url);
      if (!tunnel.ok()) return tunnel.error();
    }
    if (url.scheme == "https") {
      conn->tls.emplace(std::move(*conn->plain), tls_);
      conn->plain.reset();
      SSL* ssl_handle = conn->tls->native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      X509_VERIFY_PARAM_set_hostflags(param,
                                      X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (IsIpLiteral(url.host)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
      } else {
        SSL_set1_host(ssl_handle, url.host.c_str());
        SSL_set_tlsext_host_name(ssl_handle, url.host.c_str());
      }
      done = false;
      conn->tls->async_handshake(ssl::stream_base::client,
                                 [&](const error_code& e) {
                                   ec = e;
                                   done = true;
                                 });
      if (!RunWithDeadline(conn->ioc, done, options_.connect_timeout,
                           [&] { conn->Close(); })) {
        return Timeout("TLS handshake with", target_where,
                       options_.connect_timeout);
      }
      if (ec) {
        long verify = SSL_get_verify_result(ssl_handle);
        if (verify != X509_V_OK) {
          return Error(ErrorCode::kFailedPrecondition,
                       "TLS certificate verification failed for " +
                           target_where + ": " +
                           X509_verify_cert_error_string(verify));
        }
        if (ec.category() == asio::error::get_ssl_category()) {
          return Error(ErrorCode::kFailedPrecondition,
                       "TLS handshake with " + target_where +
                           " failed: " + ec.message());
        }
        return NetworkError(ec, "TLS handshake with", target_where);
      }
    }
    return conn;
  }

  Status ProxyConnect(Connection& conn, const Url& url) {
    const std::string where = HostPort(url);
    http::request<http::empty_body> req{http::verb::connect, where, 11};
    req.set(http::field::host, where);
    req.set(http::field::user_agent, options_.user_agent);
    bool done = false;
    error_code ec;
    http::async_write(*conn.plain, req, [&](const error_code& e, size_t) {
      ec = e;
      done = true;
    });
    if (!RunWithDeadline(conn.ioc, done, options_.connect_timeout,
                         [&] { conn.Close(); })) {
      return Timeout("proxy CONNECT to", where, options_.connect_timeout);
    }
    if (ec) return NetworkError(ec, "proxy CONNECT to", where);
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a 2xx answer to CONNECT has no body
    done = false;
    http::async_read(*conn.plain, conn.buffer, parser,
                     [&](const error_code& e, size_t) {
                       ec = e;
                       done = true;
                     });
    if (!RunWithDeadline(conn.ioc, done, options_.connect_timeout,
                         [&] { conn.Close(); })) {
      return Timeout("proxy CONNECT to", where, options_.connect_timeout);
    }
    if (ec) return NetworkError(ec, "proxy CONNECT to", where);
    int status = parser.get().result_int();
    if (status / 100 != 2) {
      return Error(ErrorCode::kUnavailable, "proxy refused CONNECT to " +
                                                where + ": HTTP " +
                                                std::to_string(status));
    }
    conn.buffer.consume(conn.buffer.size());
    return Status::Ok();
  }

  template <typename Stream>
  Result<HttpResponse> ExchangeOn(Stream& stream, Connection& conn,
                                  const Url& url, http::verb verb,
                                  const HttpRequest& request, bool* got_some,
                                  bool* keep_alive) {
    const std::string where = HostPort(url);
    // Absolute-form target through a plain-http proxy.
    std::string target =
        (proxy_ && url.scheme == "http") ? url.ToString() : url.target;
    http::request<http::string_body> req{verb, target, 11};
    std::string host = url.Origin().substr(url.scheme.size() + 3);
    req.set(http::field::host, host);
    req.set(http::field::user_agent, options_.user_agent);
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.keep_alive(options_.max_idle_per_host > 0);
    req.body() = request.body;
    req.prepare_payload();

    bool done = false;
    error_code ec;
    http::async_write(stream, req, [&](const error_code& e, size_t) {
      ec = e;
      done = true;
    });
    if (!RunWithDeadline(conn.ioc, done, options_.io_timeout,
                         [&] { conn.Close(); })) {
      return Timeout("sending request to", where, options_.io_timeout);
    }
    if (ec) return NetworkError(ec, "sending request to", where);

    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    parser.header_limit(kMaxHeaderBytes);
    done = false;
    http::async_read(stream, conn.buffer, parser,
                     [&](const error_code& e, size_t) {
                       ec = e;
                       done = true;
                     });
    bool in_time = RunWithDeadline(conn.ioc, done, options_.io_timeout,
                                   [&] { conn.Close(); });
    *got_some = parser.got_some() || conn.buffer.size() > 0;
    if (!in_time) {
      return Timeout("reading response from", where, options_.io_timeout);
    }
    if (ec) return NetworkError(ec, "reading response from", where);
    http::response<http::string_body> res = parser.release();
    HttpResponse out;
    out.status = res.result_int();
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()),
                               std::string(field.value()));
    }
    out.body = std::move(res.body());
    *keep_alive = res.keep_alive() && options_.max_idle_per_host > 0;
    return out;
  }

  Result<HttpResponse> Exchange(Connection& conn, const Url& url,
                                http::verb verb, const HttpRequest& request,
                                bool* got_some, bool* keep_alive) {
    if (conn.tls) {
      return ExchangeOn(*conn.tls, conn, url, verb, request, got_some,
                        keep_alive);
    }
    return ExchangeOn(*conn.plain, conn, url, verb, request, got_some,
                      keep_alive);
  }

  const HttpClientOptions options_;
  const std::optional<Url> proxy_;
  ssl::context tls_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace

Result<std::unique_ptr<HttpClient>> NewHttpClient(
    const HttpClientOptions& options) {
  std::optional<Url> proxy;
  if (!options.proxy_url.empty()) {
    Result<Url> p = ParseUrl(options.proxy_url);
    if (!p.ok()) return p.error().WithContext("proxy");
    if (p->scheme != "http") {
      return Error(ErrorCode::kInvalidInput, "proxy URL must be http://");
    }
    proxy = *p;
  }
  try {
    auto client = std::make_unique<BeastHttpClient>(options, proxy);
    Status s = client->Init();
    if (!s.ok()) return s.error();
    return std::unique_ptr<HttpClient>(std::move(client));
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal,
                 std::string("cannot create the TLS context: ") + e.what());
  }
}

}  // namespace genogate::gateway

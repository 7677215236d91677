// HttpServer: genogate's HTTP/1.1 server (Boost.Beast, asynchronous), TLS
// optional. No Beast or Asio type appears here: http_server.cc is the only
// file that includes them.
//
// Design (Beast's advanced server is the model):
//  * Network threads run one io_context; every connection is a session on
//    its own strand that reads one request, hands it over, writes the
//    answer, and only then reads the next one (keep-alive; pipelined
//    requests wait in the session's buffer, answers keep their order).
//  * Handlers never run on network threads: a complete request goes to a
//    bounded queue served by `handler_threads` threads (handlers may block
//    on Redis or validation). A full queue answers 503 + Retry-After at
//    once. 404/405 and early refusals are answered on the network thread.
//  * Limits: request head size (431), body size per media type (413, from
//    Content-Length before any body byte is read, or while reading chunks),
//    gzip Content-Encoding undone with the same limit on the decompressed
//    size (413: zip bombs), other encodings 415; a deadline for the whole
//    head from its first byte and one for the body (408 then close: slow
//    clients, slowloris), an idle keep-alive deadline, a write deadline;
//    at most `max_connections` connections (a new one beyond that gets a
//    canned 503 and is closed; over TLS it is closed).
//  * Back-pressure: routes with RouteOptions::shed_when_overloaded are
//    answered 503 + Retry-After before their body is read while
//    `overloaded()` is true.
//  * Every answer carries X-Request-Id: the caller's if it is 1..64 chars of
//    [A-Za-z0-9._-], else a fresh random id. Each request is logged once
//    ("http.request": request id, method, route name, status, duration,
//    sizes, caller; never the path, query, headers or body) and counted in
//    genogate_http_requests_total{route,code} and
//    genogate_http_request_duration_seconds{route,code} (code is the status
//    class, "2xx").
//  * TLS: 1.2 or later only, ECDHE + AEAD suites for 1.2; certificate chain
//    and key from PEM files; with `client_ca_file` the client must present a
//    certificate that chains to it (mTLS) and its subject and
//    subjectAltNames reach handlers in HttpRequest::client_cert_subject /
//    client_cert_sans. The files are reloaded when they change (checked
//    every tls_watch_interval) or on ReloadTls(): new connections use the
//    new certificate, open ones keep theirs, a failed reload keeps the old
//    one and is logged ("tls.reload_failed"); see
//    gateway/server/tls_context.h.
//  * Stop(grace): stop accepting, close idle keep-alive connections, let
//    requests in progress finish (their answers say Connection: close) for
//    up to `grace`, then close everything and join the threads.
//
// Thread-safety: Start/Stop/the destructor from one owning thread;
// port()/active_connections() from any thread.
#ifndef GENOGATE_GATEWAY_SERVER_HTTP_SERVER_H_
#define GENOGATE_GATEWAY_SERVER_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "gateway/server/log.h"
#include "gateway/server/metrics.h"
#include "gateway/server/router.h"
#include "gateway/server/tls_context.h"

namespace genogate::gateway {

namespace internal {
struct HttpServerImpl;
}  // namespace internal

struct HttpServerOptions {
  // Address to bind (IPv4 or IPv6 literal, or "localhost"); port 0 picks a
  // free port (see HttpServer::port()).
  std::string host = "127.0.0.1";
  uint16_t port = 8080;

  int network_threads = 1;
  int handler_threads = 8;
  // Requests waiting for a handler thread beyond the running ones; when
  // full, new requests are answered 503.
  size_t handler_queue = 64;

  size_t max_connections = 512;
  // Request line plus header fields.
  size_t max_header_bytes = 16 * 1024;
  // Body limit for media types not listed in body_limits.
  size_t max_body_bytes = size_t{16} << 20;
  // Per media type (lower case, without parameters), e.g.
  // {"text/x-vcf", 256 MiB}. Applies to the decompressed size too.
  std::vector<std::pair<std::string, size_t>> body_limits = {
      {"text/x-vcf", size_t{256} << 20}};

  // A new connection's first request head, and any request head from its
  // first byte, must arrive within this.
  std::chrono::milliseconds header_timeout{10'000};
  // The body must arrive within this after the head.
  std::chrono::milliseconds body_timeout{300'000};
  // An idle keep-alive connection is closed after this.
  std::chrono::milliseconds idle_timeout{30'000};
  // Writing one answer.
  std::chrono::milliseconds write_timeout{60'000};
  // Sent with every 503.
  int retry_after_seconds = 5;

  // TLS when cert_file is set (then key_file is required). PEM files.
  std::string tls_cert_file;
  std::string tls_key_file;
  // mTLS: client certificates must chain to these CAs.
  std::string client_ca_file;
  TlsMinVersion tls_min_version = TlsMinVersion::kTls12;
  // How often the TLS files are checked for changes; zero: only
  // ReloadTls().
  std::chrono::milliseconds tls_watch_interval{5000};

  // Called on a network thread for routes that shed load: must be cheap and
  // never block (read an atomic a monitor keeps up to date). Null: never
  // overloaded.
  std::function<bool()> overloaded;

  // Authentication hook (issue 9), run on the handler thread before the
  // route's handler, for every routed request: it may set request->caller
  // and request->roles (logged as "caller"), or return an answer (401, 403)
  // that is sent instead of calling the handler. `route` is the route's
  // name, so operations routes (healthz, readyz, metrics) can stay open.
  // Null: every request is anonymous.
  std::function<std::optional<HttpResponse>(std::string_view route,
                                            HttpRequest* request)>
      authenticate;

  std::string server_name = "genogate";
};

class HttpServer {
 public:
  // Binds, listens and starts the threads. `router` must be complete (it is
  // read-only from now on). `metrics` and `logger` may be null; if not, they
  // must outlive the server. Errors: kInvalidInput for bad options;
  // kFailedPrecondition when the TLS files cannot be loaded (the message
  // names the file); kUnavailable when the address cannot be bound (in use,
  // not local).
  static Result<std::unique_ptr<HttpServer>> Start(
      HttpServerOptions options, std::shared_ptr<const Router> router,
      MetricsRegistry* metrics, Logger* logger);

  ~HttpServer();  // Stop(0) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the chosen one when options.port was 0).
  uint16_t port() const;
  // Connections currently open.
  size_t active_connections() const;

  // Reloads the TLS certificate, key and client CA from their files now
  // (thread-safe). Ok when the new ones are in use; kFailedPrecondition
  // (naming the file) when they cannot be loaded, the old ones stay; also
  // kFailedPrecondition without TLS. Logged either way.
  Status ReloadTls();

  // Graceful shutdown (see above). Blocks until every thread is joined.
  // Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  explicit HttpServer(std::shared_ptr<internal::HttpServerImpl> impl);
  std::shared_ptr<internal::HttpServerImpl> impl_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SERVER_HTTP_SERVER_H_

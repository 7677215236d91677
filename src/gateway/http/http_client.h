// HttpClient: a small synchronous HTTP/1.1 client interface (request in,
// response out) and its Boost.Beast + OpenSSL implementation.
//
// No Beast or Asio type appears here: only beast_http_client.cc includes
// them (they compile slowly), and the FHIR client and the delivery worker
// are tested against fakes of this interface.
//
// Design of the Beast implementation (NewHttpClient):
//  * Synchronous API for worker threads. Every pooled connection owns its
//    own io_context; each socket operation (resolve, connect, proxy CONNECT,
//    TLS handshake, write, read) runs that io_context for at most its
//    deadline and the operation is cancelled when the deadline passes.
//  * Keep-alive pool per origin (scheme, host, port): at most
//    `max_idle_per_host` idle connections, each dropped after `idle_timeout`.
//    A request on a reused connection that fails before any response byte
//    arrives (the server closed it meanwhile) is sent once more on a fresh
//    connection.
//  * https: TLS 1.2 or later only, certificate chain verified against the
//    system store or `ca_file`, host name (or IP address) verified, SNI sent
//    for host names, optional client certificate for mTLS.
//  * Redirects are never followed; 3xx is returned as a response and the
//    FHIR client reports it as an error.
//  * An HTTP proxy (`proxy_url`, http:// only) is used for every request:
//    absolute-form requests for http, CONNECT tunnels for https.
//
// Thread-safety: HttpClient implementations are thread-safe (Send may be
// called from several threads at once; the pool is mutex-protected, a
// connection is used by one call at a time).
#ifndef GENOGATE_GATEWAY_HTTP_HTTP_CLIENT_H_
#define GENOGATE_GATEWAY_HTTP_HTTP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace genogate::gateway {

// An absolute http(s) URL split into its parts.
struct Url {
  std::string scheme;  // "http" or "https" (lower case)
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path and query, at least "/"

  // "scheme://host[:port]" (port omitted when it is the default).
  std::string Origin() const;
  // Origin() + target.
  std::string ToString() const;
};

// Parses an absolute http:// or https:// URL. kInvalidInput for anything
// else (other schemes, user info, a fragment, a bad port, control
// characters or spaces). The message never quotes the query string.
Result<Url> ParseUrl(std::string_view url);

struct HttpRequest {
  std::string method = "GET";
  // Absolute http(s) URL.
  std::string url;
  // Extra header fields; Host, Content-Length and User-Agent are set by
  // the client.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header field named `name` (case-insensitive), or "".
  std::string_view Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends one request and reads the whole response (any status code,
  // including 3xx/4xx/5xx, is a response, not an error).
  // Errors:
  //   kInvalidInput       bad URL or method;
  //   kUnavailable        DNS failure, connection refused/reset/closed,
  //                       proxy refused the tunnel (retryable);
  //   kTimeout            a connect/handshake/write/read deadline passed
  //                       (retryable);
  //   kFailedPrecondition TLS: certificate or host name verification failed,
  //                       or no common protocol (the message names the
  //                       host; not retryable: fix the configuration);
  //   kLimitExceeded      response body or header larger than the limits.
  // Messages name the host and port but never the query string, the body,
  // or header values (they may carry PHI or secrets).
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct HttpClientOptions {
  // DNS resolution plus TCP connect (and the proxy's CONNECT answer), and
  // the TLS handshake, each.
  std::chrono::milliseconds connect_timeout{10'000};
  // Writing the request, and reading the response (each).
  std::chrono::milliseconds io_timeout{60'000};
  // Largest response body accepted.
  size_t max_response_bytes = size_t{64} << 20;
  // Idle keep-alive connections kept per origin (0 disables keep-alive).
  int max_idle_per_host = 4;
  // An idle connection older than this is closed instead of reused.
  std::chrono::milliseconds idle_timeout{15'000};
  // PEM CA bundle for https; empty means the system's default store.
  std::string ca_file;
  // PEM client certificate chain and private key for mTLS (both or none).
  std::string client_cert_file;
  std::string client_key_file;
  // "http://host:port" of an HTTP proxy, or empty for direct connections.
  std::string proxy_url;
  std::string user_agent = "genogate";
};

// The Boost.Beast implementation. kFailedPrecondition if the CA file or the
// client certificate/key cannot be loaded (the message names the file), or
// only one of client_cert_file/client_key_file is set; kInvalidInput for a
// bad proxy URL.
Result<std::unique_ptr<HttpClient>> NewHttpClient(
    const HttpClientOptions& options);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_HTTP_HTTP_CLIENT_H_

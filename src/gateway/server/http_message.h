// HttpRequest / HttpResponse: the transport-free HTTP messages that the
// server's route handlers see. No Beast or Asio type appears here: the Beast
// server (the only file that includes Beast) converts to and from these, so
// handlers (submissions, FHIR operations, admin, health) are plain functions
// tested without a socket.
//
// Handlers run on the server's handler threads, never on its network
// threads, so they may block (Redis, validation).
//
// Thread-safety: plain value types.
#ifndef GENOGATE_GATEWAY_SERVER_HTTP_MESSAGE_H_
#define GENOGATE_GATEWAY_SERVER_HTTP_MESSAGE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genogate::gateway {

namespace internal {
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}
}  // namespace internal

// The inline namespace gives these types their own linkage names: the HTTP
// client (http/http_client.h) has structs with the same names in
// genogate::gateway, and two different definitions of one name would break
// the one-definition rule (their implicit destructors would clash at link
// time). A translation unit still must not include both headers.
inline namespace server_messages {

struct HttpRequest {
  // "GET", "POST", ... as received (upper case).
  std::string method;
  // The request target as received: path and query, percent-encoded.
  std::string target;
  // The percent-decoded path without the query, e.g. "/submissions/abc".
  std::string path;
  // Query parameters, percent-decoded ('+' is a space), in order.
  std::vector<std::pair<std::string, std::string>> query;
  // Header fields in order; names as received (compare case-insensitively).
  std::vector<std::pair<std::string, std::string>> headers;
  // The body after Content-Encoding has been undone (gzip), within limits.
  std::string body;
  // The peer, "ip:port" (IPv6 as "[ip]:port").
  std::string remote_address;
  // Set by the server for every request (echoed as X-Request-Id, logged).
  std::string request_id;
  // Filled by the router from the route's pattern, e.g. {"id": "abc"} for
  // "/submissions/{id}".
  std::map<std::string, std::string> path_params;
  // Set by authentication for a caller with role "lab": the lab id it
  // submits and reads as (gateway/security/access_control.h); else empty.
  std::string caller_lab;
  // Set by authentication (empty: anonymous): the caller's identity, e.g. a
  // lab's id, and its roles ("lab", "admin", "auditor", "registry").
  std::string caller;
  std::vector<std::string> roles;
  // Set by the server: true when the request came over TLS.
  bool tls = false;
  // Set by the server for mTLS connections: the verified client
  // certificate's subject (RFC 2253, e.g. "CN=lab-a,O=Example Lab") and its
  // subjectAltNames as "DNS:...", "URI:...", "email:...", "IP:...".
  // Empty when no client certificate was presented.
  std::string client_cert_subject;
  std::vector<std::string> client_cert_sans;

  // The first header field named `name` (case-insensitive); empty if none.
  std::string_view Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (internal::EqualsIgnoreCase(k, name)) return v;
    }
    return {};
  }
  bool HasHeader(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (internal::EqualsIgnoreCase(k, name)) return true;
    }
    return false;
  }
  // The first query parameter named `name` (case-sensitive), if any.
  std::optional<std::string_view> Query(std::string_view name) const {
    for (const auto& [k, v] : query) {
      if (k == name) return std::string_view(v);
    }
    return std::nullopt;
  }
  bool HasRole(std::string_view role) const {
    for (const std::string& r : roles) {
      if (r == role) return true;
    }
    return false;
  }
};

struct HttpResponse {
  int status = 200;
  // Header fields to send (the server adds Date, Server, Content-Length,
  // Connection and X-Request-Id itself).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Replaces every field named `name` (case-insensitive) by one.
  void SetHeader(std::string name, std::string value) {
    std::erase_if(headers, [&](const auto& kv) {
      return internal::EqualsIgnoreCase(kv.first, name);
    });
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::string_view Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (internal::EqualsIgnoreCase(k, name)) return v;
    }
    return {};
  }
};

// A route handler. Must not throw; blocking is allowed (handler threads).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace server_messages

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SERVER_HTTP_MESSAGE_H_

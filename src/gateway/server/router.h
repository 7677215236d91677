// Router: picks the handler for a request by method and path pattern.
//
//   Router r;
//   r.Add("POST", "/submissions", "submissions.create", Create,
//         {.shed_when_overloaded = true});
//   r.Add("GET", "/submissions/{id}", "submissions.get", Get);
//   r.Add("POST", "/fhir/{type}/$validate", "fhir.validate_type", Validate);
//
// A pattern is a path of '/'-separated segments, each a literal (matched
// exactly against the percent-decoded segment; '$' is an ordinary character)
// or a parameter "{name}" that matches one non-empty segment, whose decoded
// value lands in HttpRequest::path_params. Where several patterns match, the
// one with a literal at the first segment where they differ wins
// ("/fhir/metadata" beats "/fhir/{type}"). A trailing slash is a different
// path. The query string is ignored for matching.
//
// No match: 404; a path that matches with other methods only: 405 with
// Allow. Both are OperationOutcomes, in FHIR XML when the request's
// `_format` or Accept asks for XML, else JSON. HEAD is served by the GET
// handler when no HEAD route exists (the server sends the headers without the
// body). Every route has a name used as the metrics label and in logs (no
// path parameters there: they may come from the data).
//
// Thread-safety: Add before serving; after that the router is read-only
// and Find/Handle may be called from any thread.
#ifndef GENOGATE_GATEWAY_SERVER_ROUTER_H_
#define GENOGATE_GATEWAY_SERVER_ROUTER_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gateway/server/http_message.h"

namespace genogate::gateway {

struct RouteOptions {
  // While the server's "overloaded" check is true (the delivery queue above
  // its high-water mark), requests to this route are answered 503 with
  // Retry-After before their body is read. For routes that enqueue work.
  bool shed_when_overloaded = false;
};

struct Route {
  std::string method;
  std::string pattern;
  std::string name;
  HttpHandler handler;
  RouteOptions options;
  // Split pattern: literal text, or the parameter name with is_param.
  struct Segment {
    std::string text;
    bool is_param = false;
  };
  std::vector<Segment> segments;
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;  // kFound
  std::map<std::string, std::string> params;
  // kMethodNotAllowed: the methods the path has, e.g. "GET, HEAD, POST".
  std::string allow;

  // The route's name, or "not_found" / "method_not_allowed".
  std::string_view name() const;
};

class Router {
 public:
  // Adds a route. kInvalidInput for a method that is not an upper-case
  // token, a pattern that does not start with '/', an empty or malformed
  // "{...}" segment or a parameter used twice, or an empty name; kConflict
  // if the same method and pattern (up to parameter names) exist already.
  Status Add(std::string_view method, std::string_view pattern,
             std::string name, HttpHandler handler, RouteOptions options = {});

  // Matches a request target ("/path?query", percent-encoded). A segment
  // that does not decode (bad %XX, or %00) matches nothing.
  RouteMatch Find(std::string_view method, std::string_view target) const;

  // Runs the matched route's handler with request->path_params filled, or
  // answers 404/405. Exceptions from handlers are caught and answered 500.
  HttpResponse Dispatch(const RouteMatch& match, HttpRequest* request) const;

  // Find + Dispatch.
  HttpResponse Handle(HttpRequest* request) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

// An error answer: `status` with an OperationOutcome JSON body of one issue
// (severity error, `issue_type` from http://hl7.org/fhir/issue-type, the
// message in details.text, and `code` as genogate's message id when not
// empty). The message is sent to the caller: never put PHI in it.
HttpResponse OperationOutcomeResponse(int status, std::string_view issue_type,
                                      std::string_view message,
                                      std::string_view code = {});

// OperationOutcomeResponse in the format `request` negotiates, as the
// router's own answers: `_format`, else the Accept type with the highest q;
// FHIR XML or JSON (the default). Only the request's query and Accept
// header are read.
HttpResponse NegotiatedOutcomeResponse(const HttpRequest& request, int status,
                                       std::string_view issue_type,
                                       std::string_view message,
                                       std::string_view code = {});

// Percent-decodes `s` ('+' stays '+' unless plus_is_space). false on a bad
// escape or a decoded NUL.
bool PercentDecode(std::string_view s, bool plus_is_space, std::string* out);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SERVER_ROUTER_H_

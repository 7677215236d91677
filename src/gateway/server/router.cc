#include "gateway/server/router.h"

#include <cstdlib>
#include <exception>
#include <optional>
#include <set>

#include "base/ascii.h"
#include "base/issue.h"
#include "fhir/operation_outcome.h"

namespace genogate::gateway {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  // path starts with '/'; "/" is one empty segment.
  size_t pos = 1;
  for (;;) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(pos));
      return out;
    }
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

// 1 for a FHIR XML type or _format value, 0 for JSON, -1 for neither.
int XmlOrJson(std::string_view value) {
  std::string v = AsciiLower(TrimBlanks(value));
  for (char& c : v) {
    if (c == ' ') c = '+';  // '+' in a query decodes to a space
  }
  if (v == "xml" || v == "application/fhir+xml" || v == "application/xml" ||
      v == "text/xml" || v == "application/xml+fhir") {
    return 1;
  }
  if (v == "json" || v == "application/fhir+json" || v == "application/json" ||
      v == "application/json+fhir" || v == "*/*" || v == "application/*") {
    return 0;
  }
  return -1;
}

// Whether the router's own answers (404, 405, 500) go out as FHIR XML:
// `_format` wins, else the Accept type with the highest q (JSON on ties
// and by default), as the API's negotiation.
bool WantsXml(const HttpRequest& request) {
  if (std::optional<std::string_view> f = request.Query("_format")) {
    return XmlOrJson(*f) == 1;
  }
  std::string_view accept = request.Header("Accept");
  int best = 0;
  double best_q = -1;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view()
                                             : accept.substr(comma + 1);
    size_t semi = item.find(';');
    int kind = XmlOrJson(item.substr(0, semi));
    double q = 1.0;
    while (semi != std::string_view::npos) {
      item.remove_prefix(semi + 1);
      semi = item.find(';');
      std::string_view param = TrimBlanks(item.substr(0, semi));
      if (param.starts_with("q=")) {
        q = std::atof(std::string(param.substr(2)).c_str());
      }
    }
    if (kind >= 0 && q > 0 && q > best_q) {
      best = kind;
      best_q = q;
    }
  }
  return best == 1;
}

void XmlEscape(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += "&quot;";
        break;
      case '\'':
        *out += "&apos;";
        break;
      default:
        *out += c;
    }
  }
}

// OperationOutcomeResponse in FHIR XML (the same one issue).
HttpResponse OperationOutcomeXmlResponse(int status,
                                         std::string_view issue_type,
                                         std::string_view message,
                                         std::string_view code) {
  std::string x = "<OperationOutcome xmlns=\"http://hl7.org/fhir\"><issue>";
  if (!code.empty()) {
    x += "<extension url=\"http://hl7.org/fhir/StructureDefinition/"
         "operationoutcome-message-id\"><valueString value=\"";
    XmlEscape(code, &x);
    x += "\"/></extension>";
  }
  x += "<severity value=\"error\"/><code value=\"";
  XmlEscape(issue_type, &x);
  x += "\"/><details><text value=\"";
  XmlEscape(message, &x);
  x += "\"/></details></issue></OperationOutcome>";
  HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "application/fhir+xml");
  r.body = std::move(x);
  return r;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Orders two matching routes: negative if a is more specific than b.
int CompareSpecificity(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) {
      return a.segments[i].is_param ? 1 : -1;
    }
  }
  return 0;
}

}  // namespace

bool PercentDecode(std::string_view s, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      char d = static_cast<char>(hi * 16 + lo);
      if (d == '\0') return false;
      *out += d;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      *out += ' ';
    } else {
      *out += c;
    }
  }
  return true;
}

std::string_view RouteMatch::name() const {
  switch (kind) {
    case Kind::kFound:
      return route->name;
    case Kind::kNotFound:
      return "not_found";
    case Kind::kMethodNotAllowed:
      return "method_not_allowed";
  }
  return "not_found";
}

Status Router::Add(std::string_view method, std::string_view pattern,
                   std::string name, HttpHandler handler,
                   RouteOptions options) {
  if (!IsToken(method)) {
    return Error(ErrorCode::kInvalidInput,
                 "route method must be an upper-case token");
  }
  if (pattern.empty() || pattern[0] != '/') {
    return Error(ErrorCode::kInvalidInput,
                 "route pattern must start with '/': " + std::string(pattern));
  }
  if (name.empty()) {
    return Error(ErrorCode::kInvalidInput, "route needs a name");
  }
  auto route = std::make_unique<Route>();
  route->method = std::string(method);
  route->pattern = std::string(pattern);
  route->name = std::move(name);
  route->handler = std::move(handler);
  route->options = options;
  std::set<std::string> params;
  for (std::string_view seg : SplitPath(pattern)) {
    Route::Segment s;
    if (!seg.empty() && seg.front() == '{') {
      if (seg.size() < 3 || seg.back() != '}') {
        return Error(ErrorCode::kInvalidInput,
                     "bad parameter segment in " + std::string(pattern));
      }
      s.text = std::string(seg.substr(1, seg.size() - 2));
      s.is_param = true;
      if (s.text.find_first_of("{}/") != std::string::npos ||
          !params.insert(s.text).second) {
        return Error(ErrorCode::kInvalidInput,
                     "bad or repeated parameter in " + std::string(pattern));
      }
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) {
        return Error(ErrorCode::kInvalidInput,
                     "braces inside a segment of " + std::string(pattern));
      }
      s.text = std::string(seg);
    }
    route->segments.push_back(std::move(s));
  }
  for (const auto& r : routes_) {
    if (r->method != route->method ||
        r->segments.size() != route->segments.size()) {
      continue;
    }
    bool same = true;
    for (size_t i = 0; i < r->segments.size() && same; ++i) {
      const auto& a = r->segments[i];
      const auto& b = route->segments[i];
      same = a.is_param == b.is_param && (a.is_param || a.text == b.text);
    }
    if (same) {
      return Error(ErrorCode::kConflict, "route " + route->method + " " +
                                             route->pattern +
                                             " is already registered");
    }
  }
  routes_.push_back(std::move(route));
  return Status::Ok();
}

RouteMatch Router::Find(std::string_view method,
                        std::string_view target) const {
  RouteMatch m;
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path[0] != '/') return m;
  std::vector<std::string_view> raw = SplitPath(path);
  std::vector<std::string> segs(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!PercentDecode(raw[i], false, &segs[i])) return m;
  }
  const Route* best = nullptr;
  const Route* best_get = nullptr;  // for HEAD without a HEAD route
  std::set<std::string> allowed;
  for (const auto& r : routes_) {
    if (r->segments.size() != segs.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const Route::Segment& s = r->segments[i];
      ok = s.is_param ? !segs[i].empty() : s.text == segs[i];
    }
    if (!ok) continue;
    allowed.insert(r->method);
    if (r->method == "GET") allowed.insert("HEAD");
    const Route** slot = r->method == method                        ? &best
                         : (method == "HEAD" && r->method == "GET") ? &best_get
                                                                    : nullptr;
    if (slot != nullptr &&
        (*slot == nullptr || CompareSpecificity(*r, **slot) < 0)) {
      *slot = r.get();
    }
  }
  if (best == nullptr) best = best_get;
  if (best == nullptr) {
    if (!allowed.empty()) {
      m.kind = RouteMatch::Kind::kMethodNotAllowed;
      for (const std::string& a : allowed) {
        if (!m.allow.empty()) m.allow += ", ";
        m.allow += a;
      }
    }
    return m;
  }
  m.kind = RouteMatch::Kind::kFound;
  m.route = best;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (best->segments[i].is_param) {
      m.params[best->segments[i].text] = std::move(segs[i]);
    }
  }
  return m;
}

HttpResponse Router::Dispatch(const RouteMatch& match,
                              HttpRequest* request) const {
  switch (match.kind) {
    case RouteMatch::Kind::kNotFound:
      return NegotiatedOutcomeResponse(
          *request, 404, "not-found", "No resource at this path.", "not-found");
    case RouteMatch::Kind::kMethodNotAllowed: {
      HttpResponse r = NegotiatedOutcomeResponse(
          *request, 405, "not-supported",
          "Method " + request->method +
              " is not allowed here; allowed: " + match.allow + ".",
          "method-not-allowed");
      r.SetHeader("Allow", match.allow);
      return r;
    }
    case RouteMatch::Kind::kFound:
      break;
  }
  request->path_params = match.params;
  try {
    return match.route->handler(*request);
  } catch (const std::exception&) {
    return NegotiatedOutcomeResponse(
        *request, 500, "exception",
        "Internal error while handling the request.", "internal");
  } catch (...) {
    return NegotiatedOutcomeResponse(
        *request, 500, "exception",
        "Internal error while handling the request.", "internal");
  }
}

HttpResponse Router::Handle(HttpRequest* request) const {
  return Dispatch(Find(request->method, request->target), request);
}

HttpResponse NegotiatedOutcomeResponse(const HttpRequest& request, int status,
                                       std::string_view issue_type,
                                       std::string_view message,
                                       std::string_view code) {
  return WantsXml(request)
             ? OperationOutcomeXmlResponse(status, issue_type, message, code)
             : OperationOutcomeResponse(status, issue_type, message, code);
}

HttpResponse OperationOutcomeResponse(int status, std::string_view issue_type,
                                      std::string_view message,
                                      std::string_view code) {
  IssueList issues;
  Issue i;
  i.severity = Severity::kError;
  i.type = std::string(issue_type);
  i.message = std::string(message);
  i.code = std::string(code);
  issues.Add(std::move(i));
  HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "application/fhir+json");
  r.body = fhir::OperationOutcomeJson(issues);
  return r;
}

}  // namespace genogate::gateway

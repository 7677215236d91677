// A minimal stand-in for the server's router in handler tests: matches
// "/a/{x}" patterns (literal segments win), decodes the query, and calls
// the ApiRoute's handler with path_params filled, and the caller fields
// as the server's AccessControl fills them.
#ifndef GENOGATE_TESTS_GATEWAY_API_API_TEST_UTIL_H_
#define GENOGATE_TESTS_GATEWAY_API_API_TEST_UTIL_H_

#include <rapidjson/document.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gateway/api/api_routes.h"

namespace genogate::gateway::testing {

inline std::string Decode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(
          std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

inline std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

class TestApi {
 public:
  explicit TestApi(std::vector<ApiRoute> routes) : routes_(std::move(routes)) {}

  HttpResponse Call(
      std::string method, std::string target, std::string body = "",
      std::vector<std::pair<std::string, std::string>> headers = {},
      std::string caller = "local",
      std::vector<std::string> roles = {"admin", "auditor", "lab",
                                        "registry"}) const {
    HttpRequest req;
    req.method = std::move(method);
    req.target = target;
    size_t q = target.find('?');
    std::string raw_path = target.substr(0, q);
    if (q != std::string::npos) {
      for (const std::string& kv : Split(target.substr(q + 1), '&')) {
        size_t eq = kv.find('=');
        req.query.emplace_back(
            Decode(kv.substr(0, eq), true),
            eq == std::string::npos ? "" : Decode(kv.substr(eq + 1), true));
      }
    }
    req.path = Decode(raw_path, false);
    req.body = std::move(body);
    req.headers = std::move(headers);
    // As AccessControl::Check fills them: the local mode ("local", every
    // role, no lab id) by default; a "lab" caller's lab id is its identity
    // (the configuration's default).
    if (caller != "local" &&
        std::find(roles.begin(), roles.end(), "lab") != roles.end()) {
      req.caller_lab = caller;
    }
    req.caller = std::move(caller);
    req.roles = std::move(roles);
    req.remote_address = remote_address_;
    req.request_id = request_id_;
    if (!caller_lab_.empty()) req.caller_lab = caller_lab_;
    std::vector<std::string> segs = Split(raw_path, '/');
    const ApiRoute* best = nullptr;
    int best_score = -1;
    bool path_matched = false;
    std::map<std::string, std::string> best_params;
    for (const ApiRoute& r : routes_) {
      std::vector<std::string> ps = Split(r.pattern, '/');
      if (ps.size() != segs.size()) continue;
      int score = 0;
      std::map<std::string, std::string> params;
      bool ok = true;
      for (size_t i = 0; i < ps.size() && ok; ++i) {
        std::string seg = Decode(segs[i], false);
        if (ps[i].size() > 2 && ps[i].front() == '{') {
          if (seg.empty()) ok = false;
          params[ps[i].substr(1, ps[i].size() - 2)] = seg;
        } else if (ps[i] == seg) {
          score += 1 << (16 - i);
        } else {
          ok = false;
        }
      }
      if (!ok) continue;
      path_matched = true;
      if (r.method != req.method) continue;
      if (score > best_score) {
        best = &r;
        best_score = score;
        best_params = params;
      }
    }
    if (!best) {
      HttpResponse r;
      r.status = path_matched ? 405 : 404;
      return r;
    }
    req.path_params = best_params;
    return best->handler(req);
  }

  const std::vector<ApiRoute>& routes() const { return routes_; }

  // What the server and AccessControl would set on the next requests.
  void set_peer(std::string remote_address, std::string request_id) {
    remote_address_ = std::move(remote_address);
    request_id_ = std::move(request_id);
  }
  void set_caller_lab(std::string lab) { caller_lab_ = std::move(lab); }

 private:
  std::vector<ApiRoute> routes_;
  std::string remote_address_;
  std::string request_id_;
  std::string caller_lab_;
};

inline rapidjson::Document ParseJsonBody(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  return d;
}

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_API_API_TEST_UTIL_H_

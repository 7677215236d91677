#include "gateway/security/access_control.h"

#include <algorithm>

#include "base/issue.h"
#include "fhir/operation_outcome.h"
#include "gateway/security/api_key.h"
#include "gateway/security/jwt.h"

namespace genogate::gateway {
namespace {

using AuthResult = Authenticator::AuthResult;
using Outcome = Authenticator::Outcome;

AuthResult Rejected(std::string reason, bool bearer = false) {
  AuthResult r;
  r.outcome = Outcome::kRejected;
  r.reason = std::move(reason);
  r.bearer = bearer;
  return r;
}

AuthResult Authenticated(const CallerGrant& g, std::string method) {
  AuthResult r;
  r.outcome = Outcome::kAuthenticated;
  r.caller.identity = g.identity;
  r.caller.roles = g.roles;
  r.caller.lab = g.lab;
  r.caller.method = std::move(method);
  return r;
}

bool ValidLabId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t CountHeaders(const HttpRequest& r, std::string_view name) {
  size_t n = 0;
  for (const auto& [k, v] : r.headers) {
    if (internal::EqualsIgnoreCase(k, name)) ++n;
  }
  return n;
}

// Splits a path into segments; false for a path that is not absolute or
// has empty, "." or ".." segments.
bool Segments(std::string_view path, std::vector<std::string_view>* out) {
  out->clear();
  if (path.empty() || path.front() != '/') return false;
  if (path == "/") return true;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") return false;
    out->push_back(seg);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool PatternMatches(std::string_view pattern,
                    const std::vector<std::string_view>& path) {
  std::vector<std::string_view> pat;
  if (!Segments(pattern, &pat)) return false;
  size_t i = 0;
  for (; i < pat.size(); ++i) {
    if (pat[i] == "*" && i + 1 == pat.size()) return true;
    if (i >= path.size()) return false;
    bool param =
        pat[i].size() >= 2 && pat[i].front() == '{' && pat[i].back() == '}';
    if (!param && pat[i] != path[i]) return false;
  }
  return i == path.size();
}

// A quoted-string safe value for WWW-Authenticate.
std::string Quotable(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out.push_back(c);
  }
  return out;
}

HttpResponse OutcomeResponse(int status, std::string_view type,
                             std::string_view message) {
  IssueList issues;
  Issue issue;
  issue.severity = Severity::kError;
  issue.type = std::string(type);
  issue.message = std::string(message);
  issue.code = status == 401   ? "unauthenticated"
               : status == 403 ? "forbidden"
                               : "auth-unavailable";
  issues.Add(std::move(issue));
  HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "application/fhir+json");
  r.SetHeader("Cache-Control", "no-store");
  r.body = fhir::OperationOutcomeJson(issues);
  return r;
}

}  // namespace

bool Caller::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Authenticator::~Authenticator() = default;

Result<std::unique_ptr<Authenticator>> Authenticator::Create(
    const SecurityConfig& config, const Clock* clock, HttpClient* jwks_client) {
  std::unique_ptr<Authenticator> a(new Authenticator());
  a->config_ = config;
  for (const JwtIssuerConfig& j : config.jwt) {
    std::unique_ptr<JwksSource> source;
    if (!j.jwks_file.empty()) {
      Result<JwkSet> set = JwkSet::LoadFile(j.jwks_file);
      if (!set.ok()) {
        return set.error().WithContext("issuer " + j.issuer + ": jwks_file");
      }
      source = NewStaticJwksSource(std::move(set).value());
    } else {
      if (jwks_client == nullptr) {
        return Error(ErrorCode::kInvalidInput,
                     "issuer " + j.issuer + ": jwks_url needs an HTTP client");
      }
      UrlJwksOptions o;
      o.url = j.jwks_url;
      o.ttl = j.jwks_ttl;
      o.min_refresh_interval = j.jwks_min_refresh;
      source = NewUrlJwksSource(std::move(o), jwks_client, clock);
    }
    JwtVerifierOptions vo;
    vo.issuer = j.issuer;
    vo.audiences = j.audiences;
    vo.algorithms = j.algorithms;
    vo.clock_skew = config.clock_skew;
    vo.max_lifetime = j.max_lifetime;
    Result<std::unique_ptr<JwtVerifier>> v =
        JwtVerifier::Create(std::move(vo), std::move(source), clock);
    if (!v.ok()) return v.error().WithContext("issuer " + j.issuer);
    a->verifiers_.push_back(std::move(v).value());
  }
  // An authenticated lab always has a lab id (an empty one would mean
  // "any lab", see SubmissionLab).
  auto check_grant = [](const CallerGrant& g) {
    return std::find(g.roles.begin(), g.roles.end(), kRoleLab) ==
               g.roles.end() ||
           ValidLabId(g.lab);
  };
  for (const ApiKeyEntry& e : config.api_keys) {
    if (!check_grant(e.grant)) {
      return Error(ErrorCode::kInvalidInput,
                   "API key of " + e.grant.identity + ": a lab needs a lab id");
    }
  }
  for (const MtlsEntry& e : config.mtls) {
    if (!check_grant(e.grant)) {
      return Error(
          ErrorCode::kInvalidInput,
          "mTLS mapping of " + e.grant.identity + ": a lab needs a lab id");
    }
  }
  for (const JwtIssuerConfig& j : config.jwt) {
    for (const auto& [sub, g] : j.subjects) {
      if (!check_grant(g)) {
        return Error(ErrorCode::kInvalidInput, "issuer " + j.issuer +
                                                   ", subject " + sub +
                                                   ": a lab needs a lab id");
      }
    }
  }
  std::vector<std::string> hashes;
  for (const ApiKeyEntry& e : config.api_keys) hashes.push_back(e.hash);
  Result<ApiKeyTable> table = ApiKeyTable::Create(hashes);
  if (!table.ok()) return table.error();
  a->api_keys_ = std::make_unique<ApiKeyTable>(std::move(table).value());
  return a;
}

AuthResult Authenticator::FromJwt(std::string_view token) const {
  Result<std::string> iss = PeekIssuer(token);
  if (!iss.ok()) return Rejected(iss.error().message(), true);
  size_t index = config_.jwt.size();
  for (size_t i = 0; i < config_.jwt.size(); ++i) {
    if (config_.jwt[i].issuer == *iss) index = i;
  }
  if (index == config_.jwt.size()) return Rejected("unknown issuer", true);
  const JwtIssuerConfig& cfg = config_.jwt[index];
  Result<JwtClaims> claims = verifiers_[index]->Verify(token);
  if (!claims.ok()) {
    if (claims.error().retryable()) {
      AuthResult r;
      r.outcome = Outcome::kUnavailable;
      r.reason = "the issuer's signing keys cannot be fetched";
      r.bearer = true;
      return r;
    }
    return Rejected(claims.error().message(), true);
  }
  const std::vector<std::string>& ids = claims->Values(cfg.identity_claim);
  if (ids.size() != 1 || ids[0].empty() || ids[0].size() > 256) {
    return Rejected("token has no usable \"" + cfg.identity_claim + "\" claim",
                    true);
  }
  CallerGrant g;
  g.identity = ids[0];
  auto sub = cfg.subjects.find(g.identity);
  if (sub != cfg.subjects.end()) {
    g.roles = sub->second.roles;
    g.lab = sub->second.lab;
  }
  for (const std::string& claim : cfg.role_claims) {
    for (const std::string& v : claims->Values(claim)) {
      auto m = cfg.role_mapping.find(v);
      if (m != cfg.role_mapping.end() &&
          std::find(g.roles.begin(), g.roles.end(), m->second) ==
              g.roles.end()) {
        g.roles.push_back(m->second);
      }
    }
  }
  if (g.roles.empty()) return Rejected("the token grants no role", true);
  if (std::find(g.roles.begin(), g.roles.end(), kRoleLab) != g.roles.end() &&
      g.lab.empty()) {
    if (!cfg.lab_claim.empty()) {
      const std::vector<std::string>& labs = claims->Values(cfg.lab_claim);
      if (labs.size() != 1) {
        return Rejected("token has no usable \"" + cfg.lab_claim + "\" claim",
                        true);
      }
      g.lab = labs[0];
    } else {
      g.lab = g.identity;
    }
    if (!ValidLabId(g.lab)) {
      return Rejected("the token's lab id is not [A-Za-z0-9._-]{1,64}", true);
    }
  }
  if (std::find(g.roles.begin(), g.roles.end(), kRoleLab) == g.roles.end()) {
    g.lab.clear();
  }
  std::sort(g.roles.begin(), g.roles.end());
  return Authenticated(g, "jwt");
}

AuthResult Authenticator::FromApiKey(std::string_view key) const {
  if (key.empty() || key.size() > 512) return Rejected("invalid API key");
  std::optional<size_t> i = api_keys_->Match(key);
  if (!i) return Rejected("invalid API key");
  return Authenticated(config_.api_keys[*i].grant, "api-key");
}

AuthResult Authenticator::AuthenticateTlsPeer(
    std::string_view subject, const std::vector<std::string>& sans) const {
  if (subject.empty() && sans.empty()) return AuthResult();
  for (const MtlsEntry& e : config_.mtls) {
    bool match = !e.subject.empty()
                     ? e.subject == subject
                     : std::find(sans.begin(), sans.end(), e.san) != sans.end();
    if (match) return Authenticated(e.grant, "mtls");
  }
  return AuthResult();
}

AuthResult Authenticator::Authenticate(const HttpRequest& request) const {
  size_t n_auth = CountHeaders(request, "Authorization");
  size_t n_key = CountHeaders(request, "X-API-Key");
  if (n_auth > 1 || n_key > 1 || (n_auth == 1 && n_key == 1)) {
    return Rejected("more than one credential presented");
  }
  AuthResult cert = AuthenticateTlsPeer(request.client_cert_subject,
                                        request.client_cert_sans);
  if (config_.require_mtls && cert.outcome != Outcome::kAuthenticated) {
    return Rejected(request.client_cert_subject.empty() &&
                            request.client_cert_sans.empty()
                        ? "a client certificate is required"
                        : "the client certificate is not mapped to a caller");
  }
  if (n_auth == 1) {
    std::string_view value = Trim(request.Header("Authorization"));
    size_t sp = value.find(' ');
    std::string_view scheme = value.substr(0, sp);
    std::string_view cred =
        sp == std::string_view::npos ? "" : Trim(value.substr(sp + 1));
    if (internal::EqualsIgnoreCase(scheme, "Bearer")) {
      if (!jwt_configured()) {
        return Rejected("bearer tokens are not accepted here", true);
      }
      if (cred.empty()) return Rejected("empty bearer token", true);
      return FromJwt(cred);
    }
    if (internal::EqualsIgnoreCase(scheme, "ApiKey")) {
      return FromApiKey(cred);
    }
    return Rejected("unsupported authorization scheme");
  }
  if (n_key == 1) return FromApiKey(Trim(request.Header("X-API-Key")));
  return cert;
}

std::vector<RouteRule> DefaultRouteRules() {
  const std::vector<std::string> lab = {std::string(kRoleLab)};
  const std::vector<std::string> lab_admin = {std::string(kRoleLab),
                                              std::string(kRoleAdmin)};
  return {
      {"GET", "/healthz", true, {}},
      {"GET", "/readyz", true, {}},
      {"GET", "/metrics", true, {}},
      {"GET", "/fhir/metadata", true, {}},
      {"POST", "/submissions", false, lab},
      {"GET", "/submissions", false, lab_admin},
      {"GET", "/submissions/{id}", false, lab_admin},
      {"POST", "/fhir", false, lab},
      {"POST", "/fhir/$validate", false, lab_admin},
      {"POST", "/fhir/$convert", false, lab_admin},
      {"POST", "/fhir/{type}/$validate", false, lab_admin},
      {"GET", "/audit", false, {std::string(kRoleAuditor)}},
      {"*", "/admin/*", false, {std::string(kRoleAdmin)}},
  };
}

AccessControl::AccessControl(std::shared_ptr<const Authenticator> authenticator,
                             std::vector<RouteRule> rules)
    : authenticator_(std::move(authenticator)), rules_(std::move(rules)) {}

const RouteRule* AccessControl::FindRule(std::string_view method,
                                         std::string_view path) const {
  std::vector<std::string_view> segs;
  if (!Segments(path, &segs)) return nullptr;
  for (const RouteRule& r : rules_) {
    bool method_ok = r.method == "*" || r.method == method ||
                     (r.method == "GET" && method == "HEAD");
    if (method_ok && PatternMatches(r.pattern, segs)) return &r;
  }
  return nullptr;
}

AccessControl::Decision AccessControl::Check(HttpRequest* request) const {
  request->caller.clear();
  request->roles.clear();
  request->caller_lab.clear();
  Decision d;
  const RouteRule* rule = FindRule(request->method, request->path);
  if (rule != nullptr && rule->open) {
    d.allowed = true;
    return d;
  }
  if (authenticator_ == nullptr) {  // unauthenticated local mode
    request->caller = std::string(kLocalCaller);
    request->roles = {std::string(kRoleAdmin), std::string(kRoleAuditor),
                      std::string(kRoleLab), std::string(kRoleRegistry)};
    d.allowed = true;
    return d;
  }
  Authenticator::AuthResult auth = authenticator_->Authenticate(*request);
  bool offer_key = authenticator_->api_keys_configured();
  switch (auth.outcome) {
    case Outcome::kNoCredentials:
      d.response =
          UnauthorizedResponse("credentials required", false, offer_key);
      return d;
    case Outcome::kRejected:
      d.response = UnauthorizedResponse(auth.reason, auth.bearer, offer_key);
      return d;
    case Outcome::kUnavailable:
      d.response = OutcomeResponse(503, "transient", auth.reason);
      d.response.SetHeader("Retry-After", "5");
      return d;
    case Outcome::kAuthenticated:
      break;
  }
  if (rule == nullptr) {
    d.response = ForbiddenResponse("not permitted");
    return d;
  }
  bool role_ok = false;
  for (const std::string& r : rule->roles) {
    if (auth.caller.HasRole(r)) role_ok = true;
  }
  if (!role_ok) {
    std::string need;
    for (const std::string& r : rule->roles) {
      need += (need.empty() ? "" : " or ") + r;
    }
    d.response = ForbiddenResponse("this needs the role " + need);
    return d;
  }
  request->caller = auth.caller.identity;
  request->roles = auth.caller.roles;
  request->caller_lab = auth.caller.lab;
  d.allowed = true;
  return d;
}

HttpResponse UnauthorizedResponse(std::string_view reason, bool bearer_error,
                                  bool offer_api_key) {
  HttpResponse r = OutcomeResponse(401, "login", reason);
  std::string bearer = "Bearer realm=\"genogate\"";
  if (bearer_error) {
    bearer += ", error=\"invalid_token\", error_description=\"" +
              Quotable(reason) + "\"";
  }
  r.headers.emplace_back("WWW-Authenticate", bearer);
  if (offer_api_key) {
    r.headers.emplace_back("WWW-Authenticate", "ApiKey realm=\"genogate\"");
  }
  return r;
}

HttpResponse ForbiddenResponse(std::string_view reason) {
  return OutcomeResponse(403, "forbidden", reason);
}

bool CanSubmitAs(const HttpRequest& request, std::string_view lab) {
  if (!request.HasRole(kRoleLab)) return false;
  return request.caller_lab.empty() || request.caller_lab == lab;
}

bool CanAccessSubmission(const HttpRequest& request,
                         std::string_view owner_lab) {
  if (request.HasRole(kRoleAdmin)) return true;
  if (!request.HasRole(kRoleLab)) return false;
  return request.caller_lab.empty() || request.caller_lab == owner_lab;
}

Result<std::string> SubmissionLab(const HttpRequest& request,
                                  std::string_view requested) {
  if (!request.HasRole(kRoleLab)) {
    return Error(ErrorCode::kPermissionDenied, "only a lab submits results");
  }
  if (request.caller_lab.empty()) return std::string(requested);  // local
  if (!requested.empty() && requested != request.caller_lab) {
    return Error(ErrorCode::kPermissionDenied,
                 "a lab submits only under its own lab id");
  }
  return request.caller_lab;
}

}  // namespace genogate::gateway

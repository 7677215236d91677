// Authentication and authorisation for genogate's HTTP API (and the MLLP
// listener's client certificates).
//
// Authenticator: credentials -> Caller (identity, roles, lab id).
//  * "Authorization: Bearer <JWT>": the issuer's verifier (security.jwt)
//    checks signature and claims; identity from identity_claim; roles from
//    the configured subject entry and from role_claims through
//    role_mapping; the lab id from the subject entry, lab_claim, or the
//    identity.
//  * "X-API-Key: <key>" or "Authorization: ApiKey <key>": the configured
//    hash (security.api_keys) decides identity, roles and lab.
//  * A verified client certificate (HttpRequest::client_cert_subject / sans):
//    the first security.mtls entry whose subject equals the certificate's
//    subject, or whose san is one of its SANs.
//  A header credential decides who the caller is; with require_mtls a
//  mapped client certificate is needed as well. Two header credentials at
//  once (Bearer and an API key) are refused. A credential that maps to no
//  role is refused.
//
// AccessControl: deny by default. A route table (method + path pattern ->
// open, or the roles of which the caller needs one) is evaluated for every
// request before its handler; the first matching rule decides and a path
// no rule matches is denied. Patterns are literal segments, "{name}" (one
// non-empty segment) and a final "*" (any remaining segments, also none).
// A "GET" rule also matches "HEAD"; method "*" matches every method. Paths
// with empty, "." or ".." segments match nothing (denied).
// Denials answer with an OperationOutcome (application/fhir+json):
//  * 401 + WWW-Authenticate (RFC 6750 Bearer with error="invalid_token"
//    and a description when a token was refused; also "ApiKey" when API
//    keys are configured) when credentials are missing or refused;
//  * 403 when the caller is known but lacks the role;
//  * 503 + Retry-After when the JWKS could not be fetched.
//
// Ownership (a lab sees and submits only as itself) is checked by the
// handlers with CanSubmitAs / CanAccessSubmission / SubmissionLab below.
//
// Thread-safety: Authenticator and AccessControl are immutable after
// construction (the JWKS caches inside are synchronised); Check may be
// called from several threads at once.
#ifndef GENOGATE_GATEWAY_SECURITY_ACCESS_CONTROL_H_
#define GENOGATE_GATEWAY_SECURITY_ACCESS_CONTROL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gateway/queue/clock.h"
#include "gateway/security/security_config.h"
#include "gateway/server/http_message.h"

namespace genogate::gateway {

class HttpClient;
class JwtVerifier;
class ApiKeyTable;

struct Caller {
  std::string identity;
  std::vector<std::string> roles;
  std::string lab;     // for role "lab"
  std::string method;  // "jwt", "api-key" or "mtls"

  bool HasRole(std::string_view role) const;
};

class Authenticator {
 public:
  // Builds the verifiers: JWKS files are read now (a bad one fails here);
  // JWKS URLs are fetched on first use through `jwks_client` (not owned; may
  // be null when no jwks_url is configured, else kInvalidInput). `clock` is
  // not owned. kInvalidInput / kNotFound for unusable configuration.
  static Result<std::unique_ptr<Authenticator>> Create(
      const SecurityConfig& config, const Clock* clock,
      HttpClient* jwks_client);
  ~Authenticator();

  enum class Outcome {
    kNoCredentials,  // nothing presented
    kAuthenticated,  // `caller` is set
    kRejected,       // presented but refused: 401 (`reason` says why)
    kUnavailable,    // keys could not be fetched: 503
  };
  struct AuthResult {
    Outcome outcome = Outcome::kNoCredentials;
    Caller caller;
    // Safe to log and to return to the client (no token, key or claim
    // values).
    std::string reason;
    // A bearer token was presented (for the WWW-Authenticate answer).
    bool bearer = false;
  };

  // Authenticates one HTTP request (headers and TLS peer fields).
  AuthResult Authenticate(const HttpRequest& request) const;

  // Maps a client certificate alone (the MLLP listener): kAuthenticated or
  // kNoCredentials (no certificate / no mapping).
  AuthResult AuthenticateTlsPeer(std::string_view subject,
                                 const std::vector<std::string>& sans) const;

  bool require_mtls() const { return config_.require_mtls; }
  bool api_keys_configured() const { return !config_.api_keys.empty(); }
  bool jwt_configured() const { return !config_.jwt.empty(); }

 private:
  Authenticator() = default;
  AuthResult FromJwt(std::string_view token) const;
  AuthResult FromApiKey(std::string_view key) const;

  SecurityConfig config_;
  std::vector<std::unique_ptr<JwtVerifier>> verifiers_;  // as config_.jwt
  std::unique_ptr<ApiKeyTable> api_keys_;
};

struct RouteRule {
  std::string method;  // "GET", "POST", ... or "*"
  std::string pattern;
  bool open = false;               // no authentication at all
  std::vector<std::string> roles;  // otherwise: one of these
};

// genogate's routes (issue 8's API):
//   open:     GET /healthz, /readyz, /metrics, /fhir/metadata
//   lab:      POST /submissions, POST /fhir (transaction)
//   lab, admin: GET /submissions, GET /submissions/{id},
//             POST /fhir/$validate, /fhir/{type}/$validate, /fhir/$convert
//   auditor:  GET /audit (AuditEvents as NDJSON)
//   admin:    every method under /admin/*
std::vector<RouteRule> DefaultRouteRules();

class AccessControl {
 public:
  // `authenticator` null is the unauthenticated local mode, for
  // `genogate serve` on a loopback address with no authentication
  // configured (CheckListenAllowed refuses it anywhere else): every request
  // is allowed as caller "local" with all four roles and no lab id, which
  // the ownership checks below read as "may act for any lab".
  AccessControl(std::shared_ptr<const Authenticator> authenticator,
                std::vector<RouteRule> rules);

  // The identity requests get in the unauthenticated local mode.
  static constexpr std::string_view kLocalCaller = "local";

  struct Decision {
    bool allowed = false;
    // When !allowed: the complete answer (401, 403 or 503).
    HttpResponse response;
  };

  // Decides one request and, when it is allowed and not on an open route,
  // fills request->caller, roles and caller_lab (they are cleared first, so
  // nothing the client sent survives).
  Decision Check(HttpRequest* request) const;

  // The rule that decides `method` + `path`, or nullptr (denied).
  const RouteRule* FindRule(std::string_view method,
                            std::string_view path) const;

 private:
  std::shared_ptr<const Authenticator> authenticator_;
  std::vector<RouteRule> rules_;
};

// Ownership checks for handlers (after Check filled the request). An
// authenticated caller with role "lab" always has a lab id; a "lab" caller
// without one exists only in the unauthenticated local mode and may act for
// any lab.
// A lab caller may submit only under its own lab id; admins never submit.
bool CanSubmitAs(const HttpRequest& request, std::string_view lab);
// Admins see every submission; a lab only its own (owner_lab equal to its
// lab id); everybody else none.
bool CanAccessSubmission(const HttpRequest& request,
                         std::string_view owner_lab);
// The lab id a submission is made under: `requested` (the `lab` query
// parameter; empty: the caller's own lab id). kPermissionDenied if the
// caller is not a lab or `requested` is another lab's id. (Local mode:
// `requested` as given, possibly empty.)
Result<std::string> SubmissionLab(const HttpRequest& request,
                                  std::string_view requested);

// The 401/403 answers (also for the server's own use).
HttpResponse UnauthorizedResponse(std::string_view reason, bool bearer_error,
                                  bool offer_api_key);
HttpResponse ForbiddenResponse(std::string_view reason);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SECURITY_ACCESS_CONTROL_H_

// OAuth2 AuthProviders: client credentials with a client secret, and SMART
// Backend Services (client credentials with a private_key_jwt client
// assertion signed RS384 or ES384).
//
// Token request (both): POST token_url, application/x-www-form-urlencoded,
// grant_type=client_credentials [&scope=...]; then
//   * client secret: Authorization: Basic base64(id:secret) (RFC 6749 2.3.1,
//     both form-url-encoded);
//   * SMART Backend Services: client_assertion_type=urn:ietf:params:oauth:
//     client-assertion-type:jwt-bearer&client_assertion=<JWT>, the JWT with
//     header {alg, typ "JWT", kid, [jku]} and claims iss = sub = client_id,
//     aud = token_url, exp = now + assertion_lifetime (at most 5 minutes),
//     jti = 128 random bits (new for every assertion).
// The answer's access_token (token_type Bearer) is cached until
// `refresh_margin` (capped at half the lifetime) before its expires_in
// (300 s when absent); Refresh() (after a 401/403) drops it so that the next
// Authorization() fetches a new one.
//
// Errors of Authorization():
//   kUnavailable        the token endpoint could not be reached, timed out or
//                       answered 408/429/5xx (retryable);
//   kFailedPrecondition the token endpoint refused the client (4xx, e.g.
//                       invalid_client), answered something that is not a
//                       bearer token, or the secret/key cannot be loaded:
//                       a configuration problem of the endpoint, retried by
//                       the worker with back-off, never a dead letter.
// Messages carry the token endpoint's host, the HTTP status and the OAuth2
// `error` code only: never the secret, the assertion or the token.
//
// Thread-safety: thread-safe; one token request at a time per provider
// (callers wait for it rather than each fetching a token).
#ifndef GENOGATE_GATEWAY_HTTP_OAUTH2_AUTH_H_
#define GENOGATE_GATEWAY_HTTP_OAUTH2_AUTH_H_

#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "gateway/http/auth_provider.h"
#include "gateway/http/http_client.h"
#include "gateway/queue/clock.h"

namespace genogate::gateway {

struct OAuth2Options {
  // Absolute http(s) URL of the token endpoint.
  std::string token_url;
  std::string client_id;
  // Space-separated scopes; empty sends none (e.g. "system/*.write").
  std::string scope;
  // Client secret flavour: loads the secret (called at creation and on
  // Refresh, so a rotated secret is picked up).
  SecretLoader client_secret;
  // SMART flavour: loads the PEM private key (RSA >= 2048 bits for RS384,
  // EC P-384 for ES384). Set exactly one of client_secret / private_key.
  SecretLoader private_key;
  // JWT header: the key id registered with the EHR (required for SMART),
  // and optionally the URL of the client's JWK set.
  std::string kid;
  std::string jku;
  // SMART: "RS384" or "ES384" to insist on one (it must fit the key);
  // empty: whichever the key gives.
  std::string algorithm;
  // Lifetime of a client assertion (1 s .. 5 min).
  std::chrono::seconds assertion_lifetime{300};
  // Fetch a new token this long before the cached one expires.
  std::chrono::seconds refresh_margin{60};
};

// Builds the provider; `http` sends the token requests (owned), `clock`
// (not owned; nullptr: the system clock) dates assertions and expiries.
// Loads the secret or key now: kFailedPrecondition if it cannot be loaded
// or the key is neither RSA (>= 2048 bits) nor EC P-384, or does not fit
// `algorithm`; kInvalidInput for an `algorithm` other than RS384/ES384,
// a bad token URL, an empty client id, a missing kid (SMART), both or
// neither of client_secret/private_key, or an assertion lifetime outside
// 1 s .. 5 min. No token is fetched until the first Authorization().
Result<std::unique_ptr<AuthProvider>> NewOAuth2Auth(
    OAuth2Options options, std::unique_ptr<HttpClient> http,
    const Clock* clock = nullptr);

// The signed client assertion NewOAuth2Auth sends (exposed for tests and
// diagnostics): header and claims as above, signed with `private_key_pem`
// (RS384 for RSA keys, ES384 for P-384 keys; the ECDSA signature in the
// JWS R||S form). kFailedPrecondition for an unusable key.
Result<std::string> SignClientAssertion(
    const std::string& private_key_pem, const std::string& client_id,
    const std::string& token_url, const std::string& kid,
    const std::string& jku, std::chrono::seconds lifetime, Timestamp now);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_HTTP_OAUTH2_AUTH_H_

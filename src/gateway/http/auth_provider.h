// AuthProvider: the Authorization header for requests to one endpoint.
//
// Implemented now: none, HTTP Basic, and a bearer token loaded from a file
// or an environment variable (re-loaded on Refresh, so an external agent can
// rotate it). OAuth2 client credentials and SMART Backend Services are in
// oauth2_auth.h.
//
// Secrets never appear in error messages or logs.
//
// Thread-safety: implementations are thread-safe.
#ifndef GENOGATE_GATEWAY_HTTP_AUTH_PROVIDER_H_
#define GENOGATE_GATEWAY_HTTP_AUTH_PROVIDER_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"

namespace genogate::gateway {

class AuthProvider {
 public:
  virtual ~AuthProvider() = default;
  // The value of the Authorization header, or "" to send none.
  // kFailedPrecondition if the credentials cannot be obtained.
  virtual Result<std::string> Authorization() = 0;
  // Called after a 401/403 answer. Returns true if the credentials changed
  // (or may have), so that one more attempt makes sense.
  virtual bool Refresh() = 0;
};

// Loads a secret (a password or a token); the message of an error names
// where it comes from, never the value.
using SecretLoader = std::function<Result<std::string>()>;

// No Authorization header; Refresh returns false.
std::unique_ptr<AuthProvider> NewNoAuth();

// "Basic base64(user:password)". The password is loaded at creation (an
// error then is returned by Authorization) and again on Refresh.
std::unique_ptr<AuthProvider> NewBasicAuth(std::string user,
                                           SecretLoader password);

// "Bearer <token>", the token loaded at creation and again on Refresh;
// Refresh returns true only when the reloaded token differs.
std::unique_ptr<AuthProvider> NewBearerAuth(SecretLoader token);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_HTTP_AUTH_PROVIDER_H_

// Endpoint: where and how genogate delivers bundles (an EHR's FHIR base, or
// a file:// outbox), parsed from a YAML file or from --endpoint NAME=URL.
//
// YAML (every key but name and url optional):
//
//   endpoints:
//     - name: ehr-main                      # [A-Za-z0-9._-], 1..128
//       url: https://ehr.example.org/fhir   # https://, http:// or file://DIR
//       auth:
//         type: bearer                      # none | basic | bearer |
//                                           # oauth2_client_credentials |
//                                           # smart_backend
//         token_file: secrets/ehr.token     # or token_env: EHR_TOKEN
//         # basic: username: genogate, password_file / password_env
//         # oauth2_client_credentials: token_url, client_id, scope,
//         #   client_secret_file / client_secret_env
//         # smart_backend: token_url, client_id, scope, kid, jku
//         #   (optional), private_key_file / private_key_env (PEM, RSA for
//         #   RS384 or EC P-384 for ES384), algorithm (optional: RS384 |
//         #   ES384, must fit the key)
//       tls:
//         ca_file: certs/ehr-ca.pem
//         client_cert: certs/genogate.pem   # mTLS, with client_key
//         client_key: certs/genogate.key
//       proxy: http://proxy.internal:3128
//       connect_timeout_ms: 10000
//       timeout_ms: 60000                   # each write and each read
//       concurrency: 2                      # delivery workers
//       max_bundle_bytes: 16777216
//       max_attempts: 10
//       backoff_base_ms: 1000               # retry back-off: full jitter
//       backoff_cap_ms: 600000              #   up to min(cap, base*2^n)
//       circuit_failures: 5                 # consecutive failures that
//       circuit_cool_down_ms: 30000         #   open the breaker; its pause
//
// Secrets are named (a file path or an environment variable name), never
// written in the configuration, and loaded only when the endpoint's auth
// provider is built; they never appear in error messages.
//
// Thread-safety: the parsed values are immutable value types.
#ifndef GENOGATE_GATEWAY_CONFIG_ENDPOINT_H_
#define GENOGATE_GATEWAY_CONFIG_ENDPOINT_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gateway/http/auth_provider.h"
#include "gateway/http/http_client.h"
#include "gateway/queue/clock.h"

namespace genogate::gateway {

// Where a secret comes from: exactly one of file / env.
struct SecretRef {
  std::string file;
  std::string env;
  bool empty() const { return file.empty() && env.empty(); }
};

// Loads a secret: the file's contents (trailing newline removed; the file
// must not be readable by "other": kPermissionDenied) or the environment
// variable's value (kNotFound if unset). Messages name the file or the
// variable, never the value.
Result<std::string> LoadSecret(const SecretRef& ref);

struct EndpointAuth {
  enum class Type {
    kNone,
    kBasic,
    kBearer,
    kOAuth2ClientCredentials,
    kSmartBackend
  };
  Type type = Type::kNone;
  std::string username;  // basic
  // basic: the password; bearer: the token; oauth2_client_credentials: the
  // client secret; smart_backend: the PEM private key.
  SecretRef secret;
  // oauth2_client_credentials and smart_backend (see http/oauth2_auth.h).
  std::string token_url;
  std::string client_id;
  std::string scope;
  std::string kid;  // smart_backend (required)
  std::string jku;  // smart_backend (optional)
  // smart_backend (optional): RS384 | ES384, checked against the key.
  std::string algorithm;
};

struct Endpoint {
  enum class Kind { kFhir, kFile };
  std::string name;
  // As configured (no secrets in it: user info is refused).
  std::string url;
  Kind kind = Kind::kFhir;
  // kFile: the outbox directory.
  std::string directory;
  EndpointAuth auth;
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::string proxy_url;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{60'000};
  int concurrency = 1;
  size_t max_bundle_bytes = size_t{16} << 20;
  int max_attempts = 10;
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_cap{10 * 60'000};
  int circuit_failures = 5;
  std::chrono::milliseconds circuit_cool_down{30'000};

  // The HttpClient options this endpoint asks for.
  HttpClientOptions HttpOptions() const;
};

// Parses the YAML text of a configuration file; `file_name` is used in
// messages. kInvalidInput with "<file>:<line>: <key>: <problem>" for YAML
// syntax errors, unknown keys, wrong types or values, and duplicate names.
Result<std::vector<Endpoint>> ParseEndpointsYaml(std::string_view yaml,
                                                 std::string_view file_name);

// Reads and parses a configuration file (kNotFound / kIo as ReadFile).
// Relative secret, CA and certificate paths are resolved against the
// file's directory.
Result<std::vector<Endpoint>> LoadEndpointsFile(const std::string& path);

// Parses "NAME=URL" (the --endpoint flag); defaults for everything else.
Result<Endpoint> ParseEndpointFlag(std::string_view flag);

// An endpoint for a bare URL (--to / --from), named "cli".
Result<Endpoint> EndpointFromUrl(std::string_view url);

// The endpoint named `name` (kNotFound otherwise).
Result<Endpoint> FindEndpoint(const std::vector<Endpoint>& endpoints,
                              std::string_view name);

// Builds the endpoint's auth provider (loading its secret or key now; OAuth2
// providers get their own HttpClient with the endpoint's TLS, proxy and
// timeouts for the token endpoint, and `clock`, nullptr meaning the system
// clock). kFailedPrecondition if the secret or key cannot be loaded or used;
// NewHttpClient's errors.
Result<std::unique_ptr<AuthProvider>> MakeAuthProvider(
    const Endpoint& e, const Clock* clock = nullptr);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_CONFIG_ENDPOINT_H_

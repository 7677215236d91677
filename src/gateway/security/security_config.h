// SecurityConfig: who may call genogate, read from the `security:` section
// of genogate's configuration file, and the "safe by default" listening rule.
//
//   security:
//     clock_skew_seconds: 60          # JWT exp/nbf/iat tolerance (0..600)
//     require_mtls: false             # true: every non-open route needs a
//                                     # client certificate mapped below
//     jwt:                            # bearer tokens, one entry per issuer
//       - issuer: https://idp.example.org/realms/genomics
//         audience: genogate          # or a list
//         jwks_file: idp-jwks.json    # or jwks_url: https://idp/.../certs
//         jwks_ttl_seconds: 3600
//         jwks_min_refresh_seconds: 60  # unknown-kid refetch rate limit
//         algorithms: [RS256, ES256]  # default: RS/PS/ES 256/384
//         max_lifetime_seconds: 0     # 0: no limit on exp - iat
//         identity_claim: sub         # the caller's identity
//         lab_claim: genogate_lab     # optional: claim holding the lab id
//         role_claims: [scope, scp, roles]   # the default
//         role_mapping:               # claim value -> role
//           genogate/lab.submit: lab
//           genogate/admin: admin
//         subjects:                   # optional, roles from config
//           - subject: acme-uploader
//             roles: [lab]
//             lab: acme
//     api_keys:                       # hashes only
//     (gateway/security/api_key.h)
//       - identity: acme-uploader
//         hash: sha256:9f86d081884c7d659a2feaa0c55ad015...
//         roles: [lab]
//         lab: acme                   # default: the identity
//     api_keys_file: /etc/genogate/auth/api-keys.yaml
//                                     # more api_keys entries, kept apart
//                                     # (e.g. a mounted Secret): the same
//                                     # list, as the document or under
//                                     # `api_keys:`; an empty file: none
//     mtls:                           # client certificate -> caller
//       - subject: "CN=acme-lab,O=Acme Genomics,C=GB"  # RFC 2253, exact
//         # or san: "DNS:uploader.acme.example" (also URI:, email:, IP:)
//         identity: acme-lab
//         roles: [lab]
//         lab: acme
//     audit:
//       pseudonym_key_file: secrets/audit-hmac.key  # or pseudonym_key_env
//
// Roles: "lab" (lab submitter: submits and reads only as its lab id),
// "admin" (integration admin), "auditor" (reads the audit trail),
// "registry" (registry reader). A caller with role "lab" always has a lab
// id ([A-Za-z0-9._-], 1..64): the configured `lab`, the token's lab claim,
// or else its identity.
//
// Thread-safety: plain value types and pure functions.
#ifndef GENOGATE_GATEWAY_SECURITY_SECURITY_CONFIG_H_
#define GENOGATE_GATEWAY_SECURITY_SECURITY_CONFIG_H_

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace genogate::gateway {

inline constexpr std::string_view kRoleLab = "lab";
inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleAuditor = "auditor";
inline constexpr std::string_view kRoleRegistry = "registry";

// What a credential grants.
struct CallerGrant {
  std::string identity;
  std::vector<std::string> roles;
  std::string lab;  // set (defaulted to identity) when roles has "lab"
};

struct JwtIssuerConfig {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks_file;
  std::string jwks_url;
  std::chrono::seconds jwks_ttl{3600};
  std::chrono::seconds jwks_min_refresh{60};
  std::vector<std::string> algorithms;  // empty: all accepted ones
  std::chrono::seconds max_lifetime{0};
  std::string identity_claim = "sub";
  std::string lab_claim;
  std::vector<std::string> role_claims = {"scope", "scp", "roles"};
  std::map<std::string, std::string> role_mapping;
  // Per-subject grants (keyed by the identity claim's value).
  std::map<std::string, CallerGrant> subjects;
};

struct ApiKeyEntry {
  std::string hash;  // "sha256:<hex>"
  CallerGrant grant;
};

struct MtlsEntry {
  std::string subject;  // RFC 2253 subject, or
  std::string san;      // "DNS:...", "URI:...", "email:...", "IP:..."
  CallerGrant grant;
};

struct SecurityConfig {
  std::chrono::seconds clock_skew{60};
  bool require_mtls = false;
  std::vector<JwtIssuerConfig> jwt;
  std::vector<ApiKeyEntry> api_keys;
  // `api_keys_file` (resolved); its entries are appended to api_keys by
  // LoadSecurityFile / LoadApiKeysFile, not by ParseSecurityYaml.
  std::string api_keys_file;
  std::vector<MtlsEntry> mtls;
  // HMAC key for patient pseudonyms in the audit trail (exactly one of
  // file / env, or neither: then the audit log cannot be built).
  std::string pseudonym_key_file;
  std::string pseudonym_key_env;
};

// Parses the `security` section of a configuration file's YAML text (other
// top-level sections are ignored; no section gives an empty config).
// kInvalidInput with "<file>:<line>: <key>: <problem>" for YAML syntax
// errors, unknown keys, wrong types, unknown roles or algorithms, bad
// hashes, duplicate issuers, API key hashes or mTLS mappings, a jwt entry
// without exactly one of jwks_file / jwks_url, or a "lab" grant whose lab
// id is not [A-Za-z0-9._-]{1,64}. Messages never quote hash values.
Result<SecurityConfig> ParseSecurityYaml(std::string_view yaml,
                                         std::string_view file_name);

// Reads and parses a configuration file (kNotFound / kIo naming it);
// relative jwks_file, pseudonym_key_file and api_keys_file paths are
// resolved against the file's directory, and the api_keys_file is read
// (LoadApiKeysFile).
Result<SecurityConfig> LoadSecurityFile(const std::string& path);

// Appends the entries of config->api_keys_file (if set) to
// config->api_keys. kNotFound / kIo naming the file; kInvalidInput with
// "<file>:<line>: api_keys[i].<key>: <problem>" for the same problems as
// `api_keys:` in the config (a hash already listed in either is one).
Status LoadApiKeysFile(SecurityConfig* config);

// The audit pseudonym key (file contents or environment value, at least
// 32 bytes). kFailedPrecondition if none is configured or it is shorter;
// kPermissionDenied for a key file readable or writable by others;
// kNotFound if the file or variable is missing. Never quotes the key.
Result<std::string> LoadPseudonymKey(const SecurityConfig& config);

// True if any authentication method (JWT issuer, API key, mTLS mapping) is
// configured.
bool AuthConfigured(const SecurityConfig& config);

// True for a host that can only be reached from this machine: IPv4
// 127.0.0.0/8, IPv6 ::1 (also bracketed, and ::ffff:127.x.x.x), and the
// names "localhost" and "*.localhost" (RFC 6761). False for everything
// else, including 0.0.0.0, ::, "" (all interfaces) and other host names
// (they may resolve to anything).
bool IsLoopbackAddress(std::string_view host);

// Splits "HOST:PORT" / "[V6]:PORT" / "HOST" into the host part (brackets
// removed); kInvalidInput for an unbalanced bracket.
Result<std::string> ListenHost(std::string_view listen);

// The safe-by-default rule for `genogate serve`: listening on a
// non-loopback address without any authentication configured is refused
// with kFailedPrecondition and a message that says how to configure
// authentication (or to listen on 127.0.0.1). OK otherwise.
Status CheckListenAllowed(const SecurityConfig& config,
                          std::string_view listen);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SECURITY_SECURITY_CONFIG_H_

// SecurityRuntime: everything `genogate serve` needs from this folder, built
// once at start-up from the configuration file.
//
//   Result<SecurityRuntime> sec = StartSecurity(options, clock, jwks_client);
//   // refuses a non-loopback listen address without authentication
//   server calls sec->access->Check(&request) before every handler;
//   services record through sec->audit (an AuditSink);
//   GET /audit -> HandleAuditRead(*sec->audit, request) (audit_http.h).
//
// The audit pseudonym key is security.audit.pseudonym_key_file/_env; when
// neither is configured, a random 32-byte key is kept in
// <data_dir>/audit-pseudonym.key (created 0600 on first start, refused if
// others can read it), so that the embedded default audits without set-up
// and pseudonyms stay stable across restarts.
//
// Thread-safety: the members are thread-safe (see their headers).
#ifndef GENOGATE_GATEWAY_SECURITY_SECURITY_RUNTIME_H_
#define GENOGATE_GATEWAY_SECURITY_SECURITY_RUNTIME_H_

#include <memory>
#include <string>

#include "base/result.h"
#include "gateway/queue/clock.h"
#include "gateway/queue/redis_client.h"
#include "gateway/security/access_control.h"
#include "gateway/security/audit.h"
#include "gateway/security/security_config.h"

namespace genogate::gateway {

class HttpClient;

struct SecurityRuntimeOptions {
  // genogate's configuration file ("" : no file, so no authentication).
  std::string config_file;
  // The HTTP listen address ("HOST:PORT").
  std::string listen;
  // Where the generated audit key lives when none is configured.
  std::string data_dir;
  // The Redis holding the audit stream (the queue's).
  RedisOptions redis;
};

struct SecurityRuntime {
  SecurityConfig config;
  // Null in the unauthenticated local mode (no authentication configured).
  std::shared_ptr<const Authenticator> authenticator;
  std::shared_ptr<const AccessControl> access;  // DefaultRouteRules()
  std::shared_ptr<AuditLog> audit;
  // One line for the start-up log: which authentication is on, or that
  // genogate serves loopback only without authentication.
  std::string summary;
};

// Loads the `security:` section, applies CheckListenAllowed, builds the
// authenticator (JWKS files read now; URLs fetched on first use through
// `jwks_client`, which may be null when none is configured), the access
// control and the audit log. `clock` and `jwks_client` are not owned;
// `clock` null is the system clock (JWT exp/nbf checks and JWKS caching).
// Errors: as LoadSecurityFile / CheckListenAllowed / Authenticator::Create
// / LoadPseudonymKey / AuditLog::Open (kUnavailable when Redis is down),
// kIo when the generated key cannot be written.
Result<SecurityRuntime> StartSecurity(const SecurityRuntimeOptions& options,
                                      const Clock* clock,
                                      HttpClient* jwks_client);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SECURITY_SECURITY_RUNTIME_H_

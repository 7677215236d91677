// Operations routes: /healthz, /readyz and /metrics.
//
//   GET /healthz  200 {"status":"alive"} while the process serves at all.
//   GET /readyz   200 {"status":"ready","checks":{"redis":"ok",...}} when
//                 every readiness check passes, else 503 with the failing
//                 checks' messages (Error messages carry no PHI).
//   GET /metrics  the registry in Prometheus text format 0.0.4.
//
// These routes stay open when authentication lands (issue 9): they reveal
// no data.
//
// Thread-safety: checks run on handler threads, possibly several at once;
// each check must be thread-safe.
#ifndef GENOGATE_GATEWAY_SERVER_HEALTH_H_
#define GENOGATE_GATEWAY_SERVER_HEALTH_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "gateway/queue/redis_client.h"
#include "gateway/server/metrics.h"
#include "gateway/server/router.h"

namespace genogate::gateway {

struct ReadinessCheck {
  std::string name;             // e.g. "redis", "definitions"
  std::function<Status()> run;  // Ok when ready; may block briefly
};

// Adds GET /healthz, /readyz and /metrics (route names "healthz", "readyz",
// "metrics"). `metrics` must outlive the router. Fails only if the routes
// exist already (kConflict).
Status AddOperationsRoutes(Router* router, MetricsRegistry* metrics,
                           std::vector<ReadinessCheck> checks);

// A check that PINGs Redis (one connection kept under a mutex, reconnected
// after failures; connect and command timeouts of at most one second).
ReadinessCheck RedisPingCheck(RedisOptions options);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SERVER_HEALTH_H_

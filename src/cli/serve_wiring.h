// The extension points of `genogate serve`: where the submission routes,
// the DeliveryService and the MLLP listener are wired in.
//
// serve_command.cc owns the process: configuration, data directory,
// embedded Redis, logger, metrics, the HTTP server and the signals. It
// calls, in this order:
//
//   1. StartServeServices(ctx)  (serve_services.cc) before the HTTP server
//      starts: load the endpoints, start background services (delivery
//      workers, MLLP listener), set ctx.overloaded and add readiness
//      checks; push a stop function for each service onto ctx.stops.
//   2. AddServeRoutes(ctx, router)  (serve_routes.cc): add the application
//      routes (submissions, /fhir, admin) next to /healthz, /readyz and
//      /metrics.
//   3. On SIGTERM/SIGINT: the HTTP server stops (grace period), then
//      ctx.stops run in reverse order, then the embedded Redis stops.
//
// The two functions live in separate files on purpose: the HTTP client's
// HttpRequest/HttpResponse (pulled in by endpoint.h and the delivery
// headers) and the server's messages (router.h, the API routes) share
// names, so no translation unit includes both families. This header
// includes neither.
#ifndef GENOGATE_CLI_SERVE_WIRING_H_
#define GENOGATE_CLI_SERVE_WIRING_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "gateway/queue/delivery_queue.h"
#include "gateway/queue/redis_client.h"

namespace genogate::conformance {
class Validator;
}
namespace genogate::fhir {
class PackageSet;
}
namespace genogate::gateway {
class AuditSink;
class Authenticator;
class DeliveryQueue;
class EndpointChecker;
class HttpClient;
class SubmissionService;
class Logger;
class MetricsRegistry;
struct MllpListenerOptions;
class Router;
struct ReadinessCheck;
struct ServerConfig;
}  // namespace genogate::gateway

namespace genogate::cli {

// What StartServeServices hands to AddServeRoutes (opaque pointers, so that
// this header includes neither HTTP family). Owned by ServeContext::keep.
struct ServeServices {
  gateway::SubmissionService* submissions = nullptr;
  const conformance::Validator* validator = nullptr;
  const fhir::PackageSet* packages = nullptr;
  gateway::DeliveryQueue* queue = nullptr;
  gateway::EndpointChecker* checker = nullptr;  // may be null
};

struct ServeContext {
  // Releases `keep` newest first (later objects point into earlier ones).
  ~ServeContext() {
    while (!keep.empty()) keep.pop_back();
  }

  // Inputs (set by serve_command.cc).
  const gateway::ServerConfig* config = nullptr;  // flags already applied
  std::string config_file;                        // "" without --config
  bool config_has_endpoints = false;
  std::vector<std::string> endpoint_flags;  // --endpoint NAME=URL
  std::string data_dir;                     // absolute, exists (0700)
  gateway::RedisOptions redis;              // embedded or --redis
  bool embedded_redis = false;
  gateway::MetricsRegistry* metrics = nullptr;
  gateway::Logger* logger = nullptr;
  // The audit trail (security's AuditLog): the submission service, the
  // delivery workers and the admin routes record into it. Not owned.
  gateway::AuditSink* audit = nullptr;
  // Maps MLLP client certificates to lab callers (security.mtls); null
  // without authentication.
  const gateway::Authenticator* authenticator = nullptr;

  // Outputs (set by the wiring).
  // Shared state the services hand to the routes (e.g. the endpoints, the
  // queue, the SubmissionService), owned here for the process's lifetime.
  std::vector<std::shared_ptr<void>> keep;
  // Set by StartServeServices for AddServeRoutes.
  ServeServices services;
  // MLLP listen address (--mllp-listen, else `mllp.listen`); "" : none.
  std::string mllp_listen;
  // The rest of the `mllp:` section (TLS, limits, timeouts); host/port come
  // from mllp_listen. Null: the listener's defaults.
  const gateway::MllpListenerOptions* mllp_options = nullptr;
  // The queue's key ring file (`queue.key_file`); "" : DATA_DIR/queue.key,
  // created on first start.
  std::string queue_key_file;
  // `queue.high_water_mark`: above this many ready + delayed jobs the
  // routes that enqueue answer 503 (ctx.overloaded).
  int64_t queue_high_water_mark = 10'000;
  // The config's `queue:` timings (reclaim_idle, report_lease).
  gateway::QueueOptions queue_options;
  // Cheap, non-blocking: true while the delivery queue is above its
  // high-water mark (read an atomic that a monitor updates). Null: never.
  std::function<bool()> overloaded;
  // Extra /readyz checks (e.g. "definitions"); "redis" is added already.
  std::vector<gateway::ReadinessCheck>* readiness = nullptr;
  // Run in reverse order at shutdown, after the HTTP server has stopped.
  std::vector<std::function<void()>> stops;
  // Run on SIGHUP (after the HTTP server's own TLS reload): reload TLS
  // certificates and keys from their files. Each logs its outcome.
  std::vector<std::function<void()>> reloads;
};

// The HTTP client security uses to fetch JWKS of issuers configured by URL
// (serve_services.cc; default options: system CA store, no proxy).
// kFailedPrecondition as NewHttpClient.
Result<std::shared_ptr<gateway::HttpClient>> NewJwksClient();

// Step 1 (serve_services.cc). Errors stop start-up with exit code 2.
Status StartServeServices(ServeContext& ctx);

// Step 2 (serve_routes.cc). Errors stop start-up with exit code 2.
Status AddServeRoutes(ServeContext& ctx, gateway::Router* router);

// `genogate serve --check-config` (serve_check.cc): what serve_command.cc
// has parsed (the config file's server:, redis: and queue: sections, the
// flags applied), for the checks of the other sections.
struct ServeConfigCheck {
  std::string config_file;  // "" without --config
  bool config_has_endpoints = false;
  std::vector<std::string> endpoint_flags;
  std::string redis_url;           // "" : embedded
  std::string redis_password_env;  // "" : none
  std::string mllp_listen;         // "" : none
  gateway::QueueOptions queue;
  // Files named by the server and queue sections (TLS material, the queue's
  // key ring); "" entries are skipped.
  std::vector<std::string> files;
  // The start-up listen rule (CheckListenSafety) given whether caller
  // authentication is configured in `security:`.
  std::function<Status(bool authentication_configured)> check_listen;
};

// Checks everything serve would load from the configuration without
// starting anything (no socket, no Redis, no file or environment variable
// named by the config is read): the security and endpoint sections, the
// Redis URL, the MLLP address, the listen rule. Prints "ok <file>", then
// one line per file ("file <path>") and environment variable ("env <name>")
// the config makes serve read at start-up, and "warning <text>" lines, on
// standard output, and returns 0; or prints the problem on standard error
// and returns 2.
int RunServeConfigCheck(const ServeConfigCheck& check);

}  // namespace genogate::cli

#endif  // GENOGATE_CLI_SERVE_WIRING_H_

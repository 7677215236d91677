// genogate serve: runs the gateway (HTTP server, embedded or external
// Redis, and what serve_wiring.h wires in) until SIGTERM or SIGINT. SIGHUP
// reloads the TLS certificates and keys of the HTTP server and the MLLP
// listener from their files (they are also reloaded when the files change).
//
// Flags override the config file's `server:` section; with neither, it
// serves on 127.0.0.1:8080 with a private redis-server in
// ./genogate-data/redis. A non-loopback listen address is refused unless
// callers are configured in the `security:` section (API keys, JWT
// issuers, or mTLS mappings with --client-ca; see CheckListenSafety);
// without them genogate serves loopback only, in the local mode, and says
// so at start-up.
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/serve_wiring.h"
#include "gateway/config/server_config.h"
#include "gateway/runtime/embedded_redis.h"
#include "gateway/security/access_control.h"
#include "gateway/security/audit_http.h"
#include "gateway/security/security_config.h"
#include "gateway/security/security_runtime.h"
#include "gateway/server/health.h"
#include "gateway/server/http_server.h"
#include "gateway/server/log.h"
#include "gateway/server/metrics.h"
#include "gateway/server/router.h"

namespace genogate::cli {
namespace {

struct ServeFlags {
  std::string config;
  std::string listen;
  std::string data_dir;
  std::string redis;
  std::string mllp_listen;
  std::vector<std::string> endpoints;
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  std::string log_level;
  bool insecure_allow_unauthenticated = false;
  int64_t shutdown_grace_ms = -1;
  bool check_config = false;
};

// (cli/common.h's Fail is not used here: common.h includes endpoint.h,
// whose HTTP client types clash with the server's; see serve_wiring.h.)
int ServeFail(const Error& e) {
  std::cerr << "genogate serve: " << e.message() << "\n";
  return 2;
}

int RunServe(const ServeFlags& f) {
  // 1. Configuration: file, then flags.
  gateway::ServerConfig config;
  bool has_endpoints = false;
  if (!f.config.empty()) {
    Result<gateway::ServerConfig> c =
        gateway::LoadServerConfigFile(f.config, &has_endpoints);
    if (!c.ok()) return ServeFail(c.error());
    config = std::move(c).value();
  }
  if (!f.listen.empty()) {
    config.listen = f.listen;
    Status s = gateway::ParseListenAddress(f.listen, &config.http.host,
                                           &config.http.port);
    if (!s.ok()) return ServeFail(s.error().WithContext("--listen"));
  }
  if (!f.data_dir.empty()) config.data_dir = f.data_dir;
  if (!f.redis.empty()) config.redis_url = f.redis;
  if (!f.tls_cert.empty() || !f.tls_key.empty()) {
    config.http.tls_cert_file = f.tls_cert;
    config.http.tls_key_file = f.tls_key;
  }
  if (!f.client_ca.empty()) config.http.client_ca_file = f.client_ca;
  if (!f.log_level.empty()) config.log_level = f.log_level;
  if (f.insecure_allow_unauthenticated) {
    config.insecure_allow_unauthenticated = true;
  }
  if (f.shutdown_grace_ms >= 0) {
    config.shutdown_grace = std::chrono::milliseconds(f.shutdown_grace_ms);
  }
  if (config.http.tls_cert_file.empty() != config.http.tls_key_file.empty()) {
    return ServeFail(Error(ErrorCode::kInvalidInput,
                           "--tls-cert and --tls-key go together"));
  }
  if (!config.http.client_ca_file.empty() &&
      config.http.tls_cert_file.empty()) {
    return ServeFail(Error(ErrorCode::kInvalidInput,
                           "--client-ca needs --tls-cert and --tls-key"));
  }
  gateway::LogLevel level = gateway::LogLevel::kInfo;
  if (!gateway::ParseLogLevel(config.log_level, &level)) {
    return ServeFail(Error(ErrorCode::kInvalidInput,
                           "--log-level must be debug, info, warn or error"));
  }
  if (f.check_config) {
    ServeConfigCheck check;
    check.config_file = f.config;
    check.config_has_endpoints = has_endpoints;
    check.endpoint_flags = f.endpoints;
    check.redis_url = config.redis_url;
    check.redis_password_env = config.redis_password_env;
    check.mllp_listen =
        f.mllp_listen.empty() ? config.mllp_listen : f.mllp_listen;
    check.queue = config.queue;
    const gateway::MllpTlsOptions& mt = config.mllp.tls_options;
    check.files = {config.http.tls_cert_file, config.http.tls_key_file,
                   config.http.client_ca_file, config.queue_key_file};
    if (config.mllp.tls) {
      check.files.insert(check.files.end(),
                         {mt.cert_file, mt.key_file, mt.client_ca_file});
    }
    check.check_listen = [config, mllp = check.mllp_listen](bool auth) mutable {
      config.authentication_configured = auth;
      Status s = gateway::CheckListenSafety(config);
      return s.ok() ? gateway::CheckMllpListenSafety(config, mllp) : s;
    };
    return RunServeConfigCheck(check);
  }
  // Authentication configured in the `security:` section lets serve
  // listen anywhere (StartSecurity checks the rule again below). mTLS
  // mappings need the server to ask for client certificates.
  if (!f.config.empty()) {
    Result<gateway::SecurityConfig> sc = gateway::LoadSecurityFile(f.config);
    if (!sc.ok()) return ServeFail(sc.error());
    if (gateway::AuthConfigured(*sc)) config.authentication_configured = true;
    if ((!sc->mtls.empty() || sc->require_mtls) &&
        config.http.client_ca_file.empty()) {
      return ServeFail(Error(
          ErrorCode::kFailedPrecondition,
          "security.mtls / security.require_mtls need client certificates: "
          "give --tls-cert, --tls-key and --client-ca (or server.tls with "
          "client_ca_file)"));
    }
  }
  Status safe = gateway::CheckListenSafety(config);
  if (!safe.ok()) return ServeFail(safe.error());
  const std::string mllp_listen =
      f.mllp_listen.empty() ? config.mllp_listen : f.mllp_listen;
  safe = gateway::CheckMllpListenSafety(config, mllp_listen);
  if (!safe.ok()) return ServeFail(safe.error());
  Result<gateway::RedisOptions> external = gateway::RedisOptions();
  if (!config.redis_url.empty()) {
    external = gateway::RedisOptions::FromUrl(config.redis_url);
    if (!external.ok()) {
      return ServeFail(external.error().WithContext("--redis"));
    }
    if (!config.redis_password_env.empty()) {
      const char* pw = std::getenv(config.redis_password_env.c_str());
      if (pw == nullptr || *pw == '\0') {
        return ServeFail(Error(ErrorCode::kFailedPrecondition,
                               "environment variable " +
                                   config.redis_password_env +
                                   " (redis.password_env) is not set"));
      }
      external->password = pw;
    }
  }

  // 2. Signals: blocked in every thread (the ones started below inherit the
  // mask) and taken synchronously by sigwait at the end.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  gateway::Logger logger(level);
  gateway::MetricsRegistry metrics;

  // 3. Data directory and Redis.
  std::error_code ec;
  std::filesystem::path data = std::filesystem::absolute(config.data_dir, ec);
  if (!ec) std::filesystem::create_directories(data, ec);
  if (ec) {
    return ServeFail(Error(ErrorCode::kFailedPrecondition,
                           "cannot create the data directory " +
                               config.data_dir + ": " + ec.message()));
  }
  ::chmod(data.c_str(), 0700);
  ServeContext ctx;
  ctx.config = &config;
  ctx.config_file = f.config;
  ctx.config_has_endpoints = has_endpoints;
  ctx.endpoint_flags = f.endpoints;
  ctx.mllp_listen = mllp_listen;
  ctx.mllp_options = &config.mllp;
  ctx.queue_key_file = config.queue_key_file;
  ctx.queue_high_water_mark = config.queue_high_water_mark;
  ctx.queue_options = config.queue;
  ctx.data_dir = data.string();
  ctx.metrics = &metrics;
  ctx.logger = &logger;
  std::unique_ptr<gateway::EmbeddedRedis> embedded;
  if (config.redis_url.empty()) {
    gateway::EmbeddedRedisOptions ro;
    ro.data_dir = (data / "redis").string();
    ro.logger = &logger;
    Result<std::unique_ptr<gateway::EmbeddedRedis>> r =
        gateway::EmbeddedRedis::Start(ro);
    if (!r.ok()) return ServeFail(r.error());
    embedded = std::move(r).value();
    ctx.redis = embedded->redis_options();
    ctx.embedded_redis = true;
    gateway::EmbeddedRedis* raw = embedded.get();
    metrics.AddCallback("genogate_embedded_redis_restarts",
                        "Times the embedded redis-server was restarted",
                        gateway::MetricsRegistry::Type::kCounter, {}, [raw] {
                          return std::vector<gateway::MetricSample>{
                              {{}, static_cast<double>(raw->restarts())}};
                        });
  } else {
    ctx.redis = *external;
  }
  std::vector<gateway::ReadinessCheck> readiness = {
      gateway::RedisPingCheck(ctx.redis)};
  ctx.readiness = &readiness;

  // Stops what was started, in reverse order.
  auto stop_services = [&] {
    for (auto it = ctx.stops.rbegin(); it != ctx.stops.rend(); ++it) (*it)();
    ctx.stops.clear();
    if (embedded) embedded->Stop();
  };

  // 4. Security: authentication, access control, audit log. StartSecurity
  // applies the listen rule again to the real address: only a loopback
  // address runs without authentication (the local mode, every role); an
  // mTLS deployment maps each client certificate to a caller through
  // security.mtls and refuses unmapped ones.
  gateway::SecurityRuntimeOptions so;
  so.config_file = f.config;
  so.listen = config.listen;
  so.data_dir = data.string();
  so.redis = ctx.redis;
  Result<std::shared_ptr<gateway::HttpClient>> jwks = NewJwksClient();
  if (!jwks.ok()) {
    stop_services();
    return ServeFail(jwks.error().WithContext("security"));
  }
  ctx.keep.push_back(*jwks);
  Result<gateway::SecurityRuntime> security =
      gateway::StartSecurity(so, nullptr, jwks->get());
  if (!security.ok()) {
    stop_services();
    return ServeFail(security.error().WithContext("security"));
  }
  if (security->authenticator == nullptr) {
    logger.Warn("serve.unauthenticated")
        .Str("listen", config.listen)
        .Str("message", security->summary);
  } else {
    logger.Info("serve.security").Str("summary", security->summary);
  }
  // The audit trail: services record into it; a failed append is logged
  // (no PHI: action, request and submission ids) and counted. Callers that
  // wait for an answer get 503 / ACK AR instead of success (audit.h).
  {
    gateway::AuditLog* log = security->audit.get();
    gateway::Logger* lg = &logger;
    log->set_failure_hook([lg](const gateway::AuditRecord& r, const Error& e) {
      lg->Error("audit.write_failed")
          .Str("action", gateway::AuditActionName(r.action))
          .Str("request_id", r.request_id)
          .Str("submission_id", r.submission_id)
          .Str("endpoint", r.endpoint)
          .Str("error", ErrorCodeName(e.code()));
    });
    metrics.AddCallback("genogate_audit_write_failures_total",
                        "Audit events that could not be stored",
                        gateway::MetricsRegistry::Type::kCounter, {}, [log] {
                          return std::vector<gateway::MetricSample>{
                              {{}, static_cast<double>(log->failures())}};
                        });
    ctx.keep.push_back(security->audit);  // outlives the services
    ctx.audit = log;
    ctx.authenticator = security->authenticator.get();
  }

  // 5. Services and routes (serve_wiring.h).
  Status started = StartServeServices(ctx);
  if (!started.ok()) {
    stop_services();
    return ServeFail(started.error());
  }
  if (ctx.services.packages != nullptr) {
    readiness.push_back(
        gateway::ReadinessCheck{"definitions", [] { return Status::Ok(); }});
  }
  auto router = std::make_shared<gateway::Router>();
  Status routes =
      gateway::AddOperationsRoutes(router.get(), &metrics, readiness);
  if (routes.ok()) routes = AddServeRoutes(ctx, router.get());
  if (routes.ok()) {
    std::shared_ptr<gateway::AuditLog> audit = security->audit;
    routes = router->Add("GET", "/audit", "audit",
                         [audit](const gateway::HttpRequest& r) {
                           return gateway::HandleAuditRead(*audit, r);
                         });
  }
  if (!routes.ok()) {
    stop_services();
    return ServeFail(routes.error());
  }

  // 6. The HTTP server.
  gateway::HttpServerOptions http = config.http;
  http.overloaded = ctx.overloaded;
  std::shared_ptr<const gateway::AccessControl> access = security->access;
  http.authenticate = [access](std::string_view route,
                               gateway::HttpRequest* request)
      -> std::optional<gateway::HttpResponse> {
    if (route == "healthz" || route == "readyz" || route == "metrics") {
      return std::nullopt;
    }
    gateway::AccessControl::Decision d = access->Check(request);
    if (d.allowed) return std::nullopt;
    return std::move(d.response);
  };
  Result<std::unique_ptr<gateway::HttpServer>> server =
      gateway::HttpServer::Start(http, router, &metrics, &logger);
  if (!server.ok()) {
    stop_services();
    return ServeFail(server.error());
  }
  std::string host = http.host.find(':') != std::string::npos
                         ? "[" + http.host + "]"
                         : http.host;
  logger.Info("serve.listening")
      .Str("address", host + ":" + std::to_string((*server)->port()))
      .Int("port", (*server)->port())
      .Bool("tls", !http.tls_cert_file.empty())
      .Bool("mtls", !http.client_ca_file.empty())
      .Str("redis", ctx.embedded_redis ? "embedded" : ctx.redis.Describe())
      .Str("data_dir", ctx.data_dir);

  // 7. Wait for SIGTERM / SIGINT, then shut down gracefully. SIGHUP:
  // reload the TLS files (each server logs the outcome; a failure keeps the
  // certificate in use).
  int sig = 0;
  for (;;) {
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) break;
    logger.Info("serve.reload").Str("signal", "SIGHUP");
    if (!http.tls_cert_file.empty()) (void)(*server)->ReloadTls();
    for (const auto& reload : ctx.reloads) reload();
  }
  logger.Info("serve.stopping")
      .Str("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT")
      .Int("grace_ms", config.shutdown_grace.count());
  (*server)->Stop(config.shutdown_grace);
  stop_services();
  logger.Info("serve.stopped");
  return 0;
}

}  // namespace

Command RegisterServe(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Run the gateway: HTTP API, delivery to the endpoints, until SIGTERM");
  cmd->add_option("--config", f->config,
                  "YAML file with server: and endpoints: sections");
  cmd->add_option("--listen", f->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 "
                  "picks a free one)");
  cmd->add_option("--data-dir", f->data_dir,
                  "Directory for the embedded Redis and outboxes (default "
                  "./genogate-data)");
  cmd->add_option("--redis", f->redis,
                  "redis://host:port/db or unix:///path of a Redis to use "
                  "instead of the embedded one");
  cmd->add_option("--mllp-listen", f->mllp_listen,
                  "HOST:PORT for the HL7 v2 MLLP listener (default: the "
                  "config's mllp.listen; none without either)");
  cmd->add_option("--endpoint", f->endpoints,
                  "NAME=URL of an endpoint to deliver to (repeatable)");
  cmd->add_option("--tls-cert", f->tls_cert, "Server certificate chain (PEM)");
  cmd->add_option("--tls-key", f->tls_key, "Server private key (PEM)");
  cmd->add_option("--client-ca", f->client_ca,
                  "Require client certificates issued by this CA (mTLS)");
  cmd->add_option("--log-level", f->log_level, "debug, info, warn or error");
  cmd->add_option("--shutdown-grace-ms", f->shutdown_grace_ms,
                  "How long in-flight requests may finish after SIGTERM "
                  "(default 30000)");
  cmd->add_flag("--insecure-allow-unauthenticated",
                f->insecure_allow_unauthenticated,
                "Allow the MLLP listener on a non-loopback address without "
                "client certificates (behind an integration engine that "
                "authenticates the labs); never opens the HTTP API");
  cmd->add_flag("--check-config", f->check_config,
                "Check the configuration (file and flags) and exit: 0 and "
                "the files and environment variables it names, or the "
                "problem and 2; starts nothing, reads no named file");
  return {cmd, [f] { return RunServe(*f); }};
}

}  // namespace genogate::cli

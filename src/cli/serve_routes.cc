// `genogate serve`, step 2: application routes. This file may include the
// server family (router.h, the API routes), never endpoint.h or the HTTP
// client (see serve_wiring.h).
#include <chrono>
#include <ctime>

#include "cli/serve_wiring.h"
#include "gateway/api/api_routes.h"
#include "gateway/server/router.h"

namespace genogate::cli {
namespace {

std::string NowInstant() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Status AddServeRoutes(ServeContext& ctx, gateway::Router* router) {
  gateway::ApiServices services;
  services.submissions = ctx.services.submissions;
  services.validator = ctx.services.validator;
  services.packages = ctx.services.packages;
  services.queue = ctx.services.queue;
  services.endpoints = ctx.services.checker;
  services.audit = ctx.audit;
  if (services.submissions == nullptr || services.validator == nullptr ||
      services.packages == nullptr || services.queue == nullptr) {
    return Error(ErrorCode::kInternal, "serve services were not started");
  }
  gateway::ApiOptions options;
  options.started = NowInstant();
  options.software_version = GENOGATE_VERSION;
  for (gateway::ApiRoute& r : gateway::ApiRoutes(services, options)) {
    Status s = router->Add(r.method, r.pattern, r.name, std::move(r.handler),
                           {.shed_when_overloaded = r.shed_when_overloaded});
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace genogate::cli

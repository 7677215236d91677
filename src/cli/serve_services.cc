// `genogate serve`, step 1: background services. This file may include the
// HTTP client family (endpoint.h, delivery, queue), never router.h or the
// API routes (see serve_wiring.h).
#include <memory>
#include <set>

#include "cli/serve_wiring.h"
#include "gateway/config/endpoint.h"
#include "gateway/server/log.h"

namespace genogate::cli {

Status StartServeServices(ServeContext& ctx) {
  // The endpoints: the config file's, then --endpoint flags (a flag
  // replaces a configured endpoint of the same name).
  auto endpoints = std::make_shared<std::vector<gateway::Endpoint>>();
  if (!ctx.config_file.empty() && ctx.config_has_endpoints) {
    Result<std::vector<gateway::Endpoint>> eps =
        gateway::LoadEndpointsFile(ctx.config_file);
    if (!eps.ok()) return eps.error();
    *endpoints = std::move(eps).value();
  }
  for (const std::string& flag : ctx.endpoint_flags) {
    Result<gateway::Endpoint> e = gateway::ParseEndpointFlag(flag);
    if (!e.ok()) return e.error();
    std::erase_if(*endpoints, [&](const gateway::Endpoint& x) {
      return x.name == e->name;
    });
    endpoints->push_back(std::move(e).value());
  }
  for (const gateway::Endpoint& e : *endpoints) {
    ctx.logger->Info("serve.endpoint")
        .Str("endpoint", e.name)
        .Str("kind",
             e.kind == gateway::Endpoint::Kind::kFile ? "file" : "fhir");
  }
  ctx.keep.push_back(endpoints);

  // EXTENSION POINT (lead): open the RedisQueue on ctx.redis (key ring
  // from the config / data dir), start the DeliveryService over
  // *endpoints, start the MLLP listener; for each, push its stop onto
  // ctx.stops; set ctx.overloaded from the queue's high-water mark; add a
  // "definitions" check to *ctx.readiness; keep the objects the routes
  // need in ctx.keep.
  return Status::Ok();
}

}  // namespace genogate::cli

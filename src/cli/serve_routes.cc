// `genogate serve`, step 2: application routes. This file may include the
// server family (router.h, the API routes), never endpoint.h or the HTTP
// client (see serve_wiring.h).
#include "cli/serve_wiring.h"
#include "gateway/server/router.h"

namespace genogate::cli {

Status AddServeRoutes(ServeContext& ctx, gateway::Router* router) {
  (void)ctx;
  (void)router;
  // EXTENSION POINT (lead): for each gateway::ApiRoute r of the API
  // (gateway/api/api_routes.h), built over the services StartServeServices
  // kept in ctx.keep:
  //   Status s = router->Add(r.method, r.pattern, r.name, r.handler,
  //                          {.shed_when_overloaded = r.shed_when_overloaded});
  //   if (!s.ok()) return s;
  return Status::Ok();
}

}  // namespace genogate::cli

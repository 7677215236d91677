#include "gateway/server/health.h"

#include <mutex>

#include "gateway/server/log.h"

namespace genogate::gateway {
namespace {

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "application/json");
  r.SetHeader("Cache-Control", "no-store");
  r.body = std::move(body);
  return r;
}

}  // namespace

Status AddOperationsRoutes(Router* router, MetricsRegistry* metrics,
                           std::vector<ReadinessCheck> checks) {
  Status s = router->Add("GET", "/healthz", "healthz", [](const HttpRequest&) {
    return Json(200, "{\"status\":\"alive\"}");
  });
  if (!s.ok()) return s;
  auto shared =
      std::make_shared<std::vector<ReadinessCheck>>(std::move(checks));
  s = router->Add("GET", "/readyz", "readyz", [shared](const HttpRequest&) {
    bool ready = true;
    std::string body = "{\"checks\":{";
    bool first = true;
    for (const ReadinessCheck& c : *shared) {
      Status r = c.run ? c.run() : Status::Ok();
      if (!first) body += ",";
      first = false;
      body += "\"";
      AppendJsonEscaped(&body, c.name);
      body += "\":\"";
      if (r.ok()) {
        body += "ok";
      } else {
        ready = false;
        AppendJsonEscaped(&body, r.error().ToString());
      }
      body += "\"";
    }
    body += std::string("},\"status\":\"") + (ready ? "ready" : "not ready") +
            "\"}";
    return Json(ready ? 200 : 503, std::move(body));
  });
  if (!s.ok()) return s;
  return router->Add(
      "GET", "/metrics", "metrics", [metrics](const HttpRequest&) {
        HttpResponse r;
        r.SetHeader("Content-Type", std::string(MetricsRegistry::kContentType));
        r.SetHeader("Cache-Control", "no-store");
        r.body = metrics ? metrics->Render() : std::string();
        return r;
      });
}

ReadinessCheck RedisPingCheck(RedisOptions options) {
  if (options.connect_timeout > std::chrono::milliseconds(1000)) {
    options.connect_timeout = std::chrono::milliseconds(1000);
  }
  if (options.command_timeout > std::chrono::milliseconds(1000)) {
    options.command_timeout = std::chrono::milliseconds(1000);
  }
  struct State {
    std::mutex mu;
    RedisOptions options;
    std::unique_ptr<RedisClient> client;
  };
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  return {"redis", [state]() -> Status {
            std::lock_guard lock(state->mu);
            if (state->client == nullptr) {
              Result<std::unique_ptr<RedisClient>> c =
                  RedisClient::Connect(state->options);
              if (!c.ok()) return c.error();
              state->client = std::move(c).value();
            }
            Result<RedisReply> r = state->client->Command({"PING"});
            if (!r.ok()) {
              state->client.reset();
              return r.error();
            }
            return Status::Ok();
          }};
}

}  // namespace genogate::gateway

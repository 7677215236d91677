// Admin routes: endpoints (with a connectivity check), queue depths, dead
// letters (list, show, replay, discard). All need the "admin" role.
#include <rapidjson/document.h>

#include <charconv>
#include <map>
#include <utility>

#include "conformance/validator/validator.h"
#include "gateway/api/api_routes.h"
#include "gateway/api/endpoint_checker.h"
#include "gateway/api/internal/api_util.h"
#include "gateway/queue/delivery_queue.h"
#include "gateway/security/audit_http.h"
#include "gateway/security/security_config.h"

namespace genogate::gateway {
namespace api {
namespace {

struct AdminContext {
  ApiServices services;
  ApiOptions options;
  const fhir::Schema& schema() const { return services.validator->schema(); }
};

// Negotiates and checks the admin role; a response when refused.
std::optional<HttpResponse> Guard(const AdminContext& c,
                                  const HttpRequest& req) {
  Result<fhir::Format> fmt = Negotiate(req);
  if (!fmt.ok()) {
    return ErrorFor(fmt.error(), fhir::Format::kJson, c.schema(), c.options);
  }
  return RequireRole(req, {kRoleAdmin}, c.schema());
}

Result<int64_t> IntParam(const HttpRequest& req, std::string_view name,
                         int64_t def, int64_t max) {
  std::optional<std::string_view> v = req.Query(name);
  if (!v) return def;
  int64_t n = -1;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < 0 || n > max) {
    return Error(ErrorCode::kInvalidInput,
                 "parameter '" + std::string(name) +
                     "' must be an integer from 0 to " + std::to_string(max));
  }
  return n;
}

// The dead letter id from {endpoint}/{job} or {id} ("E/job").
std::string DeadLetterId(const HttpRequest& req) {
  auto id = req.path_params.find("id");
  if (id != req.path_params.end()) return id->second;
  auto e = req.path_params.find("endpoint");
  auto j = req.path_params.find("job");
  if (e == req.path_params.end() || j == req.path_params.end()) return "";
  return MakeDeadLetterId(e->second, j->second);
}

void WriteDeadLetter(JsonWriter& w, const DeadLetter& d, bool with_payload) {
  w.StartObject();
  Str(w, "id");
  Str(w, d.id);
  Str(w, "endpoint");
  Str(w, d.job.endpoint);
  Str(w, "jobId");
  Str(w, d.job.id);
  Str(w, "reason");
  Str(w, d.reason);
  Str(w, "time");
  Str(w, IsoTime(d.time));
  Str(w, "attempts");
  w.Int(d.attempts);
  Str(w, "reportVersion");
  w.Int64(d.job.report_version);
  if (!d.job.metadata.empty()) {
    Str(w, "metadata");
    w.StartObject();
    for (const auto& [k, v] : d.job.metadata) {
      Str(w, k);
      Str(w, v);
    }
    w.EndObject();
  }
  // PHI (admin only): the EHR's OperationOutcome and, when asked, the
  // Bundle.
  if (with_payload) {
    if (!d.operation_outcome.empty()) {
      Str(w, "operationOutcome");
      rapidjson::Document check;
      check.Parse(d.operation_outcome.data(), d.operation_outcome.size());
      if (!check.HasParseError()) {
        w.RawValue(d.operation_outcome.data(), d.operation_outcome.size(),
                   rapidjson::kObjectType);
      } else {
        Str(w, d.operation_outcome);
      }
    }
    if (!d.job.payload.empty()) {
      Str(w, "payload");
      w.RawValue(d.job.payload.data(), d.job.payload.size(),
                 rapidjson::kObjectType);
    }
  }
  w.EndObject();
}

HttpResponse Endpoints(const AdminContext& c, const HttpRequest& req,
                       AuditRecord* audit) {
  if (auto refused = Guard(c, req)) return *refused;
  const fhir::Format fmt = NegotiateOrJson(req);
  std::optional<std::string_view> check = req.Query("check");
  const bool run_check = check && (*check == "true" || *check == "1");
  if (run_check) audit->details.emplace_back("check", "true");
  if (check && !run_check && *check != "false" && *check != "0") {
    return ErrorResponse(400, "invalid",
                         "parameter 'check' must be true or false",
                         "bad-request", fmt, c.schema());
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "endpoints");
  w.StartArray();
  if (c.services.endpoints) {
    for (const EndpointInfo& e : c.services.endpoints->endpoints()) {
      w.StartObject();
      Str(w, "name");
      Str(w, e.name);
      Str(w, "url");
      Str(w, e.url);
      Str(w, "kind");
      Str(w, e.kind);
      if (run_check) {
        Result<EndpointCheckResult> r = c.services.endpoints->Check(e.name);
        Str(w, "check");
        w.StartObject();
        Str(w, "ok");
        w.Bool(r.ok() && r->ok);
        if (!r.ok()) {
          Str(w, "error");
          Str(w, r.error().ToString());
        } else {
          if (!r->error.empty()) {
            Str(w, "error");
            Str(w, r->error);
          }
          if (!r->fhir_version.empty()) {
            Str(w, "fhirVersion");
            Str(w, r->fhir_version);
          }
          if (!r->software.empty()) {
            Str(w, "software");
            Str(w, r->software);
          }
          Str(w, "latencyMs");
          w.Int64(r->latency_ms);
        }
        w.EndObject();
      }
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(200, buf);
}

HttpResponse Queues(const AdminContext& c, const HttpRequest& req,
                    AuditRecord* /*audit*/) {
  if (auto refused = Guard(c, req)) return *refused;
  const fhir::Format fmt = NegotiateOrJson(req);
  Result<std::vector<QueueStats>> all = c.services.queue->AllStats();
  if (!all.ok()) return ErrorFor(all.error(), fmt, c.schema(), c.options);
  std::map<std::string, QueueStats> by_name;
  if (c.services.endpoints) {
    for (const EndpointInfo& e : c.services.endpoints->endpoints()) {
      by_name[e.name].endpoint = e.name;
    }
  }
  for (QueueStats& s : *all) by_name[s.endpoint] = std::move(s);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "queues");
  w.StartArray();
  for (const auto& [name, s] : by_name) {
    w.StartObject();
    Str(w, "endpoint");
    Str(w, name);
    Str(w, "ready");
    w.Int64(s.ready);
    Str(w, "inFlight");
    w.Int64(s.in_flight);
    Str(w, "delayed");
    w.Int64(s.delayed);
    Str(w, "dead");
    w.Int64(s.dead);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(200, buf);
}

HttpResponse ListDead(const AdminContext& c, const HttpRequest& req,
                      AuditRecord* audit) {
  if (auto refused = Guard(c, req)) return *refused;
  const fhir::Format fmt = NegotiateOrJson(req);
  Result<int64_t> offset = IntParam(req, "offset", 0, int64_t{1} << 40);
  Result<int64_t> limit = IntParam(req, "limit", 100, 1000);
  if (!offset.ok()) return ErrorFor(offset.error(), fmt, c.schema(), c.options);
  if (!limit.ok()) return ErrorFor(limit.error(), fmt, c.schema(), c.options);
  std::vector<std::string> endpoints;
  if (std::optional<std::string_view> e = req.Query("endpoint")) {
    endpoints.emplace_back(*e);
    audit->endpoint = std::string(*e);
  } else {
    Result<std::vector<QueueStats>> all = c.services.queue->AllStats();
    if (!all.ok()) return ErrorFor(all.error(), fmt, c.schema(), c.options);
    for (const QueueStats& s : *all) endpoints.push_back(s.endpoint);
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "deadLetters");
  w.StartArray();
  for (const std::string& e : endpoints) {
    Result<std::vector<DeadLetter>> dead =
        c.services.queue->ListDead(e, *offset, *limit);
    if (!dead.ok()) return ErrorFor(dead.error(), fmt, c.schema(), c.options);
    for (const DeadLetter& d : *dead) WriteDeadLetter(w, d, false);
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(200, buf);
}

HttpResponse ShowDead(const AdminContext& c, const HttpRequest& req,
                      AuditRecord* audit) {
  if (auto refused = Guard(c, req)) return *refused;
  const fhir::Format fmt = NegotiateOrJson(req);
  const std::string id = DeadLetterId(req);
  std::string endpoint, job;
  if (!ParseDeadLetterId(id, &endpoint, &job).ok()) {
    return ErrorResponse(404, "not-found", "no such dead letter", "not-found",
                         fmt, c.schema());
  }
  audit->endpoint = endpoint;
  audit->submission_id = job;
  Result<DeadLetter> d = c.services.queue->GetDead(id);
  if (!d.ok()) return ErrorFor(d.error(), fmt, c.schema(), c.options);
  FindPatientIdentifier(d->job.payload, &audit->patient_system,
                        &audit->patient_value);
  std::optional<std::string_view> payload = req.Query("payload");
  const bool with_payload = payload && (*payload == "true" || *payload == "1");
  if (with_payload) audit->details.emplace_back("payload", "shown");
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  WriteDeadLetter(w, *d, with_payload);
  return JsonResponse(200, buf);
}

HttpResponse ChangeDead(const AdminContext& c, const HttpRequest& req,
                        AuditRecord* audit, bool replay) {
  if (auto refused = Guard(c, req)) return *refused;
  const fhir::Format fmt = NegotiateOrJson(req);
  const std::string id = DeadLetterId(req);
  std::string endpoint, job;
  if (!ParseDeadLetterId(id, &endpoint, &job).ok()) {
    return ErrorResponse(404, "not-found", "no such dead letter", "not-found",
                         fmt, c.schema());
  }
  audit->endpoint = endpoint;
  audit->submission_id = job;
  if (c.services.audit != nullptr) {
    // Which patient the dead letter concerns (pseudonymised by the sink).
    Result<DeadLetter> d = c.services.queue->GetDead(id);
    if (d.ok()) {
      FindPatientIdentifier(d->job.payload, &audit->patient_system,
                            &audit->patient_value);
    }
  }
  Status s =
      replay ? c.services.queue->Replay(id) : c.services.queue->Discard(id);
  if (!s.ok()) return ErrorFor(s.error(), fmt, c.schema(), c.options);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "id");
  Str(w, id);
  Str(w, "state");
  Str(w, replay ? "queued" : "discarded");
  w.EndObject();
  return JsonResponse(200, buf);
}

// Runs an admin handler and records its AuditEvent (see ApiServices::audit).
HttpResponse Audited(const AdminContext& c, const HttpRequest& req,
                     AuditAction action, const std::string& operation,
                     HttpResponse (*fn)(const AdminContext&, const HttpRequest&,
                                        AuditRecord*)) {
  const Clock& clock =
      c.services.clock ? *c.services.clock : *SystemClock::Get();
  AuditRecord audit = AuditRecordFor(req, action, clock);
  audit.operation = operation;
  HttpResponse resp = fn(c, req, &audit);
  if (c.services.audit == nullptr) return resp;
  audit.when = clock.Now();
  audit.outcome = resp.status < 400   ? AuditOutcome::kSuccess
                  : resp.status < 500 ? AuditOutcome::kMinorFailure
                                      : AuditOutcome::kSeriousFailure;
  audit.outcome_text = "HTTP " + std::to_string(resp.status);
  if (!c.services.audit->Record(audit).ok()) {
    return ErrorFor(Error(ErrorCode::kUnavailable,
                          "the audit event of this request could not be "
                          "stored; a change it made stays made"),
                    NegotiateOrJson(req), c.schema(), c.options);
  }
  return resp;
}

}  // namespace
}  // namespace api

std::vector<ApiRoute> AdminRoutes(const ApiServices& services,
                                  const ApiOptions& options) {
  auto ctx = std::make_shared<const api::AdminContext>(
      api::AdminContext{services, options});
  std::vector<ApiRoute> routes;
  auto add = [&](std::string method, std::string pattern, std::string name,
                 HttpResponse (*fn)(const api::AdminContext&,
                                    const HttpRequest&, AuditRecord*),
                 AuditAction action) {
    std::string operation = method + " " + pattern;
    routes.push_back({std::move(method), std::move(pattern), std::move(name),
                      [ctx, fn, action, operation](const HttpRequest& r) {
                        return api::Audited(*ctx, r, action, operation, fn);
                      },
                      false});
  };
  add("GET", "/admin/endpoints", "admin.endpoints", &api::Endpoints,
      AuditAction::kAdmin);
  add("GET", "/admin/queues", "admin.queues", &api::Queues,
      AuditAction::kAdmin);
  add("GET", "/admin/dead-letters", "admin.dead_letters", &api::ListDead,
      AuditAction::kAdmin);
  for (std::string_view p :
       {"/admin/dead-letters/{endpoint}/{job}", "/admin/dead-letters/{id}"}) {
    std::string base(p);
    add("GET", base, "admin.dead_letter", &api::ShowDead, AuditAction::kAdmin);
    add(
        "DELETE", base, "admin.dead_letter_discard",
        [](const api::AdminContext& c, const HttpRequest& r, AuditRecord* a) {
          return api::ChangeDead(c, r, a, false);
        },
        AuditAction::kAdmin);
    add(
        "POST", base + "/replay", "admin.dead_letter_replay",
        [](const api::AdminContext& c, const HttpRequest& r, AuditRecord* a) {
          return api::ChangeDead(c, r, a, true);
        },
        AuditAction::kReplay);
  }
  return routes;
}

}  // namespace genogate::gateway

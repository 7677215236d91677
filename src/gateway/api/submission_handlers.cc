// POST /submissions and GET /submissions/{id}.
#include <utility>

#include "conformance/validator/validator.h"
#include "fhir/operation_outcome.h"
#include "gateway/api/api_routes.h"
#include "gateway/api/internal/api_util.h"
#include "gateway/security/access_control.h"
#include "gateway/security/audit_http.h"
#include "gateway/submission/submission_service.h"

namespace genogate::gateway {
namespace api {

// The 202 answer: a small JSON body (or, when XML is negotiated, an
// information OperationOutcome), Location and Content-Location.
HttpResponse AcceptedResponse(const SubmitResult& r, fhir::Format format,
                              bool as_outcome, const fhir::Schema& schema) {
  const std::string location = "/submissions/" + r.id;
  HttpResponse out;
  if (as_outcome || format == fhir::Format::kXml) {
    IssueList issues;
    Issue i;
    i.severity = Severity::kInformation;
    i.type = "informational";
    i.message = std::string(r.duplicate ? "already accepted" : "accepted") +
                " as submission " + r.id + "; status at " + location;
    i.code = "submission-accepted";
    issues.Add(std::move(i));
    issues.Append(r.issues);
    out = OutcomeResponse(202, issues, format, schema);
  } else {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    Str(w, "id");
    Str(w, r.id);
    Str(w, "location");
    Str(w, location);
    Str(w, "duplicate");
    w.Bool(r.duplicate);
    Str(w, "endpoints");
    w.StartArray();
    for (const std::string& e : r.endpoints) Str(w, e);
    w.EndArray();
    if (!r.issues.empty()) {
      Str(w, "outcome");
      std::string oo = fhir::OperationOutcomeJson(r.issues);
      w.RawValue(oo.data(), oo.size(), rapidjson::kObjectType);
    }
    w.EndObject();
    out = JsonResponse(202, buf);
  }
  out.SetHeader("Location", location);
  out.SetHeader("Content-Location", location);
  return out;
}

// Shared by POST /submissions and POST /fhir.
HttpResponse Submit(const ApiServices& s, const ApiOptions& o,
                    const HttpRequest& req, bool fhir_base, bool* handed_over) {
  const fhir::Schema& schema = s.validator->schema();
  Result<fhir::Format> fmt = Negotiate(req);
  if (!fmt.ok()) return ErrorFor(fmt.error(), fhir::Format::kJson, schema, o);
  if (auto denied = RequireRole(req, {kRoleLab}, schema)) return *denied;
  std::optional<SubmissionFormat> format =
      FormatForMediaType(MediaType(req), fhir_base);
  if (!format) {
    return ErrorResponse(
        415, "not-supported",
        fhir_base ? "Content-Type must be application/fhir+json or "
                    "application/fhir+xml"
                  : "Content-Type must be text/x-vcf, "
                    "x-application/hl7-v2+er7, application/json (lab JSON), "
                    "application/fhir+json or application/fhir+xml",
        "unsupported-media-type", *fmt, schema);
  }
  Result<SubmissionParams> params = ParseSubmissionParams(req.query);
  if (!params.ok()) return ErrorFor(params.error(), *fmt, schema, o);
  // A lab submits only as itself (`lab=` another lab's id: 403).
  Result<std::string> lab = SubmissionLab(req, params->lab);
  if (!lab.ok()) return ErrorFor(lab.error(), *fmt, schema, o);
  SubmissionRequest sr;
  sr.format = *format;
  sr.body = req.body;
  sr.params = std::move(params).value();
  sr.idempotency_key = std::string(req.Header("Idempotency-Key"));
  sr.caller = req.caller;
  sr.audit = AuditRecordFor(req, AuditAction::kSubmission, *SystemClock::Get());
  sr.audit.operation = fhir_base ? "POST /fhir" : "POST /submissions";
  if (handed_over != nullptr) *handed_over = true;
  sr.lab = std::move(lab).value();
  Result<SubmitResult> r = s.submissions->Submit(std::move(sr));
  if (!r.ok()) return ErrorFor(r.error(), *fmt, schema, o);
  if (!r->accepted) return OutcomeResponse(422, r->issues, *fmt, schema);
  return AcceptedResponse(*r, *fmt, fhir_base, schema);
}

HttpResponse AuditedSubmit(const ApiServices& s, const ApiOptions& o,
                           const HttpRequest& req, bool fhir_base) {
  bool handed_over = false;
  HttpResponse resp = Submit(s, o, req, fhir_base, &handed_over);
  if (handed_over || s.audit == nullptr || resp.status < 400) return resp;
  const Clock& clock = s.clock ? *s.clock : *SystemClock::Get();
  AuditRecord audit = AuditRecordFor(req, AuditAction::kSubmission, clock);
  audit.operation = fhir_base ? "POST /fhir" : "POST /submissions";
  audit.outcome = AuditOutcome::kMinorFailure;
  audit.outcome_text = "refused: HTTP " + std::to_string(resp.status);
  if (!s.audit->Record(audit).ok()) {
    return ErrorFor(
        Error(ErrorCode::kUnavailable, "the audit event could not be stored"),
        NegotiateOrJson(req), s.validator->schema(), o);
  }
  return resp;
}

namespace {

HttpResponse GetStatus(const ApiServices& s, const ApiOptions& o,
                       const HttpRequest& req) {
  const fhir::Schema& schema = s.validator->schema();
  const fhir::Format fmt = NegotiateOrJson(req);
  if (auto denied = RequireRole(req, {kRoleLab, kRoleAdmin}, schema)) {
    return *denied;
  }
  auto id = req.path_params.find("id");
  if (id == req.path_params.end()) {
    return ErrorResponse(404, "not-found", "no such submission", "not-found",
                         fmt, schema);
  }
  Result<SubmissionStatus> st = s.submissions->GetStatus(id->second);
  if (!st.ok()) return ErrorFor(st.error(), fmt, schema, o);
  // A lab sees only its own lab's submissions, with the same answer as for
  // an unknown id (404, not 403), so that ids cannot be probed.
  if (!CanAccessSubmission(req, st->record.lab)) {
    return ErrorResponse(404, "not-found", "no such submission", "not-found",
                         fmt, schema);
  }
  const SubmissionRecord& rec = st->record;
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "id");
  Str(w, rec.id);
  Str(w, "state");
  Str(w, st->state);
  Str(w, "format");
  Str(w, rec.format);
  Str(w, "reportVersion");
  w.Int64(rec.report_version);
  Str(w, "entries");
  w.Uint64(rec.entries);
  Str(w, "variants");
  w.Uint64(rec.variants);
  Str(w, "stages");
  w.StartArray();
  for (const auto& [stage, time] : rec.stages) {
    w.StartObject();
    Str(w, "stage");
    Str(w, stage);
    Str(w, "time");
    Str(w, IsoTime(time));
    w.EndObject();
  }
  w.EndArray();
  Str(w, "endpoints");
  w.StartArray();
  for (const EndpointStatus& e : st->endpoints) {
    w.StartObject();
    Str(w, "endpoint");
    Str(w, e.endpoint);
    Str(w, "jobId");
    Str(w, e.job_id);
    if (!e.job) {
      Str(w, "state");
      Str(w, rec.HasStage("queued") ? "unknown" : "pending");
    } else {
      const JobStatus& j = *e.job;
      Str(w, "state");
      Str(w, JobStateName(j.state));
      Str(w, "attempts");
      w.Int(j.attempts);
      Str(w, "updated");
      Str(w, IsoTime(j.updated));
      if (j.next_attempt != Timestamp{}) {
        Str(w, "nextAttempt");
        Str(w, IsoTime(j.next_attempt));
      }
      if (!j.last_reason.empty()) {
        Str(w, "reason");
        Str(w, j.last_reason);
      }
      if (!j.resource_ids.empty()) {
        Str(w, "resourceIds");
        w.StartArray();
        for (const std::string& rid : j.resource_ids) Str(w, rid);
        w.EndArray();
      }
      if (!j.dead_letter_id.empty()) {
        Str(w, "deadLetterId");
        Str(w, j.dead_letter_id);
      }
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(200, buf);
}

}  // namespace
}  // namespace api

std::vector<ApiRoute> SubmissionRoutes(const ApiServices& services,
                                       const ApiOptions& options) {
  std::vector<ApiRoute> routes;
  routes.push_back({"POST", "/submissions", "submissions.create",
                    [services, options](const HttpRequest& r) {
                      return api::AuditedSubmit(services, options, r, false);
                    },
                    true});
  routes.push_back({"GET", "/submissions/{id}", "submissions.get",
                    [services, options](const HttpRequest& r) {
                      return api::GetStatus(services, options, r);
                    },
                    false});
  return routes;
}

std::vector<ApiRoute> ApiRoutes(const ApiServices& services,
                                const ApiOptions& options) {
  std::vector<ApiRoute> all = SubmissionRoutes(services, options);
  for (auto* list : {&FhirRoutes, &AdminRoutes}) {
    for (ApiRoute& r : (*list)(services, options)) all.push_back(std::move(r));
  }
  return all;
}

}  // namespace genogate::gateway

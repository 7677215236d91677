// The gateway's HTTP API as plain route handlers over HttpRequest /
// HttpResponse (server/http_message.h), for the server's router:
//
//   submissions  POST /submissions, GET /submissions/{id}
//   fhir         GET /fhir/metadata, POST /fhir/$validate,
//                POST /fhir/{type}/$validate, POST /fhir/$convert,
//                POST /fhir (transaction Bundle -> a submission)
//   admin        GET /admin/endpoints[?check=true], GET /admin/queues,
//                GET /admin/dead-letters[?endpoint=E&offset=&limit=],
//                GET|DELETE /admin/dead-letters/{endpoint}/{job}
//                (also /admin/dead-letters/{id} with id "E%2Fjob"),
//                POST /admin/dead-letters/{endpoint}/{job}/replay
//   (each admin request is audited when ApiServices::audit is set)
//
// Errors are OperationOutcomes in the negotiated format (Accept or
// _format: json, xml, application/fhir+json, application/fhir+xml;
// default JSON): 400 bad parameters, 403 role missing, 404 unknown id,
// 406 an Accept that names no JSON or XML type (nor */*),
// 409 Idempotency-Key reused for another request, 413 too large, 415
// unsupported Content-Type, 422 mapping/validation errors (each issue with
// its line/column, HL7 location, JSON pointer or FHIRPath), 503 with
// Retry-After when Redis is unavailable. 404/405 for unknown paths and
// methods come from the router. No message carries PHI.
//
// Authorisation, deny by default, in every handler (besides the server's
// AccessControl::Check, which authenticated the caller and filled
// HttpRequest::caller, roles and caller_lab; a request without roles is
// refused with 403):
//   POST /submissions, POST /fhir     role "lab"; `lab=` must be the
//                                     caller's own lab id (403), and a FHIR
//                                     Bundle must not name another lab as
//                                     performer (403, SubmissionRequest::lab)
//   GET /submissions/{id}             "lab" or "admin"; a lab sees only its
//                                     own lab's submissions: another lab's
//                                     id answers 404 exactly as an unknown
//                                     id (ids cannot be probed)
//   $validate, $convert               "lab" or "admin" ($convert: `lab=` as
//                                     for submissions)
//   /admin/*                          "admin"
//   GET /fhir/metadata                open
// The unauthenticated local mode (loopback only) gives every request all
// roles and no lab id, which the ownership checks read as "any lab"
// (security/access_control.h).
//
// Thread-safety: handlers may run concurrently; the objects in ApiServices
// must be thread-safe (they are) and must outlive every handler.
#ifndef GENOGATE_GATEWAY_API_API_ROUTES_H_
#define GENOGATE_GATEWAY_API_API_ROUTES_H_

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/server/http_message.h"

namespace genogate::conformance {
class Validator;
}
namespace genogate::fhir {
class PackageSet;
}

namespace genogate::gateway {

class SubmissionService;
class DeliveryQueue;
class EndpointChecker;
class AuditSink;
class Clock;

struct ApiRoute {
  std::string method;
  // "/submissions/{id}" (router syntax).
  std::string pattern;
  // For metrics and logs, e.g. "submissions.create".
  std::string name;
  HttpHandler handler;
  // True for routes that enqueue work: the server answers 503 before
  // reading the body while the queue is over its high-water mark.
  bool shed_when_overloaded = false;
};

// Not owned; each must outlive the routes.
struct ApiServices {
  SubmissionService* submissions = nullptr;
  const conformance::Validator* validator = nullptr;
  const fhir::PackageSet* packages = nullptr;
  DeliveryQueue* queue = nullptr;
  // For GET /admin/endpoints (?check=true); may be null (no checks).
  EndpointChecker* endpoints = nullptr;
  // Where every /admin/* request that reaches its handler is recorded: one
  // AuditEvent ("replay" for .../replay, else "admin"; outcome from the
  // status: 0 for 2xx, 4 for 4xx, 8 for 5xx; endpoint, job id and the dead
  // letter's patient, pseudonymised). If the event cannot be stored the
  // answer is 503 instead (a replay or discard already done stays done).
  // Null: no audit. Submissions record through the SubmissionService.
  AuditSink* audit = nullptr;
  // The audit events' time; null: the system clock.
  const Clock* clock = nullptr;
};

struct ApiOptions {
  // CapabilityStatement.date (e.g. the start-up time) and software version.
  std::string started;
  std::string software_version;
  // The public FHIR base URL, if known (CapabilityStatement
  // implementation.url).
  std::string fhir_base_url;
  // Retry-After on 503.
  std::chrono::seconds retry_after{5};
};

// Route lists (each needs the services named in its comment).
// submissions, validator (schema for XML output).
std::vector<ApiRoute> SubmissionRoutes(const ApiServices& services,
                                       const ApiOptions& options);
// submissions, validator, packages.
std::vector<ApiRoute> FhirRoutes(const ApiServices& services,
                                 const ApiOptions& options);
// queue, validator, endpoints (optional).
std::vector<ApiRoute> AdminRoutes(const ApiServices& services,
                                  const ApiOptions& options);
// All three.
std::vector<ApiRoute> ApiRoutes(const ApiServices& services,
                                const ApiOptions& options);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_API_API_ROUTES_H_

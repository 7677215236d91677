// Helpers shared by the API handlers: content negotiation, FHIR and
// OperationOutcome responses, JSON writing. Private to gateway/api.
#ifndef GENOGATE_GATEWAY_API_INTERNAL_API_UTIL_H_
#define GENOGATE_GATEWAY_API_INTERNAL_API_UTIL_H_

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "base/issue.h"
#include "base/result.h"
#include "fhir/codec.h"
#include "gateway/api/api_routes.h"
#include "gateway/queue/clock.h"
#include "gateway/server/http_message.h"
#include "gateway/submission/submission_service.h"

namespace genogate::fhir {
class Schema;
}

namespace genogate::gateway::api {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The message of Negotiate's error for an unacceptable Accept (ErrorFor
// answers it 406).
inline constexpr std::string_view kNotAcceptable =
    "Accept names no acceptable type: the answer is application/fhir+json "
    "or application/fhir+xml";

// The response format from _format (wins) or Accept (highest q; */* and
// application/* mean JSON; no Accept: JSON). kInvalidInput for a _format
// value that is neither JSON nor XML, and kInvalidInput with kNotAcceptable
// for an Accept that lists types of which none is acceptable.
Result<fhir::Format> Negotiate(const HttpRequest& request);
// As Negotiate, JSON when it fails (for error answers).
fhir::Format NegotiateOrJson(const HttpRequest& request);

// The media type of the Content-Type header: lower case, no parameters.
std::string MediaType(const HttpRequest& request);

// "application/fhir+json; charset=utf-8" / "application/fhir+xml; ...".
std::string_view FhirContentType(fhir::Format format);

// A response carrying a FHIR resource given as JSON, converted to XML when
// asked (500 OperationOutcome if the conversion fails).
HttpResponse FhirResourceResponse(int status, const std::string& json,
                                  fhir::Format format,
                                  const fhir::Schema& schema);

// An OperationOutcome response of `issues` in `format`.
HttpResponse OutcomeResponse(int status, const IssueList& issues,
                             fhir::Format format, const fhir::Schema& schema);

// One error issue (message sent to the caller: never PHI).
HttpResponse ErrorResponse(int status, std::string_view issue_type,
                           std::string message, std::string_view code,
                           fhir::Format format, const fhir::Schema& schema);

// The answer for an Error from the service or the queue: kInvalidInput 400
// (406 for Negotiate's kNotAcceptable),
// kNotFound 404, kConflict 409, kLimitExceeded 413, kUnavailable and
// kTimeout 503 with Retry-After, kPermissionDenied 403, others 500 (with a
// generic message).
HttpResponse ErrorFor(const Error& error, fhir::Format format,
                      const fhir::Schema& schema, const ApiOptions& options);

// Deny by default: 403 unless the caller has one of `roles`
// (HttpRequest::roles, filled by AccessControl::Check; a request without
// roles is refused).
std::optional<HttpResponse> RequireRole(
    const HttpRequest& request, std::initializer_list<std::string_view> roles,
    const fhir::Schema& schema);

// The submission format of a lab or FHIR media type (nullopt otherwise).
// `fhir_base`: on /fhir, application/json and application/xml are FHIR.
std::optional<SubmissionFormat> FormatForMediaType(std::string_view media,
                                                   bool fhir_base);

// POST /submissions (fhir_base false) and POST /fhir (true): negotiate,
// check the role and Content-Type (415), parse parameters (400), submit
// (422 / 202 with Location; errors by ErrorFor). POST /fhir answers 202
// with an OperationOutcome; /submissions with a small JSON body.
// `handed_over` (optional) is set when the request reached the
// SubmissionService (which then recorded its audit event).
HttpResponse Submit(const ApiServices& services, const ApiOptions& options,
                    const HttpRequest& request, bool fhir_base,
                    bool* handed_over = nullptr);

// Submit, and when the request was refused before it reached the
// SubmissionService (role, Content-Type, parameters), one "submission"
// AuditEvent with outcome 4 in ApiServices::audit (503 if it cannot be
// stored).
HttpResponse AuditedSubmit(const ApiServices& services,
                           const ApiOptions& options,
                           const HttpRequest& request, bool fhir_base);

// "2026-01-01T00:00:00.000Z".
std::string IsoTime(Timestamp t);

void Str(JsonWriter& w, std::string_view s);
HttpResponse JsonResponse(int status, const rapidjson::StringBuffer& buf);

}  // namespace genogate::gateway::api

#endif  // GENOGATE_GATEWAY_API_INTERNAL_API_UTIL_H_

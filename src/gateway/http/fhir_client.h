// FhirClient: the FHIR R4 REST calls genogate makes to an EHR, over an
// HttpClient, with JSON bodies (application/fhir+json).
//
// Response mapping (TransactionOutcome::error / Error codes):
//   2xx                 success
//   3xx                 kFailedPrecondition (redirects are not followed:
//                       fix the base URL)
//   401                 kUnauthenticated  } the delivery worker refreshes
//   403                 kPermissionDenied } the credentials once
//   408, 429, 5xx       kUnavailable (retryable; Retry-After honoured)
//   404                 kNotFound (e.g. an unmatched conditional reference)
//   409, 412            kConflict
//   other 4xx           kInvalidInput (rejected)
// and transport errors as HttpClient::Send.
//
// PHI: request and response bodies, search parameters and the server's
// OperationOutcome may contain PHI. Error messages carry only the method,
// the resource type, the host, the HTTP status and the OperationOutcome's
// issue codes; the OperationOutcome itself is returned separately.
//
// Thread-safety: thread-safe if the HttpClient and AuthProvider are (the
// provided ones are).
#ifndef GENOGATE_GATEWAY_HTTP_FHIR_CLIENT_H_
#define GENOGATE_GATEWAY_HTTP_FHIR_CLIENT_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gateway/http/auth_provider.h"
#include "gateway/http/http_client.h"
#include "gateway/queue/clock.h"

namespace genogate::gateway {

// The result of sending one bundle.
struct TransactionOutcome {
  // Success: the EHR's ids from the transaction-response entries'
  // response.location, without history, e.g. "Patient/123".
  std::vector<std::string> resource_ids;
  // Failure (see the mapping above); nullopt on success.
  std::optional<Error> error;
  // The HTTP status, 0 if there was no response.
  int http_status = 0;
  // Retry-After of a 408/429/5xx answer.
  std::optional<std::chrono::milliseconds> retry_after;
  // The server's OperationOutcome JSON on failure, if it sent one (PHI).
  std::string operation_outcome_json;

  bool ok() const { return !error.has_value(); }
};

struct FhirClientOptions {
  // The FHIR base, e.g. "https://ehr.example.org/fhir" (http or https).
  std::string base_url;
  // Not owned; must outlive the client. nullptr: no Authorization header.
  AuthProvider* auth = nullptr;
  // For Retry-After HTTP-dates; nullptr means the system clock.
  const Clock* clock = nullptr;
  // Search: at most this many pages and this many bytes of responses.
  int max_pages = 1000;
  size_t max_search_bytes = size_t{1} << 30;
};

class FhirClient {
 public:
  // kInvalidInput if base_url is not an http(s) URL. `http` is not owned
  // and must outlive the client.
  static Result<FhirClient> Create(HttpClient* http, FhirClientOptions options);

  // POSTs a transaction (or batch) Bundle to the base URL.
  TransactionOutcome PostTransaction(std::string_view bundle_json) const;

  // GET [base]/[type]?[query], following Bundle.link[next] (which must stay
  // on the same origin: kFailedPrecondition otherwise), calling `on_resource`
  // with each entry's resource as compact JSON, in order. `query` is
  // "name=value&..." (characters outside the URL query set, such as '|',
  // are percent-encoded). kLimitExceeded past max_pages / max_search_bytes;
  // an error returned by `on_resource` stops the search and is returned.
  Status Search(std::string_view type, std::string_view query,
                const std::function<Status(std::string_view resource_json)>&
                    on_resource) const;

  // GET [base]/[type]/[id]: the resource JSON. kNotFound for 404/410.
  Result<std::string> Read(std::string_view type, std::string_view id) const;

  // GET [base]/metadata: the CapabilityStatement JSON. kFailedPrecondition if
  // it is not a CapabilityStatement for FHIR 4.0.x.
  Result<std::string> Metadata() const;

  // Patient ids ("Patient/123") with identifier system|value.
  Result<std::vector<std::string>> FindPatientsByIdentifier(
      std::string_view system, std::string_view value) const;

  const Url& base() const { return base_; }

 private:
  FhirClient(HttpClient* http, FhirClientOptions options, Url base)
      : http_(http), options_(std::move(options)), base_(std::move(base)) {}
  Result<HttpResponse> Get(const std::string& url) const;
  std::string BaseString() const;

  HttpClient* http_;
  FhirClientOptions options_;
  Url base_;
};

// Maps a response status to an Error (nullopt for 2xx); `what` names the
// request, e.g. "POST transaction to 127.0.0.1:8080".
std::optional<Error> ErrorForHttpStatus(int status, std::string_view what,
                                        std::string_view outcome_codes);

// Parses a Retry-After value: delta-seconds or an HTTP-date (IMF-fixdate),
// relative to `now`. nullopt if malformed; a date in the past gives 0.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         Timestamp now);

// The issues of an OperationOutcome JSON as text for a person, one line per
// issue: "severity code: diagnostics/details (expression)". May contain
// PHI: for the CLI user's terminal, never for logs. Empty if not an
// OperationOutcome.
std::string OperationOutcomeText(std::string_view json);

// "severity/code, ..." of the issues only (no free text): safe for logs.
std::string OperationOutcomeCodes(std::string_view json);

// Percent-encodes characters of a query string that are not allowed in a
// URL query (keeps '=', '&', ',', ':', '/', '%' and unreserved characters).
std::string EncodeQuery(std::string_view query);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_HTTP_FHIR_CLIENT_H_

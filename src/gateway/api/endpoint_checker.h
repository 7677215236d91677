// EndpointChecker: the connectivity check behind GET /admin/endpoints
// ?check=true. FHIR endpoints: GET [base]/metadata through FhirClient
// (must be a FHIR 4.0.x CapabilityStatement); file:// outboxes: the
// directory is writable.
//
// This header deliberately includes no HTTP-client header (whose
// HttpRequest/HttpResponse share names with the server's messages).
//
// Thread-safety: Check may be called concurrently.
#ifndef GENOGATE_GATEWAY_API_ENDPOINT_CHECKER_H_
#define GENOGATE_GATEWAY_API_ENDPOINT_CHECKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace genogate::gateway {

struct Endpoint;
class Clock;

// What an operator may see of an endpoint (no secrets).
struct EndpointInfo {
  std::string name;
  std::string url;
  std::string kind;  // "fhir" | "file"
};

struct EndpointCheckResult {
  bool ok = false;
  // Failure: the error code name and message (host, status; no PHI).
  std::string error;
  // FHIR success: CapabilityStatement.fhirVersion and software.name/version.
  std::string fhir_version;
  std::string software;
  int64_t latency_ms = 0;
};

class EndpointChecker {
 public:
  virtual ~EndpointChecker() = default;
  virtual const std::vector<EndpointInfo>& endpoints() const = 0;
  // kNotFound for an unknown endpoint name; otherwise the check's outcome.
  virtual Result<EndpointCheckResult> Check(std::string_view endpoint) = 0;
};

// A checker over the configured endpoints (a FhirClient per FHIR endpoint,
// built now: kFailedPrecondition if an endpoint's credentials or TLS files
// cannot be loaded). `clock` may be null.
Result<std::unique_ptr<EndpointChecker>> MakeEndpointChecker(
    const std::vector<Endpoint>& endpoints, const Clock* clock = nullptr);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_API_ENDPOINT_CHECKER_H_

// DeliveryTarget: where the delivery worker (and `genogate push`) sends a
// bundle: an EHR's FHIR base (FhirTarget) or a file:// outbox (FileOutbox).
//
// Thread-safety: implementations are thread-safe.
#ifndef GENOGATE_GATEWAY_DELIVERY_TARGET_H_
#define GENOGATE_GATEWAY_DELIVERY_TARGET_H_

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "gateway/config/endpoint.h"
#include "gateway/http/fhir_client.h"

namespace genogate::gateway {

class DeliveryTarget {
 public:
  virtual ~DeliveryTarget() = default;
  // Delivers one transaction bundle for job `job_id`. Failures are in the
  // outcome's error (see fhir_client.h for the codes).
  virtual TransactionOutcome Deliver(std::string_view job_id,
                                     std::string_view bundle_json) = 0;
  // A cheap connectivity check (FHIR: GET metadata; file: the directory is
  // writable). Errors as Deliver's.
  virtual Status Probe() = 0;
  // After a 401/403: reload credentials; true if one more attempt makes
  // sense.
  virtual bool RefreshAuth() = 0;
};

// Writes each bundle atomically to "<dir>/<job id>.json" (characters of the
// id outside [A-Za-z0-9._-], and a leading '.', are %XX-encoded). The same
// job delivered twice overwrites its file (idempotent). kIo on failure
// (not retryable by itself: the worker retries kIo as an endpoint problem).
// resource_ids is {"file:<name>"}.
class FileOutbox final : public DeliveryTarget {
 public:
  explicit FileOutbox(std::string directory) : dir_(std::move(directory)) {}
  TransactionOutcome Deliver(std::string_view job_id,
                             std::string_view bundle_json) override;
  Status Probe() override;
  bool RefreshAuth() override { return false; }
  // The file name a job id is written to (without the directory).
  static std::string FileName(std::string_view job_id);

 private:
  std::string dir_;
};

// Sends with a FhirClient. Owns the HttpClient and AuthProvider it is given
// (either may be null when the FhirClient does not use them).
class FhirTarget final : public DeliveryTarget {
 public:
  FhirTarget(FhirClient client, std::unique_ptr<HttpClient> http,
             std::unique_ptr<AuthProvider> auth)
      : http_(std::move(http)),
        auth_(std::move(auth)),
        client_(std::move(client)) {}
  TransactionOutcome Deliver(std::string_view job_id,
                             std::string_view bundle_json) override;
  Status Probe() override;
  bool RefreshAuth() override;
  const FhirClient& client() const { return client_; }

 private:
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<AuthProvider> auth_;
  FhirClient client_;
};

// The target for an endpoint: a FileOutbox for file://, else a FhirTarget
// with a Beast HttpClient and the endpoint's auth. Errors as NewHttpClient
// and MakeAuthProvider; kNotFound if a file:// directory does not exist.
Result<std::unique_ptr<DeliveryTarget>> MakeTarget(
    const Endpoint& endpoint, const Clock* clock = nullptr);

// A FhirClient for an endpoint (for pull); `http` and `auth` receive the
// objects the client uses, which must outlive it.
Result<FhirClient> MakeFhirClient(const Endpoint& endpoint,
                                  std::unique_ptr<HttpClient>* http,
                                  std::unique_ptr<AuthProvider>* auth,
                                  const Clock* clock = nullptr);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_DELIVERY_TARGET_H_

// MeteredSubmissionService: a SubmissionService that counts what passes
// through another one, for /metrics:
//
//   genogate_submissions_total{format,outcome}  counter; outcome accepted,
//       duplicate (same Idempotency-Key), rejected (mapping or validation
//       errors: 422 / MLLP AE) or error (could not finish: 400, 409, 503).
//   genogate_validation_issues_total{severity,code}  counter of the
//       findings reported for submissions and conversions ($convert),
//       by severity and genogate code (the FHIR issue type when a finding
//       has no code).
//
// Labels never carry data: formats, outcomes, severities and codes are
// fixed sets.
//
// Thread-safety: as the wrapped service (counters are atomic).
#ifndef GENOGATE_GATEWAY_SUBMISSION_METERED_SUBMISSION_SERVICE_H_
#define GENOGATE_GATEWAY_SUBMISSION_METERED_SUBMISSION_SERVICE_H_

#include "gateway/server/metrics.h"
#include "gateway/submission/submission_service.h"

namespace genogate::gateway {

class MeteredSubmissionService final : public SubmissionService {
 public:
  // Neither pointer is owned; both must outlive this object.
  MeteredSubmissionService(SubmissionService* inner, MetricsRegistry* metrics);

  Result<SubmitResult> Submit(SubmissionRequest request) override;
  Result<ConvertResult> Convert(const SubmissionRequest& request) override;
  Result<SubmissionStatus> GetStatus(std::string_view id) override;

 private:
  void CountIssues(const IssueList& issues);

  SubmissionService* inner_;
  CounterFamily* submissions_;
  CounterFamily* issues_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SUBMISSION_METERED_SUBMISSION_SERVICE_H_

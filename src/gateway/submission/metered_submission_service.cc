#include "gateway/submission/metered_submission_service.h"

#include <string>
#include <utility>

namespace genogate::gateway {

MeteredSubmissionService::MeteredSubmissionService(SubmissionService* inner,
                                                   MetricsRegistry* metrics)
    : inner_(inner),
      submissions_(&metrics->AddCounter("genogate_submissions_total",
                                        "Submissions by format and outcome",
                                        {"format", "outcome"})),
      issues_(&metrics->AddCounter(
          "genogate_validation_issues_total",
          "Findings reported for submissions and conversions, by severity "
          "and code",
          {"severity", "code"})) {}

void MeteredSubmissionService::CountIssues(const IssueList& issues) {
  for (const Issue& i : issues.issues()) {
    issues_
        ->WithLabels({std::string(SeverityName(i.severity)),
                      i.code.empty() ? i.type : i.code})
        .Inc();
  }
}

Result<SubmitResult> MeteredSubmissionService::Submit(
    SubmissionRequest request) {
  const std::string format(SubmissionFormatName(request.format));
  Result<SubmitResult> r = inner_->Submit(std::move(request));
  const char* outcome = !r.ok()        ? "error"
                        : !r->accepted ? "rejected"
                        : r->duplicate ? "duplicate"
                                       : "accepted";
  submissions_->WithLabels({format, outcome}).Inc();
  if (r.ok()) CountIssues(r->issues);
  return r;
}

Result<ConvertResult> MeteredSubmissionService::Convert(
    const SubmissionRequest& request) {
  Result<ConvertResult> r = inner_->Convert(request);
  if (r.ok()) CountIssues(r->issues);
  return r;
}

Result<SubmissionStatus> MeteredSubmissionService::GetStatus(
    std::string_view id) {
  return inner_->GetStatus(id);
}

}  // namespace genogate::gateway

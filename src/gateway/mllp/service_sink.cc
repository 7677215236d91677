#include "gateway/mllp/service_sink.h"

#include <utility>

namespace genogate::gateway {

Result<SubmissionOutcome> ServiceSink::Submit(const OruSubmission& s) {
  SubmissionRequest request;
  request.format = SubmissionFormat::kHl7v2;
  request.body = std::string(s.raw_message);
  request.idempotency_key = s.idempotency_key;
  request.caller = s.peer.client_subject;
  request.audit.source_address = s.peer.address;
  request.audit.operation = "MLLP ORU^R01";
  if (s.read.message) {
    if (const mappers::hl7v2::Segment* msh = s.read.message->Find("MSH")) {
      // The request id of an MLLP message: its control id (MSH-10).
      request.audit.request_id =
          std::string(msh->Field(10).Component(1).Value());
    }
  }
  Result<SubmitResult> r = service_->Submit(std::move(request));
  SubmissionOutcome out;
  if (!r.ok()) {
    if (r.error().code() != ErrorCode::kConflict) return r.error();
    Issue issue;
    issue.severity = Severity::kError;
    issue.type = "duplicate";
    issue.code = "v2-control-id-reused";
    issue.message =
        "this control id (MSH-10) was already used by this sender for a "
        "different message";
    out.kind = SubmissionOutcome::Kind::kRejected;
    out.issues.push_back({std::move(issue), -1});
    return out;
  }
  if (r->accepted) {
    out.kind = r->duplicate ? SubmissionOutcome::Kind::kDuplicate
                            : SubmissionOutcome::Kind::kAccepted;
    out.submission_ids = {r->id};
    return out;
  }
  out.kind = SubmissionOutcome::Kind::kRejected;
  const int report = s.read.reports.size() == 1 ? 0 : -1;
  for (const Issue& issue : r->issues.issues()) {
    if (issue.severity == Severity::kError ||
        issue.severity == Severity::kFatal) {
      out.issues.push_back({issue, report});
    }
  }
  return out;
}

}  // namespace genogate::gateway

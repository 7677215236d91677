#include "gateway/mllp/service_sink.h"

#include <utility>

#include "gateway/security/access_control.h"
#include "gateway/security/tls_peer.h"

namespace genogate::gateway {

Result<SubmissionOutcome> ServiceSink::Submit(const OruSubmission& s) {
  SubmissionRequest request;
  request.format = SubmissionFormat::kHl7v2;
  request.body = std::string(s.raw_message);
  request.idempotency_key = s.idempotency_key;
  request.caller = s.peer.client_subject;
  if (authenticator_ != nullptr && !s.peer.client_cert_der.empty()) {
    Result<TlsPeer> peer = TlsPeerFromDer(s.peer.client_cert_der);
    Authenticator::AuthResult who;
    if (peer.ok())
      who = authenticator_->AuthenticateTlsPeer(peer->subject, peer->sans);
    if (who.outcome != Authenticator::Outcome::kAuthenticated ||
        !who.caller.HasRole("lab") || who.caller.lab.empty()) {
      Issue issue;
      issue.severity = Severity::kError;
      issue.type = "security";
      issue.code = "mllp-certificate-not-mapped";
      issue.message =
          "the client certificate is not mapped to a lab (security.mtls): "
          "the message was not accepted";
      SubmissionOutcome refused;
      refused.kind = SubmissionOutcome::Kind::kRejected;
      refused.issues.push_back({std::move(issue), -1});
      return refused;
    }
    request.caller = who.caller.identity;
    request.lab = who.caller.lab;
    request.audit.caller = who.caller.identity;
    request.audit.roles = who.caller.roles;
  }
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

// ServiceSink: the OruSubmissionSink over the gateway's SubmissionService,
// so messages received over MLLP take the same path as HTTP submissions
// (mappers::ConvertBytes, validation, submission record, enqueue). This is
// the sink `genogate serve` puts behind its OruHandler.
//
// The request: format hl7v2, body = the message as received, the message's
// idempotency key (OruIdempotencyKey), caller = the mTLS client subject
// ("" without mTLS), no parameters (everything comes from the message).
// With an Authenticator and a client certificate, the certificate is mapped
// through `security.mtls` (AuthenticateTlsPeer): a caller with role "lab"
// submits as its identity and lab id (the submission's owner, checked like
// an HTTP lab's); a certificate that maps to no lab caller is refused
// (kRejected with a "security" issue -> ACK AE) and nothing is submitted.
// The answer:
//   accepted            -> kAccepted (kDuplicate when the service saw the
//                          key before), submission_ids = {id};
//   rejected            -> kRejected with the error issues (located at the
//                          message's OBR when it has one report);
//   kConflict (the key  -> kRejected with a "duplicate" issue: the sender
//   was used for another  reused a control id for a different message
//   message)              (ACK AE, ERR 205 at MSH-10);
//   other Errors        -> returned (ACK AR; kUnavailable: "send it again").
//
// Thread-safety: as the service (Submit may run concurrently).
#ifndef GENOGATE_GATEWAY_MLLP_SERVICE_SINK_H_
#define GENOGATE_GATEWAY_MLLP_SERVICE_SINK_H_

#include "gateway/mllp/oru_handler.h"
#include "gateway/submission/submission_service.h"

namespace genogate::gateway {

class Authenticator;

class ServiceSink final : public OruSubmissionSink {
 public:
  // `service` and `authenticator` (may be null: no mapping) must outlive
  // the sink.
  explicit ServiceSink(SubmissionService* service,
                       const Authenticator* authenticator = nullptr)
      : service_(service), authenticator_(authenticator) {}

  Result<SubmissionOutcome> Submit(const OruSubmission& s) override;

 private:
  SubmissionService* service_;
  const Authenticator* authenticator_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_MLLP_SERVICE_SINK_H_

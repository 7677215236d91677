// OruHandler: the product MllpHandler for ORU^R01 genetic results. It reads
// the message (mappers::hl7v2::ReadOruR01), hands an acceptable one on to
// an OruSubmissionSink (which maps, validates and durably enqueues), and
// answers with an ACK in original acknowledgment mode:
//
//   AR  the message cannot be processed: unreadable MSH, unsupported message
//       type / event / version / processing id, an MLLP framing error, the
//       sink could not finish (queue unavailable, internal failure: send it
//       again later);
//   AE  the message was read but is rejected: reader problems of severity E
//       (data types, escapes, structure, table values), or the mapped FHIR
//       failed validation; one ERR per problem (HL7 location, table 0357
//       code, severity E/W/I, text), nothing is handed on;
//   AA  accepted: mapped, validated and handed on (or handed on before:
//       a duplicate); warnings travel as ERR segments with severity W.
//
// Duplicates: the idempotency key is "hl7v2|MSH-3|MSH-4|MSH-10" (sending
// application, facility, control id, as sent). The sink decides whether it
// has seen it; a resent message gets AA again and is not handed on twice.
//
// Thread-safety: OnMessage / OnFramingError may run concurrently; the sink
// must be thread-safe.
#ifndef GENOGATE_GATEWAY_MLLP_ORU_HANDLER_H_
#define GENOGATE_GATEWAY_MLLP_ORU_HANDLER_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/issue.h"
#include "base/result.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/queue/clock.h"
#include "mappers/hl7v2/ack.h"
#include "mappers/hl7v2/oru_r01.h"

namespace genogate::gateway {

// One message, read, for the sink.
struct OruSubmission {
  const mappers::hl7v2::OruReadResult& read;  // no errors, >= 1 report
  std::string_view raw_message;               // the ER7 text as received
  std::string idempotency_key;  // "hl7v2|<MSH-3>|<MSH-4>|<MSH-10>"
  const MllpPeer& peer;
};

// A finding about the mapped FHIR, and the report it concerns (index into
// read.reports; -1 when it is about the whole message or unknown).
struct SubmissionIssue {
  Issue issue;
  int report = -1;
};

struct SubmissionOutcome {
  enum class Kind {
    kAccepted,   // mapped, validated, durably handed on
    kDuplicate,  // the idempotency key was handed on before; nothing done
    kRejected,   // the mapped FHIR has errors; nothing handed on
  };
  Kind kind = Kind::kAccepted;
  // kAccepted / kDuplicate: the ids under which it was handed on.
  std::vector<std::string> submission_ids;
  // kRejected: the errors (and warnings); otherwise warnings worth telling
  // the sender (may be empty).
  std::vector<SubmissionIssue> issues;
};

// Where accepted messages go: service_sink.h (over the gateway's
// SubmissionService, for serve) or queue_sink.h (builds, validates and
// enqueues itself).
class OruSubmissionSink {
 public:
  virtual ~OruSubmissionSink() = default;
  // Maps, validates and durably hands on `s`, honouring its idempotency
  // key. Called concurrently from handler threads; may block.
  // Errors: kUnavailable / kTimeout when the queue could not be reached
  // (nothing or everything may have been stored: a resend is safe because
  // of the idempotency key); kInternal for bugs. Error messages must not
  // contain message content.
  virtual Result<SubmissionOutcome> Submit(const OruSubmission& s) = 0;
};

struct OruHandlerOptions {
  mappers::hl7v2::OruReadOptions read;
  // Our MSH-3 / MSH-4 when the sender names no receiver (see AckOptions).
  std::string application = "GENOGATE";
  std::string facility;
  // Prefix of the ACK's MSH-10 (followed by a per-handler counter and a
  // random part, unique across restarts).
  std::string ack_control_id_prefix = "GG";
  size_t max_err_segments = 50;
};

// The ERR severity and table 0357 code of a FHIR validation issue:
// required -> 101, code-invalid -> 103, too-long -> 104, duplicate -> 205
// (located at MSH-10), exception / processing / transient / timeout -> 207,
// any other type -> 102. Other issues are located at the OBR of
// `issue.report`, or nowhere.
mappers::hl7v2::Problem ProblemFromIssue(
    const SubmissionIssue& issue, const mappers::hl7v2::OruReadResult& read);

// "hl7v2|<MSH-3>|<MSH-4>|<MSH-10>" (raw field text; above 256 bytes
// "hl7v2-sha256|<hex digest of it>"), or "" when the message has no MSH-10.
std::string OruIdempotencyKey(const mappers::hl7v2::Message& message);

class OruHandler final : public MllpHandler {
 public:
  // `sink` and `clock` must outlive the handler; nullptr clock = system.
  OruHandler(OruSubmissionSink* sink, OruHandlerOptions options,
             const Clock* clock = nullptr);

  std::string OnMessage(std::string_view er7, const MllpPeer& peer) override;
  std::string OnFramingError(const mappers::hl7v2::MllpEvent& event,
                             const MllpPeer& peer) override;

  // Counters since construction, by ACK code.
  struct Counts {
    uint64_t accepted = 0, duplicates = 0, errors = 0, rejects = 0;
  };
  Counts counts() const;

 private:
  mappers::hl7v2::AckOptions NextAckOptions();

  OruSubmissionSink* sink_;
  OruHandlerOptions options_;
  const Clock* clock_;
  std::string instance_;  // random, per handler
  std::atomic<uint64_t> next_ack_{1};
  std::atomic<uint64_t> accepted_{0}, duplicates_{0}, errors_{0}, rejects_{0};
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_MLLP_ORU_HANDLER_H_

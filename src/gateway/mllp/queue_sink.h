// BundleQueueSink: an OruSubmissionSink that maps each report of a message
// to a transaction Bundle with the shared builder
// (mappers/common/report_builder.h), validates it with the conformance
// Validator and enqueues it on a DeliveryQueue for each configured endpoint.
// It is what `genogate mllp` tests, the benchmark and a serve command
// without the full submission service use.
//
// One job per report and endpoint (the queue orders jobs per report):
//   id               "v2-" + 32 hex digits of SHA-256(idempotency key + "#"
//                    + report index): the same message gives the same ids;
//   idempotency_key  the message's key + "#" + report index;
//   report_key       lab identifier system | accession system | value;
//   report_version   MSH-7 as Unix milliseconds (0 when unreadable), so a
//                    later message about the same report supersedes;
//   payload          the Bundle as JSON; metadata content-type and source.
//
// Duplicates: before mapping, the last report's job is looked up on every
// endpoint (GetStatus); when all exist the message was handed on before and
// Submit answers kDuplicate without building anything. Jobs are enqueued in
// report order, so "the last one exists" means all do; a resend after a
// partial failure enqueues the rest (the queue's idempotency makes the
// repeats no-ops).
//
// Validation: error and fatal issues reject the message (kRejected, issues
// with their report index); warnings and information are not reported.
//
// Thread-safety: Submit may be called concurrently (the Validator, Schema
// and DeliveryQueue are thread-safe).
#ifndef GENOGATE_GATEWAY_MLLP_QUEUE_SINK_H_
#define GENOGATE_GATEWAY_MLLP_QUEUE_SINK_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/validator/validator.h"
#include "fhir/schema.h"
#include "gateway/mllp/oru_handler.h"
#include "gateway/queue/delivery_queue.h"
#include "mappers/common/report_builder.h"

namespace genogate::gateway {

struct BundleQueueSinkOptions {
  std::vector<std::string> endpoints = {"default"};
  mappers::BuildOptions build;
  conformance::ValidationOptions validation;
};

class BundleQueueSink final : public OruSubmissionSink {
 public:
  // All pointers must outlive the sink.
  BundleQueueSink(const fhir::Schema* schema,
                  const conformance::Validator* validator, DeliveryQueue* queue,
                  BundleQueueSinkOptions options = {});

  // See OruSubmissionSink. Errors: the queue's (kUnavailable, ...);
  // kInternal when the builder or the JSON writer fail for a reason other
  // than the data, or no endpoint is configured.
  Result<SubmissionOutcome> Submit(const OruSubmission& s) override;

  // Reports mapped and validated so far (a duplicate maps none).
  uint64_t reports_mapped() const { return reports_mapped_; }

 private:
  const fhir::Schema* schema_;
  const conformance::Validator* validator_;
  DeliveryQueue* queue_;
  BundleQueueSinkOptions options_;
  std::atomic<uint64_t> reports_mapped_{0};
};

// An HL7 DTM ("20240315103000+0100", "202403151030", "20240315") as Unix
// milliseconds (no offset: UTC); nullopt when it is not a DTM.
std::optional<int64_t> Hl7TimeToUnixMillis(std::string_view dtm);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_MLLP_QUEUE_SINK_H_

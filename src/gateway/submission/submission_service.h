// SubmissionService: what happens to one lab submission, whichever front end
// (HTTP POST /submissions, POST /fhir, the MLLP listener) received it.
//
//   Submit(request):
//     1. map: VCF / HL7 v2 / lab JSON through mappers::ConvertBytes (the one
//        conversion path), or parse a ready FHIR transaction Bundle;
//     2. validate the Bundle with conformance::Validator;
//        any error issue (mapping or validation) -> Rejected: the IssueList,
//        nothing stored, nothing queued;
//     3. record the submission (SubmissionStore: stages with times, no PHI)
//        and claim the Idempotency-Key atomically with it;
//     4. enqueue the Bundle (FHIR JSON) durably on the DeliveryQueue for each
//        routed endpoint (job id = submission id, so a repeated hand-off is
//        a queue-level duplicate), with the report key and version;
//     5. -> Accepted {id}.
//   GetStatus(id): the record's stages + the queue's status per endpoint.
//
// Idempotency. With an Idempotency-Key the (caller, key) pair names one
// submission for idempotency_ttl: a resend returns the original id
// (duplicate = true). If the original hand-off was cut short (the queue
// failed after the record was stored), the resend completes it. The same
// key with a different request (format, parameters or body) is kConflict.
//
// Report version (ordering of corrected/amended reports in the queue): the
// `version` parameter when given (a non-negative integer the lab increases
// with each correction), else the acceptance time in Unix milliseconds. So a
// corrected report sent later supersedes an older version still waiting; a
// lab that numbers versions itself must do so for every version of a
// report (a timestamp would outrank any small number it sent before).
//
// Report key: mappers' ConvertReport::report_keys ("lab|accession"); for a
// FHIR Bundle, "fhir|" + the first identifier of each DiagnosticReport
// (else of the Bundle, else the submission id: not ordered against others).
// Several reports in one submission (an ORU^R01 with several OBRs) are
// ordered as one unit under the digest of all their keys.
//
// Regions: the `regions` / `studied` parameters name BED files in
// SubmissionServiceOptions::regions_dir ("panel-v2" -> panel-v2.bed), all
// read once at Create. A lab cannot upload BED text with a submission.
//
// PHI never appears in an Error message or the status; an Issue's message
// names where and why, never a value from PID or the patient.
//
// Thread-safety: Submit, Convert and GetStatus may be called concurrently.
// They block (Redis, validation): call them from handler threads.
#ifndef GENOGATE_GATEWAY_SUBMISSION_SUBMISSION_SERVICE_H_
#define GENOGATE_GATEWAY_SUBMISSION_SUBMISSION_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/issue.h"
#include "base/result.h"
#include "conformance/validator/validator.h"
#include "fhir/element.h"
#include "fhir/schema.h"
#include "gateway/queue/clock.h"
#include "gateway/queue/delivery_queue.h"
#include "gateway/security/audit.h"
#include "gateway/submission/submission_store.h"
#include "mappers/hl7v2/problem.h"
#include "mappers/vcf/bed.h"

namespace genogate::gateway {

enum class SubmissionFormat { kVcf, kHl7v2, kLabJson, kFhirJson, kFhirXml };

// "vcf", "hl7v2", "labjson", "fhir-json", "fhir-xml".
std::string_view SubmissionFormatName(SubmissionFormat format);
std::optional<SubmissionFormat> ParseSubmissionFormat(std::string_view name);

// The metadata of a submission, named like the `convert` flags.
struct SubmissionParams {
  std::string patient;       // "SYSTEM|VALUE"
  std::string accession;     // "SYSTEM|VALUE"
  std::string build;         // "GRCh37" | "GRCh38"
  std::string source_class;  // "germline" | "somatic" | "mixed"
  std::string lab;
  std::string specimen;
  std::string sample;
  bool pass_only = false;
  std::string regions;  // name of a server-side BED file
  std::string studied;  // name of a server-side BED file
  std::optional<int64_t> version;

  // True when any mapping parameter (all but `version`) is set.
  bool AnyMappingParameter() const;
};

// Reads parameters named patient, accession, build, source-class, lab,
// specimen, sample, pass-only (true|false|1|0, or empty for true), regions,
// studied and version. Names starting with '_' (_format, ...) are skipped.
// kInvalidInput naming the parameter (never its value) for an unknown or
// repeated name or a bad value.
Result<SubmissionParams> ParseSubmissionParams(
    const std::vector<std::pair<std::string, std::string>>& query);

struct SubmissionRequest {
  SubmissionFormat format = SubmissionFormat::kVcf;
  std::string body;
  SubmissionParams params;
  // Client-chosen (Idempotency-Key header; MLLP: the message control id);
  // empty: none. At most 256 bytes.
  std::string idempotency_key;
  // The authenticated caller ("" when anonymous).
  std::string caller;
  // Who and from where, for the audit event (AuditRecordFor: roles, the
  // caller's lab, source address, request id; and `operation`, e.g.
  // "POST /submissions"). The service fills the rest (action, outcome,
  // time, submission id, lab, pseudonymised patient, endpoints).
  AuditRecord audit;
  // The lab the submission is made for (its owner: a lab caller reads only
  // its own lab's submissions); "" : none (unauthenticated local mode).
  // When set, a FHIR Bundle whose DiagnosticReport performer is an
  // Organization with identifiers must carry this lab id as one of their
  // values (else kPermissionDenied), and the queue's report key is scoped
  // to the lab (another lab's report never supersedes it).
  std::string lab;
};

struct SubmitResult {
  // True: queued (id set). False: rejected; nothing stored or queued.
  bool accepted = false;
  std::string id;
  // Accepted earlier under the same Idempotency-Key (id is the original).
  bool duplicate = false;
  // Rejected: the findings (at least one error), with locations (line /
  // column, HL7 location, JSON pointer, FHIRPath). Accepted: warnings and
  // information from mapping and validation.
  IssueList issues;
  // HL7 v2 input: the problems for an ACK's ERR segments, and whether the
  // message was refused as a whole (AR rather than AE).
  std::vector<mappers::hl7v2::Problem> hl7v2_problems;
  bool hl7v2_rejected = false;
  // Accepted: the endpoints it was queued for.
  std::vector<std::string> endpoints;
};

struct ConvertResult {
  // The transaction Bundle (typed), unless `issues` has errors.
  std::optional<fhir::Node> bundle;
  // Mapping and validation findings.
  IssueList issues;
  std::vector<std::string> report_keys;
};

// Per endpoint: the queue's job status, or none when the queue no longer
// (or not yet) knows the job.
struct EndpointStatus {
  std::string endpoint;
  std::string job_id;
  std::optional<JobStatus> job;
};

struct SubmissionStatus {
  SubmissionRecord record;
  // One per endpoint of the record, in order.
  std::vector<EndpointStatus> endpoints;
  // Summary: "accepted" (not yet queued everywhere), "queued" (waiting or
  // being delivered somewhere, nothing failed), "retrying" (an endpoint is
  // waiting for a retry), "dead-lettered" (an endpoint gave up; wins over
  // the others), "delivered" (every endpoint delivered, superseded or
  // discarded, and at least one delivered), "superseded" (every endpoint's
  // job was superseded or discarded).
  std::string state;
};

class SubmissionService {
 public:
  virtual ~SubmissionService() = default;

  // See the top of this file. Errors: kInvalidInput for unusable
  // parameters (a VCF without patient or accession, an unknown regions
  // name, mapping parameters on a FHIR Bundle; 400), kPermissionDenied for
  // a FHIR Bundle naming another lab as performer (see
  // SubmissionRequest::lab; 403), kConflict for an
  // Idempotency-Key reused with another request (409), kUnavailable when
  // the store or the queue cannot be reached (503; safe to resend with the
  // same Idempotency-Key), kInternal for bugs. Malformed or invalid data is
  // not an Error: it is a rejected SubmitResult.
  virtual Result<SubmitResult> Submit(SubmissionRequest request) = 0;

  // Steps 1 and 2 only (POST /fhir/$convert): nothing stored or queued.
  // Errors as Submit (without kConflict / kUnavailable).
  virtual Result<ConvertResult> Convert(const SubmissionRequest& request) = 0;

  // kNotFound for an unknown or expired id (or a malformed one);
  // kUnavailable as Submit.
  virtual Result<SubmissionStatus> GetStatus(std::string_view id) = 0;
};

// Replaces, in the messages and locations of `issues`, each value of the
// Patient resources in `resource` (or `resource` itself if it is one):
// names, identifier values, birth date, address lines, city and postal
// code; and each of `extra` (values shorter than 3 characters are left
// alone) by "[redacted]". For answers that must not echo PHI.
void RedactPatientData(const fhir::Node& resource,
                       const std::vector<std::string>& extra,
                       IssueList* issues);

// What routing sees of a submission (no PHI).
struct RoutingInput {
  SubmissionFormat format = SubmissionFormat::kVcf;
  std::string caller;
  std::vector<std::string> report_keys;
};

struct SubmissionServiceOptions {
  // The configured endpoint names; every submission goes to all of them
  // unless `route` says otherwise. At least one.
  std::vector<std::string> endpoints;
  // Routing hook: the endpoints (a subset of `endpoints`) for one
  // submission. Unset: all endpoints. An empty answer rejects the
  // submission (kInvalidInput "no endpoint is routed").
  std::function<std::vector<std::string>(const RoutingInput&)> route;
  // Directory of the BED files `regions` / `studied` may name; empty: none.
  std::string regions_dir;
  // How long an Idempotency-Key is remembered, and a status record kept.
  std::chrono::milliseconds idempotency_ttl = std::chrono::hours(24 * 7);
  std::chrono::milliseconds status_ttl = std::chrono::hours(24 * 30);
  // Extra profiles every Bundle must conform to.
  std::vector<std::string> profiles;
  // HL7 v2 / lab JSON / FHIR input larger than this is rejected
  // (too-long issue).
  size_t max_message_bytes = size_t{10} << 20;
  // Where Submit records one AuditEvent per call (not owned); null: none.
  // Accepted (also a duplicate): "submission", outcome 0; rejected:
  // "validation-failure", outcome 4; an Error: "submission", outcome 4
  // (kInvalidInput, kConflict) or 8. If the event cannot be stored, Submit
  // returns kUnavailable instead of its answer (an accepted submission
  // stays queued; a resend with the same Idempotency-Key is a duplicate and
  // is audited), so no caller hears "accepted" for an unaudited action.
  AuditSink* audit = nullptr;
};

// The implementation over a Validator, a DeliveryQueue and a
// SubmissionStore.
class DefaultSubmissionService final : public SubmissionService {
 public:
  // None of the pointers is owned; all must outlive the service (the
  // validator's schema and packages too). `clock` and `ids` may be null
  // (system clock, random UUIDs). Errors: kInvalidInput for no endpoints or
  // a bad endpoint name; kNotFound / kIo / kInvalidInput for the regions
  // directory or a BED file in it (the message names the file and line).
  static Result<std::unique_ptr<DefaultSubmissionService>> Create(
      SubmissionServiceOptions options, const conformance::Validator* validator,
      DeliveryQueue* queue, SubmissionStore* store,
      const Clock* clock = nullptr, IdGenerator* ids = nullptr);
  ~DefaultSubmissionService() override;

  Result<SubmitResult> Submit(SubmissionRequest request) override;
  Result<ConvertResult> Convert(const SubmissionRequest& request) override;
  Result<SubmissionStatus> GetStatus(std::string_view id) override;

  const std::vector<std::string>& endpoints() const {
    return options_.endpoints;
  }

 private:
  struct Mapped;
  DefaultSubmissionService(SubmissionServiceOptions options,
                           const conformance::Validator* validator,
                           DeliveryQueue* queue, SubmissionStore* store,
                           const Clock* clock, IdGenerator* ids);
  Result<Mapped> Map(const SubmissionRequest& request) const;
  Result<SubmitResult> SubmitUnaudited(SubmissionRequest request,
                                       AuditRecord* audit);
  static void Scrub(const SubmissionRequest& request, const fhir::Node& bundle,
                    IssueList* issues);
  Status Enqueue(const SubmissionRecord& record, const std::string& report_key,
                 const std::string& payload, const std::string& lab) const;

  SubmissionServiceOptions options_;
  const conformance::Validator* validator_;
  DeliveryQueue* queue_;
  SubmissionStore* store_;
  const Clock* clock_;
  IdGenerator* ids_;
  std::unique_ptr<IdGenerator> own_ids_;
  std::map<std::string, mappers::vcf::RegionSet, std::less<>> regions_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SUBMISSION_SUBMISSION_SERVICE_H_

// DeliveryQueue: durable, per-endpoint, at-least-once delivery of mapped FHIR
// bundles to EHR endpoints, with delayed retries, dead letters, idempotent
// enqueue and per-report ordering.
//
// Implementations: RedisQueue (redis_queue.h, production) and MemoryQueue
// (memory_queue.h, an in-memory fake with the same semantics for tests of
// the delivery worker and the server). Both pass the same contract tests.
//
// Life of a job (per endpoint):
//
//   Enqueue -> queued -> Claim -> delivering -> MarkDelivered/Ack -> delivered
//                          ^            |-> Retry(due) -> retrying --+
//                          +-- PromoteDue(now >= due) <--------------+
//                                       |-> DeadLetter -> dead-lettered
//                                             |-> Replay -> queued
//                                             |-> Discard -> discarded
//
// Delivery is at-least-once: a job whose worker dies (never acks) is handed
// to another consumer by Claim once it has been idle for
// QueueOptions::reclaim_idle. The delivery side must therefore be idempotent
// (conditional creates in the EHR).
//
// ORDERING RULE (per endpoint and report key):
//  * latest(report) is the highest report_version ever enqueued for the
//    report on that endpoint (remembered for report_version_ttl).
//  * A job is STALE when its version < latest(report). A stale job is never
//    handed out: Enqueue records it as superseded at once; Claim, PromoteDue
//    and Retry mark it superseded (state kSuperseded, reason "superseded by
//    version N") instead of delivering or rescheduling it.
//  * While a job of the report is being delivered (handed out by Claim and
//    not yet Ack/MarkDelivered/Retry/DeadLetter'ed, and its lease of
//    report_lease has not expired), Claim does not hand out another job of
//    the same report: it parks it for blocked_delay (state stays kQueued,
//    attempts unchanged; PromoteDue brings it back).
//  * A stale job that Claim reclaims from a dead consumer releases the
//    lease it held: the newer version goes at once, not after report_lease.
//  * Equal versions are not stale; they are delivered one after the other.
//  Hence: a newer version of a report is never overwritten by an older one
//  (an older version is never handed out after a newer one was enqueued, and
//  never in parallel with one) provided every delivery attempt finishes
//  within report_lease. Choose report_lease well above the HTTP timeout.
//  Leases, retry due times and parking use the queue's Clock (the caller's
//  wall clock), so replicas must keep their clocks in sync (NTP); idle
//  reclaim in RedisQueue uses the Redis server's clock.
//
// Claims: Claim returns jobs with `receipt` and `attempts` set. Ack, Retry
// and DeadLetter must be given the job as returned by Claim; if the job has
// been reclaimed by another consumer since (or already finished) they return
// kConflict and change nothing. MarkDelivered always records the delivery
// (it happened), whatever else happened to the job meanwhile.
//
// Payloads and OperationOutcomes are PHI: RedisQueue encrypts them before
// they reach Redis. Reasons and metadata are stored in clear and must not
// contain PHI. Nothing here logs payloads.
//
// Threading: implementations are thread-safe. RedisQueue calls block on
// network I/O: call them from worker threads, never from a network thread.
//
// Errors (all methods): kInvalidInput for malformed arguments (bad endpoint
// name, empty id, ...); kUnavailable when the backing store is unreachable
// or timed out (retryable: the operation may or may not have happened, and
// repeating it is safe: Enqueue by its idempotency key, the others by their
// state checks); kInternal for bugs and corrupt stored data.
#ifndef GENOGATE_GATEWAY_QUEUE_DELIVERY_QUEUE_H_
#define GENOGATE_GATEWAY_QUEUE_DELIVERY_QUEUE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gateway/queue/clock.h"

namespace genogate::gateway {

struct Job {
  // Submission id; unique per endpoint. Any printable ASCII except space,
  // 1..256 bytes.
  std::string id;
  // Endpoint name ([A-Za-z0-9._-], 1..128); set by Enqueue from its argument.
  std::string endpoint;
  // Ordering key: lab + accession (1..1024 bytes).
  std::string report_key;
  // Monotonic per report (a version number or a timestamp), >= 0.
  int64_t report_version = 0;
  // Client-supplied key for idempotent submission; empty means "use id".
  std::string idempotency_key;
  // The FHIR bundle (PHI).
  std::string payload;
  // Set to the queue clock's now by Enqueue if left at the epoch.
  Timestamp created{};
  // Delivery attempts so far including the current claim (set by Claim).
  int attempts = 0;
  // Non-PHI annotations (content type, trace id, ...).
  std::map<std::string, std::string> metadata;
  // Set by Claim: identifies this claim for Ack/Retry/DeadLetter. Opaque.
  std::string receipt;
};

enum class EnqueueOutcome {
  kEnqueued,    // new job, ready for delivery
  kDuplicate,   // idempotency key seen within the TTL: job_id is the original
  kSuperseded,  // recorded, but a newer version of the report was enqueued
};

struct EnqueueResult {
  std::string job_id;
  EnqueueOutcome outcome = EnqueueOutcome::kEnqueued;
};

enum class JobState {
  kQueued,        // waiting in the stream (or parked behind an older version)
  kDelivering,    // handed out by Claim
  kRetrying,      // waiting for next_attempt after a failed attempt
  kDelivered,     // acknowledged by the EHR
  kDeadLettered,  // given up; see the dead letter
  kSuperseded,    // a newer version of the report replaced it
  kDiscarded,     // dead letter discarded by an operator
};
// "queued", "delivering", "retrying", "delivered", "dead-lettered",
// "superseded", "discarded".
std::string_view JobStateName(JobState state);

// What GET /submissions/{id} reports, per endpoint.
struct JobStatus {
  std::string job_id;
  std::string endpoint;
  JobState state = JobState::kQueued;
  int64_t report_version = 0;
  int attempts = 0;
  Timestamp updated{};
  // kRetrying (and a parked kQueued): when the next attempt is due.
  Timestamp next_attempt{};
  // kRetrying: the last failure; kDeadLettered: why; kSuperseded: by what;
  // kQueued when parked: what it waits for.
  std::string last_reason;
  // kDelivered: the EHR's resource ids, e.g. "DiagnosticReport/123".
  std::vector<std::string> resource_ids;
  // kDeadLettered: the id for GetDead/Replay/Discard.
  std::string dead_letter_id;
};

struct DeadLetter {
  // "<endpoint>/<job id>".
  std::string id;
  // The job (payload empty in ListDead results, present in GetDead).
  Job job;
  std::string reason;
  // The EHR's OperationOutcome JSON (may be empty; PHI: encrypted at rest).
  std::string operation_outcome;
  Timestamp time{};
  int attempts = 0;
};

// Depth of one endpoint's queue.
struct QueueStats {
  std::string endpoint;
  int64_t ready = 0;      // enqueued, not yet claimed
  int64_t in_flight = 0;  // claimed, not yet acked (includes dead consumers')
  int64_t delayed = 0;    // waiting for a retry (or parked behind a version)
  int64_t dead = 0;       // dead letters
};

struct QueueOptions {
  // How long an idempotency key is remembered.
  std::chrono::milliseconds idempotency_ttl = std::chrono::hours(24 * 7);
  // A claimed job idle this long is handed to another consumer.
  std::chrono::milliseconds reclaim_idle = std::chrono::minutes(2);
  // In-flight lease per report (see the ordering rule).
  std::chrono::milliseconds report_lease = std::chrono::minutes(5);
  // How long a job waits when another job of its report is in flight.
  std::chrono::milliseconds blocked_delay = std::chrono::seconds(2);
  // How long finished status records (delivered, superseded, discarded)
  // are kept.
  std::chrono::milliseconds status_ttl = std::chrono::hours(24 * 30);
  // How long latest(report) is remembered after the last enqueue.
  std::chrono::milliseconds report_version_ttl = std::chrono::hours(24 * 400);
  // Upper bound of jobs moved by one PromoteDue call per endpoint.
  int promote_batch = 1000;
};

class DeliveryQueue {
 public:
  virtual ~DeliveryQueue() = default;

  // Durably enqueues `job` for `endpoint`; returns once stored (RedisQueue:
  // acknowledged by Redis, see its durability notes). If the idempotency key
  // was enqueued for this endpoint within idempotency_ttl, returns the
  // existing job id with kDuplicate and stores nothing. kConflict if the job
  // id already exists for this endpoint under another idempotency key.
  virtual Result<EnqueueResult> Enqueue(std::string_view endpoint, Job job) = 0;

  // Hands out up to `max` jobs of `endpoint` to `consumer` (reclaimed idle
  // jobs first, then new ones), applying the ordering rule. Returns an empty
  // vector when there is nothing to do (never blocks waiting for work).
  virtual Result<std::vector<Job>> Claim(std::string_view endpoint,
                                         std::string_view consumer,
                                         int max) = 0;

  // The job was delivered: MarkDelivered(job, {}).
  virtual Status Ack(const Job& job) = 0;

  // The job was delivered and the EHR assigned `resource_ids`. Acks the job;
  // idempotent. kNotFound if the job does not exist.
  virtual Status MarkDelivered(const Job& job,
                               std::vector<std::string> resource_ids) = 0;

  // Reschedules a claimed job for `due` (atomically with its ack). kConflict
  // if the claim is no longer current, kNotFound if the job does not exist.
  virtual Status Retry(const Job& job, Timestamp due,
                       std::string_view reason) = 0;

  // Moves every endpoint's retries due at `now` back to their queues
  // (atomically per job; safe with several replicas calling concurrently).
  // Returns how many jobs were moved (superseded ones not counted).
  virtual Result<int64_t> PromoteDue(Timestamp now) = 0;

  // Gives up on a claimed job: stores it with `reason`, the EHR's
  // OperationOutcome JSON (may be empty), the time and the attempts.
  // kConflict / kNotFound as Retry.
  virtual Status DeadLetter(const Job& job, std::string_view reason,
                            std::string_view operation_outcome_json) = 0;

  // Dead letters of `endpoint`, oldest first, without payloads.
  virtual Result<std::vector<gateway::DeadLetter>> ListDead(
      std::string_view endpoint, int64_t offset, int64_t limit) = 0;
  // One dead letter with its payload; kNotFound if there is none.
  virtual Result<gateway::DeadLetter> GetDead(std::string_view id) = 0;
  // Puts a dead letter back into its queue with attempts reset to 0.
  // kNotFound if there is no such dead letter.
  virtual Status Replay(std::string_view id) = 0;
  // Deletes a dead letter's payload; its status becomes kDiscarded.
  // kNotFound if there is no such dead letter.
  virtual Status Discard(std::string_view id) = 0;

  // Depth of one endpoint (zeros for an endpoint never used).
  virtual Result<QueueStats> Stats(std::string_view endpoint) = 0;
  // Depth of every endpoint ever enqueued to, sorted by name.
  virtual Result<std::vector<QueueStats>> AllStats() = 0;

  // Status of a job on one endpoint; kNotFound if unknown (or expired).
  virtual Result<JobStatus> GetStatus(std::string_view endpoint,
                                      std::string_view job_id) = 0;
  // Statuses of a job on every endpoint it was enqueued to (may be empty).
  virtual Result<std::vector<JobStatus>> GetStatuses(
      std::string_view job_id) = 0;
};

// Argument checks shared by the implementations (kInvalidInput on failure).
Status ValidateEndpointName(std::string_view endpoint);
Status ValidateJobForEnqueue(const Job& job);
// "<endpoint>/<job id>", and back (kInvalidInput if malformed).
std::string MakeDeadLetterId(std::string_view endpoint,
                             std::string_view job_id);
Status ParseDeadLetterId(std::string_view id, std::string* endpoint,
                         std::string* job_id);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_QUEUE_DELIVERY_QUEUE_H_

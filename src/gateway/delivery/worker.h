// DeliveryWorker: drains one endpoint's DeliveryQueue into its
// DeliveryTarget, with retries, dead letters and a circuit breaker.
//
// One pass (RunOnce):
//   1. PromoteDue(now): due retries go back to the queue.
//   2. Circuit breaker: while open, nothing is claimed or sent (jobs wait in
//      the queue). When the cool-down has passed it is half-open: the worker
//      probes the target (FHIR: GET metadata); success closes it, failure
//      opens it for another cool-down.
//   3. Claim up to `batch` jobs (1 while the breaker has recent failures),
//      and for each:
//        * payload larger than max_bundle_bytes -> DeadLetter;
//        * Deliver; 2xx -> MarkDelivered(resource ids), breaker success;
//        * 401/403 -> RefreshAuth once and send once more; still 401/403 ->
//          DeadLetter("auth: ...");
//        * retryable (kUnavailable, kTimeout) and endpoint problems
//          (kFailedPrecondition such as TLS verification, kIo of an outbox)
//          -> breaker failure; if attempts >= max_attempts DeadLetter, else
//          Retry at now + max(Retry-After, full-jitter back-off), where the
//          back-off is jitter() * min(cap, base * 2^(attempts-1));
//        * anything else (rejected 4xx with the EHR's OperationOutcome,
//          404 unmatched conditional reference, 409/412) -> DeadLetter with
//          the OperationOutcome; the endpoint answered, so breaker success.
//      Once the breaker opens mid-batch, the remaining claimed jobs are
//      rescheduled for the end of the cool-down (reason "circuit open").
//
// Provenance: with add_provenance, a job whose metadata names its "lab"
// (the submission service sets it) is sent with a Provenance appended
// (security/provenance.h: the lab as author, genogate as transmitter,
// recorded = the delivery time); a job without a lab, or a bundle that
// cannot take one (not a transaction), is sent as it is.
//
// Audit: with an AuditSink, every job that was sent (or dead-lettered
// without sending, e.g. too large) leaves exactly one "delivery"
// AuditEvent: who = genogate, the endpoint, the submission (job id), the
// lab, the bundle's patient (pseudonymised by the sink), outcome 0
// (delivered, with the EHR's ids), 8 (failed, will be retried) or 12
// (dead-lettered). A job rescheduled unsent because the breaker opened
// leaves none. A failure to record does not stop delivery (the data has
// already left); the sink counts it.
//
// Dead-letter and retry reasons carry codes and HTTP statuses only, never
// bundle contents (they are stored in clear); the OperationOutcome is
// stored encrypted by the queue.
//
// Thread-safety: a DeliveryWorker is used by one thread (RunOnce / Run);
// Stop() and the accessors may be called from any thread. Several workers
// of one endpoint share a CircuitBreaker (thread-safe).
#ifndef GENOGATE_GATEWAY_DELIVERY_WORKER_H_
#define GENOGATE_GATEWAY_DELIVERY_WORKER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "base/result.h"
#include "gateway/delivery/target.h"
#include "gateway/queue/clock.h"
#include "gateway/queue/delivery_queue.h"

namespace genogate::gateway {

class AuditSink;

// A source of uniform random numbers in [0, 1) for back-off jitter.
class Jitter {
 public:
  virtual ~Jitter() = default;
  virtual double Next() = 0;
};

// std::mt19937_64 seeded from std::random_device; thread-safe (mutex).
class RandomJitter final : public Jitter {
 public:
  RandomJitter();
  double Next() override;

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
};

// Always the same value (tests).
class FixedJitter final : public Jitter {
 public:
  explicit FixedJitter(double value) : value_(value) {}
  double Next() override { return value_; }

 private:
  double value_;
};

struct CircuitBreakerOptions {
  // Consecutive retryable failures that open the breaker.
  int failure_threshold = 5;
  // How long it stays open before a probe.
  std::chrono::milliseconds cool_down{30'000};
};

// Thread-safe per-endpoint breaker on the queue's Clock.
class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(CircuitBreakerOptions options, const Clock* clock)
      : options_(options), clock_(clock) {}

  // kClosed: send. kOpen: do not send. kHalfOpen: the cool-down has passed
  // and the caller is the one prober: it probes and reports with
  // RecordSuccess / RecordFailure; meanwhile other callers get kOpen (for
  // at most another cool-down, in case the prober never reports).
  State Check();
  void RecordSuccess();
  // Counts a retryable failure; opens the breaker at the threshold (or at
  // once when half-open).
  void RecordFailure();
  State state() const;
  // When an open breaker may be probed.
  Timestamp open_until() const;
  int consecutive_failures() const;
  // How many times it has opened.
  int64_t times_opened() const;

 private:
  const CircuitBreakerOptions options_;
  const Clock* clock_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int failures_ = 0;
  Timestamp open_until_{};
  Timestamp probe_started_{};
  int64_t opened_ = 0;
};

std::string_view CircuitStateName(CircuitBreaker::State s);

struct WorkerOptions {
  std::string endpoint;
  // Consumer name in the queue (unique per worker thread and replica).
  std::string consumer = "worker-1";
  int batch = 8;
  int max_attempts = 10;
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_cap{10 * 60'000};
  size_t max_bundle_bytes = size_t{16} << 20;
  // Run(): wait this long (real time) when a pass found nothing to do or
  // the breaker is open.
  std::chrono::milliseconds idle_wait{200};
  // Append a Provenance to bundles whose job names its lab (see above).
  bool add_provenance = true;
  // Provenance agent display for genogate, e.g. "genogate 0.4.0".
  std::string software = "genogate";
  // Where delivery events are recorded (not owned); null: none.
  AuditSink* audit = nullptr;
};

// WorkerOptions for an endpoint's name, max_attempts, max_bundle_bytes and
// back-off (the rest at their defaults); `consumer` names the worker in the
// queue.
WorkerOptions WorkerOptionsFor(const Endpoint& endpoint, std::string consumer);

struct WorkerStats {
  int64_t delivered = 0;
  int64_t retried = 0;
  int64_t dead_lettered = 0;
  int64_t probes = 0;
  int64_t skipped_open = 0;  // passes skipped because the breaker was open
};

class DeliveryWorker {
 public:
  // None of the pointers is owned; all must outlive the worker.
  DeliveryWorker(WorkerOptions options, DeliveryQueue* queue,
                 DeliveryTarget* target, CircuitBreaker* breaker,
                 const Clock* clock, Jitter* jitter);

  // One pass (see the top of this file). Returns the number of jobs
  // finished in this pass (delivered, retried or dead-lettered). Errors:
  // the queue's (kUnavailable when Redis is down: call again later).
  Result<int> RunOnce();

  // Calls RunOnce until Stop(); waits idle_wait after a pass that did
  // nothing or failed. Returns when stopped.
  void Run();
  void Stop();

  WorkerStats stats() const;

  // The back-off before attempt `attempts + 1` (before Retry-After).
  std::chrono::milliseconds Backoff(int attempts);

 private:
  // Returns true when the job was finished (delivered/retried/dead).
  Result<bool> Process(const Job& job);
  Status Reschedule(const Job& job, std::chrono::milliseconds delay,
                    const std::string& reason);
  // The payload to send: job.payload, with a Provenance when it applies;
  // `note` says which (for the audit event).
  std::string PayloadToSend(const Job& job, std::string* note) const;
  void Audit(const Job& job, int outcome, const std::string& text,
             const std::string& provenance_note,
             const std::vector<std::string>& resource_ids) const;

  const WorkerOptions options_;
  DeliveryQueue* queue_;
  DeliveryTarget* target_;
  CircuitBreaker* breaker_;
  const Clock* clock_;
  Jitter* jitter_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  WorkerStats stats_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_DELIVERY_WORKER_H_

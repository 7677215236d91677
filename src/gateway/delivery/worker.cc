#include "gateway/delivery/worker.h"

#include <algorithm>

#include "gateway/security/audit.h"
#include "gateway/security/provenance.h"

namespace genogate::gateway {

RandomJitter::RandomJitter() : rng_(std::random_device{}()) {}

double RandomJitter::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

std::string_view CircuitStateName(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "?";
}

WorkerOptions WorkerOptionsFor(const Endpoint& endpoint, std::string consumer) {
  WorkerOptions o;
  o.endpoint = endpoint.name;
  o.consumer = std::move(consumer);
  o.max_attempts = endpoint.max_attempts;
  o.max_bundle_bytes = endpoint.max_bundle_bytes;
  o.backoff_base = endpoint.backoff_base;
  o.backoff_cap = endpoint.backoff_cap;
  return o;
}

CircuitBreaker::State CircuitBreaker::Check() {
  std::lock_guard<std::mutex> lock(mu_);
  Timestamp now = clock_->Now();
  if (state_ == State::kOpen && now >= open_until_) {
    // This caller probes; the others see kOpen until it reports, or until
    // another cool-down has passed (a prober that never reported).
    state_ = State::kHalfOpen;
    probe_started_ = now;
    return State::kHalfOpen;
  }
  if (state_ == State::kHalfOpen) {
    if (now - probe_started_ < options_.cool_down) return State::kOpen;
    probe_started_ = now;
    return State::kHalfOpen;
  }
  return state_;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  failures_ = 0;
  state_ = State::kClosed;
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  ++failures_;
  if (state_ == State::kHalfOpen ||
      (state_ == State::kClosed && failures_ >= options_.failure_threshold)) {
    state_ = State::kOpen;
    open_until_ = clock_->Now() + options_.cool_down;
    ++opened_;
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

Timestamp CircuitBreaker::open_until() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_until_;
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

int64_t CircuitBreaker::times_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_;
}

DeliveryWorker::DeliveryWorker(WorkerOptions options, DeliveryQueue* queue,
                               DeliveryTarget* target, CircuitBreaker* breaker,
                               const Clock* clock, Jitter* jitter)
    : options_(std::move(options)),
      queue_(queue),
      target_(target),
      breaker_(breaker),
      clock_(clock),
      jitter_(jitter) {}

std::chrono::milliseconds DeliveryWorker::Backoff(int attempts) {
  int64_t ceiling = options_.backoff_base.count();
  for (int i = 1; i < attempts && ceiling < options_.backoff_cap.count(); ++i) {
    ceiling *= 2;
  }
  ceiling = std::min<int64_t>(ceiling, options_.backoff_cap.count());
  double j = std::clamp(jitter_->Next(), 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<int64_t>(j * static_cast<double>(ceiling)));
}

WorkerStats DeliveryWorker::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void DeliveryWorker::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

void DeliveryWorker::Run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    Result<int> n = RunOnce();
    if (n.ok() && *n > 0) continue;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.idle_wait, [this] { return stop_; });
  }
}

Status DeliveryWorker::Reschedule(const Job& job,
                                  std::chrono::milliseconds delay,
                                  const std::string& reason) {
  Status s = queue_->Retry(job, clock_->Now() + delay, reason);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.retried;
  }
  return s;
}

Result<int> DeliveryWorker::RunOnce() {
  Result<int64_t> promoted = queue_->PromoteDue(clock_->Now());
  if (!promoted.ok()) return promoted.error();

  CircuitBreaker::State state = breaker_->Check();
  if (state == CircuitBreaker::State::kOpen) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.skipped_open;
    return 0;
  }
  if (state == CircuitBreaker::State::kHalfOpen) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.probes;
    }
    Status probe = target_->Probe();
    if (!probe.ok()) {
      breaker_->RecordFailure();
      return 0;
    }
    breaker_->RecordSuccess();
  }

  int max = breaker_->consecutive_failures() > 0 ? 1 : options_.batch;
  Result<std::vector<Job>> jobs =
      queue_->Claim(options_.endpoint, options_.consumer, max);
  if (!jobs.ok()) return jobs.error();
  int finished = 0;
  for (const Job& job : *jobs) {
    if (breaker_->Check() == CircuitBreaker::State::kOpen) {
      auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
          breaker_->open_until() - clock_->Now());
      Status s = Reschedule(job, std::max(delay, std::chrono::milliseconds(0)),
                            "circuit open");
      if (!s.ok() && s.error().code() != ErrorCode::kConflict) return s.error();
      ++finished;
      continue;
    }
    Result<bool> done = Process(job);
    if (!done.ok()) return done.error();
    if (*done) ++finished;
  }
  return finished;
}

std::string DeliveryWorker::PayloadToSend(const Job& job,
                                          std::string* note) const {
  if (!options_.add_provenance) {
    *note = "not added (off)";
    return job.payload;
  }
  auto lab = job.metadata.find("lab");
  if (lab == job.metadata.end() || lab->second.empty()) {
    *note = "not added (the job names no lab)";
    return job.payload;
  }
  ProvenanceInfo info;
  info.lab = lab->second;
  info.submission_id = job.id;
  info.recorded = clock_->Now();
  info.software = options_.software;
  Result<std::string> with = AddProvenance(job.payload, info);
  if (!with.ok()) {
    *note = "not added (" + with.error().message() + ")";
    return job.payload;
  }
  *note = "added";
  return std::move(with).value();
}

void DeliveryWorker::Audit(const Job& job, int outcome, const std::string& text,
                           const std::string& provenance_note,
                           const std::vector<std::string>& resource_ids) const {
  if (options_.audit == nullptr) return;
  AuditRecord r;
  r.action = AuditAction::kDelivery;
  r.outcome = static_cast<AuditOutcome>(outcome);
  r.outcome_text = text;
  r.when = clock_->Now();
  r.submission_id = job.id;
  r.endpoint = options_.endpoint;
  r.operation = "deliver";
  auto lab = job.metadata.find("lab");
  if (lab != job.metadata.end()) r.lab = lab->second;
  FindPatientIdentifier(job.payload, &r.patient_system, &r.patient_value);
  r.details.emplace_back("attempt", std::to_string(job.attempts));
  if (!provenance_note.empty()) {
    r.details.emplace_back("provenance", provenance_note);
  }
  for (const std::string& id : resource_ids) {
    r.details.emplace_back("ehr-id", id);
  }
  // A failure is counted (and logged) by the sink; delivery goes on.
  (void)options_.audit->Record(r);
}

Result<bool> DeliveryWorker::Process(const Job& job) {
  auto finish = [&](Status s) -> Result<bool> {
    // kConflict: the claim was taken over meanwhile; the other consumer
    // owns the job now.
    if (!s.ok() && s.error().code() != ErrorCode::kConflict) return s.error();
    return s.ok();
  };
  std::string provenance;
  auto dead = [&](const std::string& reason, std::string_view oo) {
    Audit(job, static_cast<int>(AuditOutcome::kMajorFailure),
          "dead-lettered: " + reason, provenance, {});
    Status s = queue_->DeadLetter(job, reason, oo);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.dead_lettered;
    }
    return finish(s);
  };

  if (job.payload.size() > options_.max_bundle_bytes) {
    return dead("bundle of " + std::to_string(job.payload.size()) +
                    " bytes exceeds the endpoint's limit of " +
                    std::to_string(options_.max_bundle_bytes),
                "");
  }
  const std::string payload = PayloadToSend(job, &provenance);
  TransactionOutcome out = target_->Deliver(job.id, payload);
  if (!out.ok() && (out.error->code() == ErrorCode::kUnauthenticated ||
                    out.error->code() == ErrorCode::kPermissionDenied)) {
    if (target_->RefreshAuth()) out = target_->Deliver(job.id, payload);
    if (!out.ok() && (out.error->code() == ErrorCode::kUnauthenticated ||
                      out.error->code() == ErrorCode::kPermissionDenied)) {
      breaker_->RecordSuccess();  // the endpoint is up
      return dead("auth: " + out.error->ToString(), out.operation_outcome_json);
    }
  }
  if (out.ok()) {
    breaker_->RecordSuccess();
    Audit(job, static_cast<int>(AuditOutcome::kSuccess), "delivered",
          provenance, out.resource_ids);
    Status s = queue_->MarkDelivered(job, out.resource_ids);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.delivered;
    }
    return finish(s);
  }
  const Error& e = *out.error;
  bool endpoint_problem = e.retryable() ||
                          e.code() == ErrorCode::kFailedPrecondition ||
                          e.code() == ErrorCode::kIo;
  if (endpoint_problem) {
    breaker_->RecordFailure();
    if (job.attempts >= options_.max_attempts) {
      return dead("gave up after " + std::to_string(job.attempts) +
                      " attempts: " + e.ToString(),
                  out.operation_outcome_json);
    }
    std::chrono::milliseconds delay = Backoff(job.attempts);
    if (out.retry_after) delay = std::max(delay, *out.retry_after);
    Audit(job, static_cast<int>(AuditOutcome::kSeriousFailure),
          "failed, will be retried: " + e.ToString(), provenance, {});
    return finish(Reschedule(job, delay, e.ToString()));
  }
  breaker_->RecordSuccess();
  return dead("rejected: " + e.ToString(), out.operation_outcome_json);
}

}  // namespace genogate::gateway

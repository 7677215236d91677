#include "gateway/queue/memory_queue.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <utility>

namespace genogate::gateway {
namespace {

using Key = std::pair<std::string, std::string>;  // (endpoint, x)

struct Record {
  Job job;  // receipt unused; attempts is the stored count
  JobState state = JobState::kQueued;
  std::string msg;  // current stream entry, empty if none
  Timestamp updated{};
  Timestamp next{};
  std::string reason;
  std::vector<std::string> resource_ids;
  std::string outcome;
  Timestamp dead_at{};
};

struct Pending {
  std::string job_id;
  std::string consumer;
  Timestamp delivered_at{};
};

struct Endpoint {
  std::map<uint64_t, std::string> ready;  // stream entries never delivered
  std::map<uint64_t, Pending> pending;    // delivered, not acked
  std::map<std::string, Timestamp> delayed;
  std::map<std::string, Timestamp> dead;
};

struct Idem {
  std::string job_id;
  Timestamp expires{};
};

struct Inflight {
  std::string job_id;
  Timestamp until{};
};

Error NotFoundJob(std::string_view endpoint, std::string_view id) {
  return Error(
      ErrorCode::kNotFound,
      "no job " + std::string(id) + " on endpoint " + std::string(endpoint));
}

}  // namespace

struct MemoryQueue::State {
  uint64_t next_seq = 1;
  std::map<std::string, Endpoint, std::less<>> endpoints;
  std::map<Key, Record> jobs;
  std::map<Key, Idem> idem;
  std::map<Key, int64_t> latest;
  std::map<Key, Inflight> inflight;

  Endpoint& Ep(std::string_view name) {
    auto it = endpoints.find(name);
    if (it == endpoints.end()) {
      it = endpoints.emplace(std::string(name), Endpoint()).first;
    }
    return it->second;
  }

  // The record a dead-letter id names, if it is dead-lettered. Errors: the
  // id parser's for a malformed id; kNotFound when there is no such dead
  // letter.
  Result<Record*> FindDead(std::string_view id) {
    std::string endpoint, job_id;
    if (Status s = ParseDeadLetterId(id, &endpoint, &job_id); !s.ok()) {
      return s.error();
    }
    auto it = jobs.find({endpoint, job_id});
    if (it == jobs.end() || it->second.state != JobState::kDeadLettered) {
      return Error(ErrorCode::kNotFound, "no dead letter " + std::string(id));
    }
    return &it->second;
  }

  std::string Append(std::string_view endpoint, const std::string& job_id) {
    uint64_t seq = next_seq++;
    Ep(endpoint).ready.emplace(seq, job_id);
    return std::to_string(seq);
  }

  void RemoveEntry(std::string_view endpoint, const std::string& msg) {
    uint64_t seq = 0;
    auto [p, ec] = std::from_chars(msg.data(), msg.data() + msg.size(), seq);
    if (msg.empty() || ec != std::errc() || p != msg.data() + msg.size()) {
      return;  // not one of ours (e.g. a receipt from another queue)
    }
    Endpoint& ep = Ep(endpoint);
    ep.ready.erase(seq);
    ep.pending.erase(seq);
  }

  bool IsStale(const Record& r, int64_t* newest) const {
    auto it = latest.find({r.job.endpoint, r.job.report_key});
    if (it == latest.end() || r.job.report_version >= it->second) return false;
    *newest = it->second;
    return true;
  }

  void Release(const Record& r) {
    Key k{r.job.endpoint, r.job.report_key};
    auto it = inflight.find(k);
    if (it != inflight.end() && it->second.job_id == r.job.id) {
      inflight.erase(it);
    }
  }

  void Supersede(Record& r, int64_t newest, Timestamp now) {
    RemoveEntry(r.job.endpoint, r.msg);
    r.msg.clear();
    r.state = JobState::kSuperseded;
    r.reason = "superseded by version " + std::to_string(newest);
    r.job.payload.clear();
    r.updated = now;
  }
};

MemoryQueue::MemoryQueue(QueueOptions options, const Clock* clock)
    : options_(options),
      clock_(clock != nullptr ? clock : SystemClock::Get()),
      state_(std::make_unique<State>()) {}

MemoryQueue::~MemoryQueue() = default;

Result<EnqueueResult> MemoryQueue::Enqueue(std::string_view endpoint, Job job) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  job.endpoint = std::string(endpoint);
  if (Status s = ValidateJobForEnqueue(job); !s.ok()) return s.error();
  if (job.idempotency_key.empty()) job.idempotency_key = job.id;
  Timestamp now = clock_->Now();
  if (job.created == Timestamp{}) job.created = now;
  job.attempts = 0;
  job.receipt.clear();

  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  Key ik{job.endpoint, job.idempotency_key};
  auto idem = st.idem.find(ik);
  if (idem != st.idem.end() && idem->second.expires > now) {
    return EnqueueResult{idem->second.job_id, EnqueueOutcome::kDuplicate};
  }
  Key jk{job.endpoint, job.id};
  if (st.jobs.count(jk) != 0) {
    return Error(
        ErrorCode::kConflict,
        "job id " + job.id + " already exists on endpoint " + job.endpoint);
  }
  st.idem[ik] = Idem{job.id, now + options_.idempotency_ttl};
  st.Ep(job.endpoint);
  Record& r = st.jobs[jk];
  r.job = std::move(job);
  r.updated = now;
  int64_t newest = 0;
  if (st.IsStale(r, &newest)) {
    st.Supersede(r, newest, now);
    return EnqueueResult{r.job.id, EnqueueOutcome::kSuperseded};
  }
  st.latest[{r.job.endpoint, r.job.report_key}] = r.job.report_version;
  r.state = JobState::kQueued;
  r.msg = st.Append(r.job.endpoint, r.job.id);
  return EnqueueResult{r.job.id, EnqueueOutcome::kEnqueued};
}

Result<std::vector<Job>> MemoryQueue::Claim(std::string_view endpoint,
                                            std::string_view consumer,
                                            int max) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  if (consumer.empty()) {
    return Error(ErrorCode::kInvalidInput, "consumer name must not be empty");
  }
  std::vector<Job> out;
  if (max <= 0) return out;
  Timestamp now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  auto epit = st.endpoints.find(endpoint);
  if (epit == st.endpoints.end()) return out;
  Endpoint& ep = epit->second;

  auto handle = [&](uint64_t seq) {
    std::string msg = std::to_string(seq);
    const std::string job_id = ep.pending[seq].job_id;
    auto it = st.jobs.find({std::string(endpoint), job_id});
    if (it == st.jobs.end() || it->second.msg != msg) {
      ep.pending.erase(seq);  // orphaned entry
      return;
    }
    Record& r = it->second;
    int64_t newest = 0;
    if (st.IsStale(r, &newest)) {
      // A reclaimed job may hold its report's lease: release it, so that
      // the newer version goes now.
      st.Release(r);
      st.Supersede(r, newest, now);
      return;
    }
    Key rk{r.job.endpoint, r.job.report_key};
    auto fl = st.inflight.find(rk);
    if (fl != st.inflight.end() && fl->second.job_id != r.job.id &&
        fl->second.until > now) {
      ep.pending.erase(seq);
      r.msg.clear();
      r.state = JobState::kQueued;
      r.next = now + options_.blocked_delay;
      r.reason = "waiting for job " + fl->second.job_id +
                 " of the same report to finish";
      r.updated = now;
      ep.delayed[r.job.id] = r.next;
      return;
    }
    st.inflight[rk] = Inflight{r.job.id, now + options_.report_lease};
    r.job.attempts++;
    r.state = JobState::kDelivering;
    r.updated = now;
    Job j = r.job;
    j.receipt = msg;
    out.push_back(std::move(j));
  };

  // Reclaim jobs idle for reclaim_idle (dead consumers), oldest first.
  std::vector<uint64_t> idle;
  for (auto& [seq, p] : ep.pending) {
    if (static_cast<int>(idle.size()) >= max) break;
    if (now - p.delivered_at >= options_.reclaim_idle) idle.push_back(seq);
  }
  for (uint64_t seq : idle) {
    Pending& p = ep.pending[seq];
    p.consumer = std::string(consumer);
    p.delivered_at = now;
    handle(seq);
  }
  int budget = max - static_cast<int>(idle.size());
  while (budget > 0 && !ep.ready.empty()) {
    auto first = ep.ready.begin();
    uint64_t seq = first->first;
    ep.pending[seq] = Pending{first->second, std::string(consumer), now};
    ep.ready.erase(first);
    --budget;
    handle(seq);
  }
  return out;
}

Status MemoryQueue::Ack(const Job& job) { return MarkDelivered(job, {}); }

Status MemoryQueue::MarkDelivered(const Job& job,
                                  std::vector<std::string> resource_ids) {
  Timestamp now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  auto it = st.jobs.find({job.endpoint, job.id});
  if (it == st.jobs.end()) return NotFoundJob(job.endpoint, job.id);
  Record& r = it->second;
  if (r.state == JobState::kDelivered) return Status::Ok();
  Endpoint& ep = st.Ep(job.endpoint);
  st.RemoveEntry(job.endpoint, job.receipt);
  st.RemoveEntry(job.endpoint, r.msg);
  ep.delayed.erase(job.id);
  ep.dead.erase(job.id);
  st.Release(r);
  r.msg.clear();
  r.state = JobState::kDelivered;
  r.resource_ids = std::move(resource_ids);
  r.job.payload.clear();
  r.outcome.clear();
  r.next = Timestamp{};
  r.updated = now;
  return Status::Ok();
}

namespace {
// The claim in `job` is still the current one for `r`.
Status CheckClaim(const Record& r, const Job& job) {
  if (r.state != JobState::kDelivering || r.msg != job.receipt ||
      r.job.attempts != job.attempts) {
    return Error(ErrorCode::kConflict,
                 "job " + job.id +
                     " is no longer claimed by this receipt "
                     "(state " +
                     std::string(JobStateName(r.state)) + ")");
  }
  return Status::Ok();
}
}  // namespace

Status MemoryQueue::Retry(const Job& job, Timestamp due,
                          std::string_view reason) {
  Timestamp now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  auto it = st.jobs.find({job.endpoint, job.id});
  if (it == st.jobs.end()) return NotFoundJob(job.endpoint, job.id);
  Record& r = it->second;
  if (Status s = CheckClaim(r, job); !s.ok()) return s;
  st.RemoveEntry(job.endpoint, r.msg);
  r.msg.clear();
  st.Release(r);
  int64_t newest = 0;
  if (st.IsStale(r, &newest)) {
    st.Supersede(r, newest, now);
    return Status::Ok();
  }
  r.state = JobState::kRetrying;
  r.next = due;
  r.reason = std::string(reason);
  r.updated = now;
  st.Ep(job.endpoint).delayed[job.id] = due;
  return Status::Ok();
}

Result<int64_t> MemoryQueue::PromoteDue(Timestamp now) {
  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  int64_t moved = 0;
  for (auto& [name, ep] : st.endpoints) {
    std::vector<std::pair<Timestamp, std::string>> due;
    for (auto& [id, t] : ep.delayed) {
      if (t <= now) due.emplace_back(t, id);
    }
    std::sort(due.begin(), due.end());
    if (static_cast<int>(due.size()) > options_.promote_batch) {
      due.resize(options_.promote_batch);
    }
    for (auto& [t, id] : due) {
      ep.delayed.erase(id);
      auto it = st.jobs.find({name, id});
      if (it == st.jobs.end()) continue;
      Record& r = it->second;
      if (r.state != JobState::kRetrying && r.state != JobState::kQueued) {
        continue;
      }
      int64_t newest = 0;
      if (st.IsStale(r, &newest)) {
        st.Supersede(r, newest, now);
        continue;
      }
      r.state = JobState::kQueued;
      r.msg = st.Append(name, id);
      r.next = Timestamp{};
      r.updated = now;
      ++moved;
    }
  }
  return moved;
}

Status MemoryQueue::DeadLetter(const Job& job, std::string_view reason,
                               std::string_view operation_outcome_json) {
  Timestamp now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  auto it = st.jobs.find({job.endpoint, job.id});
  if (it == st.jobs.end()) return NotFoundJob(job.endpoint, job.id);
  Record& r = it->second;
  if (Status s = CheckClaim(r, job); !s.ok()) return s;
  st.RemoveEntry(job.endpoint, r.msg);
  r.msg.clear();
  st.Release(r);
  r.state = JobState::kDeadLettered;
  r.reason = std::string(reason);
  r.outcome = std::string(operation_outcome_json);
  r.dead_at = now;
  r.next = Timestamp{};
  r.updated = now;
  st.Ep(job.endpoint).dead[job.id] = now;
  return Status::Ok();
}

namespace {
gateway::DeadLetter ToDeadLetter(const Record& r, bool with_payload) {
  gateway::DeadLetter d;
  d.id = MakeDeadLetterId(r.job.endpoint, r.job.id);
  d.job = r.job;
  if (!with_payload) d.job.payload.clear();
  d.reason = r.reason;
  d.operation_outcome = r.outcome;
  d.time = r.dead_at;
  d.attempts = r.job.attempts;
  return d;
}
}  // namespace

Result<std::vector<gateway::DeadLetter>> MemoryQueue::ListDead(
    std::string_view endpoint, int64_t offset, int64_t limit) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  std::vector<gateway::DeadLetter> out;
  auto epit = st.endpoints.find(endpoint);
  if (epit == st.endpoints.end() || offset < 0 || limit <= 0) return out;
  std::vector<std::pair<Timestamp, std::string>> all;
  for (auto& [id, t] : epit->second.dead) all.emplace_back(t, id);
  std::sort(all.begin(), all.end());
  for (int64_t i = offset;
       i < static_cast<int64_t>(all.size()) && i < offset + limit; ++i) {
    out.push_back(ToDeadLetter(
        st.jobs.at({std::string(endpoint), all[i].second}), false));
  }
  return out;
}

Result<gateway::DeadLetter> MemoryQueue::GetDead(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Record*> r = state_->FindDead(id);
  if (!r.ok()) return r.error();
  return ToDeadLetter(**r, true);
}

Status MemoryQueue::Replay(std::string_view id) {
  Timestamp now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  Result<Record*> found = st.FindDead(id);
  if (!found.ok()) return found.error();
  Record& r = **found;
  st.Ep(r.job.endpoint).dead.erase(r.job.id);
  r.state = JobState::kQueued;
  r.job.attempts = 0;
  r.outcome.clear();
  r.reason = "replayed";
  r.next = Timestamp{};
  r.updated = now;
  r.msg = st.Append(r.job.endpoint, r.job.id);
  return Status::Ok();
}

Status MemoryQueue::Discard(std::string_view id) {
  Timestamp now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  State& st = *state_;
  Result<Record*> found = st.FindDead(id);
  if (!found.ok()) return found.error();
  Record& r = **found;
  st.Ep(r.job.endpoint).dead.erase(r.job.id);
  r.state = JobState::kDiscarded;
  r.job.payload.clear();
  r.outcome.clear();
  r.updated = now;
  return Status::Ok();
}

Result<QueueStats> MemoryQueue::Stats(std::string_view endpoint) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  std::lock_guard<std::mutex> lock(mu_);
  QueueStats q;
  q.endpoint = std::string(endpoint);
  auto it = state_->endpoints.find(endpoint);
  if (it == state_->endpoints.end()) return q;
  q.ready = static_cast<int64_t>(it->second.ready.size());
  q.in_flight = static_cast<int64_t>(it->second.pending.size());
  q.delayed = static_cast<int64_t>(it->second.delayed.size());
  q.dead = static_cast<int64_t>(it->second.dead.size());
  return q;
}

Result<std::vector<QueueStats>> MemoryQueue::AllStats() {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, ep] : state_->endpoints) names.push_back(name);
  }
  std::vector<QueueStats> out;
  for (const std::string& n : names) {
    Result<QueueStats> q = Stats(n);
    if (!q.ok()) return q.error();
    out.push_back(std::move(q).value());
  }
  return out;
}

namespace {
JobStatus ToStatus(const Record& r) {
  JobStatus s;
  s.job_id = r.job.id;
  s.endpoint = r.job.endpoint;
  s.state = r.state;
  s.report_version = r.job.report_version;
  s.attempts = r.job.attempts;
  s.updated = r.updated;
  if (r.state == JobState::kRetrying || r.state == JobState::kQueued) {
    s.next_attempt = r.next;
  }
  s.last_reason = r.reason;
  s.resource_ids = r.resource_ids;
  if (r.state == JobState::kDeadLettered) {
    s.dead_letter_id = MakeDeadLetterId(r.job.endpoint, r.job.id);
  }
  return s;
}
}  // namespace

Result<JobStatus> MemoryQueue::GetStatus(std::string_view endpoint,
                                         std::string_view job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = state_->jobs.find({std::string(endpoint), std::string(job_id)});
  if (it == state_->jobs.end()) return NotFoundJob(endpoint, job_id);
  return ToStatus(it->second);
}

Result<std::vector<JobStatus>> MemoryQueue::GetStatuses(
    std::string_view job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JobStatus> out;
  for (auto& [name, ep] : state_->endpoints) {
    auto it = state_->jobs.find({name, std::string(job_id)});
    if (it != state_->jobs.end()) out.push_back(ToStatus(it->second));
  }
  return out;
}

}  // namespace genogate::gateway

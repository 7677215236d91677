// MemoryQueue: an in-memory DeliveryQueue with the same semantics as
// RedisQueue (same contract tests), for testing the delivery worker and the
// server without Redis. Not durable; payloads are kept in clear in memory.
//
// Idle reclaim, leases, retries and idempotency TTLs all use the given
// Clock, so tests drive them with a FakeClock.
//
// Thread-safety: all methods may be called concurrently (one mutex).
#ifndef GENOGATE_GATEWAY_QUEUE_MEMORY_QUEUE_H_
#define GENOGATE_GATEWAY_QUEUE_MEMORY_QUEUE_H_

#include <memory>
#include <mutex>

#include "gateway/queue/delivery_queue.h"

namespace genogate::gateway {

class MemoryQueue final : public DeliveryQueue {
 public:
  // `clock` must outlive the queue; nullptr means the system clock.
  explicit MemoryQueue(QueueOptions options = {}, const Clock* clock = nullptr);
  ~MemoryQueue() override;

  Result<EnqueueResult> Enqueue(std::string_view endpoint, Job job) override;
  Result<std::vector<Job>> Claim(std::string_view endpoint,
                                 std::string_view consumer, int max) override;
  Status Ack(const Job& job) override;
  Status MarkDelivered(const Job& job,
                       std::vector<std::string> resource_ids) override;
  Status Retry(const Job& job, Timestamp due, std::string_view reason) override;
  Result<int64_t> PromoteDue(Timestamp now) override;
  Status DeadLetter(const Job& job, std::string_view reason,
                    std::string_view operation_outcome_json) override;
  Result<std::vector<gateway::DeadLetter>> ListDead(std::string_view endpoint,
                                                    int64_t offset,
                                                    int64_t limit) override;
  Result<gateway::DeadLetter> GetDead(std::string_view id) override;
  Status Replay(std::string_view id) override;
  Status Discard(std::string_view id) override;
  Result<QueueStats> Stats(std::string_view endpoint) override;
  Result<std::vector<QueueStats>> AllStats() override;
  Result<JobStatus> GetStatus(std::string_view endpoint,
                              std::string_view job_id) override;
  Result<std::vector<JobStatus>> GetStatuses(std::string_view job_id) override;

 private:
  struct State;
  QueueOptions options_;
  const Clock* clock_;
  std::mutex mu_;
  std::unique_ptr<State> state_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_QUEUE_MEMORY_QUEUE_H_

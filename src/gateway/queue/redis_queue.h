// RedisQueue: the production DeliveryQueue on Redis (>= 6.2; tested with 7).
//
// Layout (P = key_prefix, E = endpoint, all under P so that several
// deployments and tests can share one Redis):
//   P endpoints                set of endpoint names
//   P q:E                      stream of ready/in-flight jobs, group "gg"
//   P delayed:E                zset job id -> due time (ms), retries/parked
//   P dead:E                   zset job id -> dead-letter time (ms)
//   P job:E:<id>               hash: the job, its encrypted payload and its
//                              status record (for GET /submissions/{id})
//   P idem:E:<sha256(key)>     job id, expires after idempotency_ttl
//   P latest:E:<sha256(rk)>    latest enqueued version of a report
//   P inflight:E:<sha256(rk)>  in-flight marker {job, until}
//   P reclaim:E                XAUTOCLAIM cursor
// Every state change is one Lua script (EVALSHA, NOSCRIPT fallback), so it
// is atomic with respect to other workers and replicas. The scripts compute
// some key names themselves: RedisQueue supports a single Redis primary
// (with replicas/Sentinel), not Redis Cluster.
//
// Encryption: payloads, report keys and OperationOutcomes are encrypted with
// the KeyRing (AES-256-GCM, bound to "<endpoint>/<id>/<field>") before they
// are sent to Redis; report and idempotency keys appear in key names only as
// SHA-256 digests (pseudonyms: a short accession number can be guessed from
// its digest; do not treat them as encrypted). Reasons and metadata are
// stored in clear. A job whose payload cannot be decrypted (key removed
// from the ring, tampering) is dead-lettered by Claim with that reason.
//
// DURABILITY: Enqueue returns after Redis has acknowledged the script, and
// Redis must run with the append-only file. genogate requires
// `appendonly yes` + `appendfsync always` by default (Durability::kAlways):
// the sender (LIS) is told "accepted" once Enqueue returns and will not send
// again, so an acknowledged result must survive a power loss of the Redis
// host; Redis fsyncs once per event-loop iteration for all clients, so
// concurrent enqueues share an fsync (see bench/queue_bench.cc for figures).
// With `appendfsync everysec` (Durability::kAof) an acknowledged enqueue
// survives a crash or SIGKILL of redis-server (the AOF write(2) happens
// before the reply) but up to ~2 s of them can be lost if the host itself
// goes down. The check uses CONFIG GET at Create; where CONFIG is disabled,
// verify the settings yourself and use Durability::kUnchecked.
//
// Blocking: every method does network I/O synchronously (command timeout
// RedisOptions::command_timeout). Call from worker threads only.
//
// Thread-safety: thread-safe; connections come from an internal pool
// (one per concurrent caller).
#ifndef GENOGATE_GATEWAY_QUEUE_REDIS_QUEUE_H_
#define GENOGATE_GATEWAY_QUEUE_REDIS_QUEUE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/crypto/key_ring.h"
#include "gateway/queue/delivery_queue.h"
#include "gateway/queue/redis_client.h"

namespace genogate::gateway {

struct RedisQueueOptions {
  enum class Durability {
    kAlways,     // require appendonly yes + appendfsync always (default)
    kAof,        // require appendonly yes (always or everysec)
    kUnchecked,  // do not check (CONFIG disabled; verified otherwise)
  };
  RedisOptions redis;
  QueueOptions queue;
  // Prefix of every key, e.g. "genogate:" or "genogate:staging:".
  std::string key_prefix = "genogate:";
  Durability durability = Durability::kAlways;
  // Connections kept open when idle (more are opened under load).
  int max_idle_connections = 8;
};

class RedisQueue final : public DeliveryQueue {
 public:
  // Connects, checks durability. kUnavailable if Redis cannot be reached,
  // kFailedPrecondition if the durability requirement is not met or `keys`
  // is null or has no active key, kInvalidInput for a bad key prefix.
  // `clock` must outlive the queue; nullptr means the system clock. Idle
  // reclaim (XAUTOCLAIM) always uses the Redis server's clock.
  static Result<std::unique_ptr<RedisQueue>> Create(
      RedisQueueOptions options, std::shared_ptr<const KeyRing> keys,
      const Clock* clock = nullptr);
  ~RedisQueue() override;

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
  class Conn;
  RedisQueue(RedisQueueOptions options, std::shared_ptr<const KeyRing> keys,
             const Clock* clock);
  Result<Conn> Acquire();
  void Release(std::unique_ptr<RedisClient> client);
  Status CheckDurability(RedisClient& client);

  std::string Key(std::string_view kind, std::string_view endpoint) const;
  std::string JobKey(std::string_view endpoint, std::string_view id) const;
  Result<std::vector<Job>> DecodeClaimed(Conn& conn, std::string_view endpoint,
                                         const RedisReply& reply);
  Status DeadLetterLocked(Conn& conn, const Job& job, std::string_view reason,
                          std::string_view operation_outcome_json);
  Result<std::map<std::string, std::string>> LoadJobHash(
      Conn& conn, std::string_view endpoint, std::string_view id);
  Result<gateway::DeadLetter> ToDeadLetter(
      std::string_view endpoint, const std::map<std::string, std::string>& h,
      bool with_payload) const;

  RedisQueueOptions options_;
  std::shared_ptr<const KeyRing> keys_;
  const Clock* clock_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<RedisClient>> idle_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_QUEUE_REDIS_QUEUE_H_

// SubmissionStore: the status record of each accepted submission (what GET
// /submissions/{id} shows besides the queue's per-endpoint job statuses),
// and the submission-level idempotency keys.
//
// A record holds no PHI: the input format, the caller's identity (a lab id,
// not a person), the report version, the endpoints it was queued for, entry
// and variant counts, a SHA-256 digest of the request (to tell a true
// resend from a different request under the same Idempotency-Key) and the
// time of each stage ("accepted", "mapped", "validated", "queued").
// Idempotency keys (chosen by the client, so possibly PHI) are stored only
// as SHA-256 digests of "caller\nkey".
//
// Implementations: RedisSubmissionStore (production; layout below) and
// MemorySubmissionStore (tests). Thread-safety: both are thread-safe.
//
// Errors (all methods): kUnavailable when the store cannot be reached
// (retryable; Create and AddStage are safe to repeat), kInvalidInput for
// an empty or malformed id, kInternal for corrupt records.
#ifndef GENOGATE_GATEWAY_SUBMISSION_SUBMISSION_STORE_H_
#define GENOGATE_GATEWAY_SUBMISSION_SUBMISSION_STORE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "gateway/queue/clock.h"
#include "gateway/queue/redis_client.h"

namespace genogate::gateway {

struct SubmissionRecord {
  std::string id;
  // SubmissionFormatName: "vcf", "hl7v2", "labjson", "fhir-json", ...
  std::string format;
  // The authenticated caller ("" when anonymous).
  std::string caller;
  // The lab it was submitted for (SubmissionRequest::lab; "" : none).
  std::string lab;
  int64_t report_version = 0;
  // The endpoints the submission is (to be) queued for, in order.
  std::vector<std::string> endpoints;
  uint64_t entries = 0;
  uint64_t variants = 0;
  // Hex SHA-256 of the request (format, parameters, body).
  std::string request_digest;
  // Stage name -> when it was reached, in the order reached.
  std::vector<std::pair<std::string, Timestamp>> stages;

  bool HasStage(std::string_view stage) const;
};

struct CreateRecordResult {
  // True: `record` was stored. False: the idempotency key was already used;
  // `record` is the stored record of the original submission.
  bool created = true;
  SubmissionRecord record;
};

class SubmissionStore {
 public:
  virtual ~SubmissionStore() = default;

  // Stores `record` (kept for `ttl`) unless `idempotency_digest` is
  // non-empty and already names a submission within its `idempotency_ttl`:
  // then nothing is stored and the original record is returned. The check
  // and the store are atomic (two concurrent resends create one record).
  virtual Result<CreateRecordResult> Create(
      const SubmissionRecord& record, std::string_view idempotency_digest,
      std::chrono::milliseconds ttl,
      std::chrono::milliseconds idempotency_ttl) = 0;

  // Records that submission `id` reached `stage` at `time` (a repeat
  // overwrites the time). kNotFound if the record does not exist.
  virtual Status AddStage(std::string_view id, std::string_view stage,
                          Timestamp time) = 0;

  // The record; kNotFound if unknown or expired.
  virtual Result<SubmissionRecord> Get(std::string_view id) = 0;
};

// In memory (tests; nothing expires).
class MemorySubmissionStore final : public SubmissionStore {
 public:
  Result<CreateRecordResult> Create(
      const SubmissionRecord& record, std::string_view idempotency_digest,
      std::chrono::milliseconds ttl,
      std::chrono::milliseconds idempotency_ttl) override;
  Status AddStage(std::string_view id, std::string_view stage,
                  Timestamp time) override;
  Result<SubmissionRecord> Get(std::string_view id) override;
  // Makes every call fail with kUnavailable (tests of the 503 path).
  void SetUnavailable(bool unavailable);

 private:
  std::mutex mu_;
  bool unavailable_ = false;
  std::map<std::string, SubmissionRecord, std::less<>> records_;
  std::map<std::string, std::string, std::less<>> idempotency_;
};

// On Redis, beside the delivery queue (P = key_prefix):
//   P sub:<id>            hash: format, caller, lab, version, endpoints
//                         (comma-separated), entries, variants, digest,
//                         stage:<name> (Unix ms); expires after `ttl`
//   P subidem:<digest>    the submission id; expires after idempotency_ttl
// Create is one Lua script (check + store; a repeat of the same record is
// not an error). Calls block (command timeout of RedisOptions); connections
// come from a small internal pool, and a call that fails on a pooled
// connection (closed by a Redis restart) is tried once on a new one.
class RedisSubmissionStore final : public SubmissionStore {
 public:
  // Does not connect yet (the first call does), so a gateway can start
  // while Redis is still coming up. kInvalidInput for an empty prefix.
  static Result<std::unique_ptr<RedisSubmissionStore>> Open(
      RedisOptions redis, std::string key_prefix = "genogate:");
  ~RedisSubmissionStore() override;

  Result<CreateRecordResult> Create(
      const SubmissionRecord& record, std::string_view idempotency_digest,
      std::chrono::milliseconds ttl,
      std::chrono::milliseconds idempotency_ttl) override;
  Status AddStage(std::string_view id, std::string_view stage,
                  Timestamp time) override;
  Result<SubmissionRecord> Get(std::string_view id) override;

 private:
  RedisSubmissionStore(RedisOptions redis, std::string prefix);
  Result<std::unique_ptr<RedisClient>> Acquire(bool fresh, bool* reused);
  template <typename T, typename F>
  Result<T> WithClient(F f);
  void Release(std::unique_ptr<RedisClient> client);
  Result<SubmissionRecord> Load(RedisClient& client, std::string_view id);

  RedisOptions redis_;
  std::string prefix_;
  std::mutex mu_;
  std::vector<std::unique_ptr<RedisClient>> idle_;
};

// Checks a submission id for use in a key: 1..128 of [A-Za-z0-9._-].
Status ValidateSubmissionId(std::string_view id);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SUBMISSION_SUBMISSION_STORE_H_

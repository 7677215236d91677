#include "gateway/submission/submission_store.h"

#include <algorithm>
#include <charconv>

namespace genogate::gateway {
namespace {

constexpr std::string_view kStagePrefix = "stage:";

// Check and store in one step: KEYS[1] the record, KEYS[2] (optional) the
// idempotency key; ARGV[1] record ttl ms, ARGV[2] idempotency ttl ms,
// ARGV[3] the id, ARGV[4..] field/value pairs. Returns {1, id} when stored,
// {0, original id} for a known idempotency key.
const RedisScript& CreateScript() {
  static const RedisScript* script = new RedisScript(R"lua(
if #KEYS > 1 then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {0, existing} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  -- A repeat of this very call (its reply was lost): already stored.
  local fields = {}
  for i = 4, #ARGV, 2 do fields[ARGV[i]] = ARGV[i + 1] end
  if redis.call('HGET', KEYS[1], 'digest') == fields['digest'] then
    return {1, ARGV[3]}
  end
  return redis.error_reply('GG_CONFLICT submission id exists')
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
if #KEYS > 1 then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', tonumber(ARGV[2]))
end
return {1, ARGV[3]}
)lua");
  return *script;
}

// HSET only when the record exists (never resurrects an expired one).
const RedisScript& StageScript() {
  static const RedisScript* script = new RedisScript(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('GG_NOTFOUND no such submission')
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
)lua");
  return *script;
}

bool ParseInt64(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::vector<std::string> RecordFields(const SubmissionRecord& r) {
  std::string endpoints;
  for (const std::string& e : r.endpoints) {
    if (!endpoints.empty()) endpoints += ',';
    endpoints += e;
  }
  std::vector<std::string> f = {"format",    r.format,
                                "caller",    r.caller,
                                "lab",       r.lab,
                                "version",   std::to_string(r.report_version),
                                "endpoints", endpoints,
                                "entries",   std::to_string(r.entries),
                                "variants",  std::to_string(r.variants),
                                "digest",    r.request_digest};
  for (const auto& [stage, time] : r.stages) {
    f.push_back(std::string(kStagePrefix) + stage);
    f.push_back(std::to_string(ToUnixMillis(time)));
  }
  return f;
}

// The order stages are shown in (others after these, by time).
int StageRank(std::string_view stage) {
  static constexpr std::string_view kOrder[] = {"accepted", "mapped",
                                                "validated", "queued"};
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (kOrder[i] == stage) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kOrder));
}

void SortStages(SubmissionRecord* r) {
  std::stable_sort(r->stages.begin(), r->stages.end(),
                   [](const auto& a, const auto& b) {
                     int ra = StageRank(a.first), rb = StageRank(b.first);
                     if (ra != rb) return ra < rb;
                     return a.second < b.second;
                   });
}

void SetStage(SubmissionRecord* r, std::string_view stage, Timestamp time) {
  for (auto& [name, t] : r->stages) {
    if (name == stage) {
      t = time;
      return;
    }
  }
  r->stages.emplace_back(std::string(stage), time);
  SortStages(r);
}

Error Unavailable() {
  return Error(ErrorCode::kUnavailable, "the submission store is unavailable");
}

}  // namespace

bool SubmissionRecord::HasStage(std::string_view stage) const {
  for (const auto& s : stages) {
    if (s.first == stage) return true;
  }
  return false;
}

Status ValidateSubmissionId(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return Error(ErrorCode::kInvalidInput,
                 "a submission id has 1 to 128 characters");
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Error(ErrorCode::kInvalidInput,
                   "a submission id has only the characters [A-Za-z0-9._-]");
    }
  }
  return Status::Ok();
}

// --- MemorySubmissionStore ---------------------------------------------

Result<CreateRecordResult> MemorySubmissionStore::Create(
    const SubmissionRecord& record, std::string_view idempotency_digest,
    std::chrono::milliseconds, std::chrono::milliseconds) {
  if (Status s = ValidateSubmissionId(record.id); !s.ok()) return s.error();
  std::lock_guard<std::mutex> lock(mu_);
  if (unavailable_) return Unavailable();
  if (!idempotency_digest.empty()) {
    auto it = idempotency_.find(idempotency_digest);
    if (it != idempotency_.end()) {
      auto rec = records_.find(it->second);
      if (rec == records_.end()) {
        return Error(ErrorCode::kInternal, "idempotency key without record");
      }
      return CreateRecordResult{false, rec->second};
    }
  }
  if (records_.count(record.id)) {
    return Error(ErrorCode::kConflict, "submission id exists");
  }
  SubmissionRecord stored = record;
  SortStages(&stored);
  records_[record.id] = stored;
  if (!idempotency_digest.empty()) {
    idempotency_[std::string(idempotency_digest)] = record.id;
  }
  return CreateRecordResult{true, std::move(stored)};
}

Status MemorySubmissionStore::AddStage(std::string_view id,
                                       std::string_view stage, Timestamp time) {
  std::lock_guard<std::mutex> lock(mu_);
  if (unavailable_) return Unavailable();
  auto it = records_.find(id);
  if (it == records_.end()) {
    return Error(ErrorCode::kNotFound, "no such submission");
  }
  SetStage(&it->second, stage, time);
  return Status::Ok();
}

Result<SubmissionRecord> MemorySubmissionStore::Get(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (unavailable_) return Unavailable();
  auto it = records_.find(id);
  if (it == records_.end()) {
    return Error(ErrorCode::kNotFound, "no such submission");
  }
  return it->second;
}

void MemorySubmissionStore::SetUnavailable(bool unavailable) {
  std::lock_guard<std::mutex> lock(mu_);
  unavailable_ = unavailable;
}

// --- RedisSubmissionStore ----------------------------------------------

RedisSubmissionStore::RedisSubmissionStore(RedisOptions redis,
                                           std::string prefix)
    : redis_(std::move(redis)), prefix_(std::move(prefix)) {}

RedisSubmissionStore::~RedisSubmissionStore() = default;

Result<std::unique_ptr<RedisSubmissionStore>> RedisSubmissionStore::Open(
    RedisOptions redis, std::string key_prefix) {
  if (key_prefix.empty()) {
    return Error(ErrorCode::kInvalidInput, "empty Redis key prefix");
  }
  return std::unique_ptr<RedisSubmissionStore>(
      new RedisSubmissionStore(std::move(redis), std::move(key_prefix)));
}

Result<std::unique_ptr<RedisClient>> RedisSubmissionStore::Acquire(
    bool fresh, bool* reused) {
  if (!fresh) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<RedisClient> c = std::move(idle_.back());
      idle_.pop_back();
      *reused = true;
      return c;
    }
  }
  *reused = false;
  return RedisClient::Connect(redis_);
}

template <typename T, typename F>
Result<T> RedisSubmissionStore::WithClient(F f) {
  // Every call here is safe to repeat, so one that failed on a pooled
  // connection (e.g. closed by a Redis restart) is tried once more on a
  // new one.
  for (bool fresh : {false, true}) {
    bool reused = false;
    Result<std::unique_ptr<RedisClient>> client = Acquire(fresh, &reused);
    if (!client.ok()) return client.error();
    Result<T> r = f(**client);
    Release(std::move(client).value());
    if (r.ok() || r.error().code() != ErrorCode::kUnavailable || !reused) {
      return r;
    }
  }
  return Unavailable();
}

void RedisSubmissionStore::Release(std::unique_ptr<RedisClient> client) {
  if (!client->connected()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 8) idle_.push_back(std::move(client));
}

Result<CreateRecordResult> RedisSubmissionStore::Create(
    const SubmissionRecord& record, std::string_view idempotency_digest,
    std::chrono::milliseconds ttl, std::chrono::milliseconds idempotency_ttl) {
  if (Status s = ValidateSubmissionId(record.id); !s.ok()) return s.error();
  std::vector<std::string> keys = {prefix_ + "sub:" + record.id};
  if (!idempotency_digest.empty()) {
    keys.push_back(prefix_ + "subidem:" + std::string(idempotency_digest));
  }
  std::vector<std::string> args = {std::to_string(ttl.count()),
                                   std::to_string(idempotency_ttl.count()),
                                   record.id};
  for (std::string& f : RecordFields(record)) args.push_back(std::move(f));
  return WithClient<CreateRecordResult>(
      [&](RedisClient& client) -> Result<CreateRecordResult> {
        Result<RedisReply> reply = client.Eval(CreateScript(), keys, args);
        if (!reply.ok()) return reply.error();
        if (!reply->is_array() || reply->elements.size() != 2) {
          return Error(ErrorCode::kInternal, "unexpected reply from the store");
        }
        CreateRecordResult out;
        out.created = reply->elements[0].integer == 1;
        if (out.created) {
          out.record = record;
          SortStages(&out.record);
          return out;
        }
        Result<SubmissionRecord> original =
            Load(client, reply->elements[1].str);
        if (!original.ok()) {
          if (original.error().code() == ErrorCode::kNotFound) {
            return Error(ErrorCode::kInternal,
                         "idempotency key names an expired submission");
          }
          return original.error();
        }
        out.record = std::move(original).value();
        return out;
      });
}

Status RedisSubmissionStore::AddStage(std::string_view id,
                                      std::string_view stage, Timestamp time) {
  if (Status s = ValidateSubmissionId(id); !s.ok()) return s;
  Result<bool> r = WithClient<bool>([&](RedisClient& client) -> Result<bool> {
    Result<RedisReply> reply =
        client.Eval(StageScript(), {prefix_ + "sub:" + std::string(id)},
                    {std::string(kStagePrefix) + std::string(stage),
                     std::to_string(ToUnixMillis(time))});
    if (!reply.ok()) return reply.error();
    return true;
  });
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<SubmissionRecord> RedisSubmissionStore::Get(std::string_view id) {
  if (Status s = ValidateSubmissionId(id); !s.ok()) return s.error();
  return WithClient<SubmissionRecord>(
      [&](RedisClient& client) { return Load(client, id); });
}

Result<SubmissionRecord> RedisSubmissionStore::Load(RedisClient& client,
                                                    std::string_view id) {
  Result<RedisReply> reply =
      client.Command({"HGETALL", prefix_ + "sub:" + std::string(id)});
  if (!reply.ok()) return reply.error();
  if (!reply->is_array() || reply->elements.size() % 2 != 0) {
    return Error(ErrorCode::kInternal, "unexpected reply from the store");
  }
  if (reply->elements.empty()) {
    return Error(ErrorCode::kNotFound, "no such submission");
  }
  SubmissionRecord r;
  r.id = std::string(id);
  for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    const std::string& k = reply->elements[i].str;
    const std::string& v = reply->elements[i + 1].str;
    int64_t n = 0;
    if (k == "format") {
      r.format = v;
    } else if (k == "caller") {
      r.caller = v;
    } else if (k == "lab") {
      r.lab = v;
    } else if (k == "digest") {
      r.request_digest = v;
    } else if (k == "endpoints") {
      r.endpoints = SplitComma(v);
    } else if (k == "version" && ParseInt64(v, &n)) {
      r.report_version = n;
    } else if (k == "entries" && ParseInt64(v, &n)) {
      r.entries = static_cast<uint64_t>(n);
    } else if (k == "variants" && ParseInt64(v, &n)) {
      r.variants = static_cast<uint64_t>(n);
    } else if (k.starts_with(kStagePrefix) && ParseInt64(v, &n)) {
      r.stages.emplace_back(k.substr(kStagePrefix.size()), FromUnixMillis(n));
    } else {
      return Error(ErrorCode::kInternal,
                   "corrupt submission record (field " + k + ")");
    }
  }
  SortStages(&r);
  return r;
}

}  // namespace genogate::gateway

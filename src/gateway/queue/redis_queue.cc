#include "gateway/queue/redis_queue.h"

#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace genogate::gateway {
namespace {

// ---------------------------------------------------------------------------
// Lua scripts. Versions are compared as decimal strings (exact for all
// int64 values, unlike Lua's doubles); computed numbers are formatted with
// %d before they are stored.

constexpr char kPrelude[] = R"lua(
local function S(n) return string.format('%d', n) end
local function vless(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function drop(stream, msgid)
  redis.call('XACK', stream, 'gg', msgid)
  redis.call('XDEL', stream, msgid)
end
local function supersede(jk, latest, now, ttl)
  redis.call('HSET', jk, 'state', 'superseded',
             'reason', 'superseded by version ' .. latest, 'updated', now)
  redis.call('HDEL', jk, 'payload', 'msg', 'next')
  redis.call('PEXPIRE', jk, ttl)
end
local function release(P, E, rk, jid)
  local ik = P .. 'inflight:' .. E .. ':' .. rk
  if redis.call('HGET', ik, 'job') == jid then redis.call('DEL', ik) end
end
local function ensure_group(stream)
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XGROUP', 'CREATE', stream, 'gg', '0', 'MKSTREAM')
  end
end
local function check_claim(h, jid, E, msgid, attempts)
  if not h[1] then
    return redis.error_reply('GG_NOTFOUND no job ' .. jid .. ' on endpoint ' .. E)
  end
  if h[1] ~= 'delivering' or h[2] ~= msgid or h[3] ~= attempts then
    return redis.error_reply('GG_CONFLICT job ' .. jid ..
        ' is no longer claimed by this receipt (state ' .. h[1] .. ')')
  end
  return nil
end
)lua";

// KEYS: idem, job, stream, latest, endpoints
// ARGV: id, ep, rk, rkc, ver, idem, payload, created, meta, now, idem_ttl,
//       latest_ttl, status_ttl
constexpr char kEnqueue[] = R"lua(
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 'duplicate'} end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('GG_CONFLICT job id ' .. ARGV[1] ..
      ' already exists on endpoint ' .. ARGV[2])
end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'ep', ARGV[2], 'rk', ARGV[3],
           'rkc', ARGV[4], 'ver', ARGV[5], 'idem', ARGV[6],
           'payload', ARGV[7], 'created', ARGV[8], 'meta', ARGV[9],
           'attempts', '0', 'updated', ARGV[10])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[11])
redis.call('SADD', KEYS[5], ARGV[2])
local latest = redis.call('GET', KEYS[4])
if latest and vless(ARGV[5], latest) then
  supersede(KEYS[2], latest, ARGV[10], ARGV[13])
  return {ARGV[1], 'superseded'}
end
if latest == ARGV[5] then
  redis.call('PEXPIRE', KEYS[4], ARGV[12])
else
  redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[12])
end
ensure_group(KEYS[3])
local msg = redis.call('XADD', KEYS[3], '*', 'id', ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'queued', 'msg', msg)
return {ARGV[1], 'enqueued'}
)lua";

// KEYS: stream, delayed, reclaim cursor
// ARGV: prefix, ep, consumer, max, now, reclaim_idle, lease, blocked_delay,
//       status_ttl
constexpr char kClaim[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local P, E, consumer = ARGV[1], ARGV[2], ARGV[3]
local want = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local out = {}
local function handle(msgid, fields)
  local jid = nil
  if fields then
    for i = 1, #fields, 2 do
      if fields[i] == 'id' then jid = fields[i + 1] end
    end
  end
  if not jid then drop(KEYS[1], msgid) return end
  local jk = P .. 'job:' .. E .. ':' .. jid
  local h = redis.call('HMGET', jk, 'rk', 'ver', 'msg')
  if not h[1] or h[3] ~= msgid then drop(KEYS[1], msgid) return end
  local rk, ver = h[1], h[2]
  local latest = redis.call('GET', P .. 'latest:' .. E .. ':' .. rk)
  if latest and vless(ver, latest) then
    drop(KEYS[1], msgid)
    -- A reclaimed job may hold its report's lease: the newer version goes
    -- now, not when the dead claim's lease runs out.
    release(P, E, rk, jid)
    supersede(jk, latest, ARGV[5], ARGV[9])
    return
  end
  local ik = P .. 'inflight:' .. E .. ':' .. rk
  local holder = redis.call('HMGET', ik, 'job', 'until')
  if holder[1] and holder[1] ~= jid and tonumber(holder[2]) > now then
    drop(KEYS[1], msgid)
    local due = S(now + tonumber(ARGV[8]))
    redis.call('ZADD', KEYS[2], due, jid)
    redis.call('HSET', jk, 'state', 'queued', 'next', due, 'updated', ARGV[5],
               'reason', 'waiting for job ' .. holder[1] ..
               ' of the same report to finish')
    redis.call('HDEL', jk, 'msg')
    return
  end
  redis.call('HSET', ik, 'job', jid, 'until', S(now + tonumber(ARGV[7])))
  -- Garbage collection only; the lease itself is 'until' (queue clock).
  redis.call('PEXPIRE', ik, S(2 * tonumber(ARGV[7])))
  local attempts = redis.call('HINCRBY', jk, 'attempts', 1)
  redis.call('HSET', jk, 'state', 'delivering', 'updated', ARGV[5],
             'consumer', consumer)
  local j = redis.call('HMGET', jk, 'id', 'rkc', 'ver', 'idem', 'payload',
                       'created', 'meta')
  out[#out + 1] = {msgid, attempts, j[1], j[2], j[3], j[4], j[5], j[6], j[7]}
end
local cursor = redis.call('GET', KEYS[3]) or '0-0'
local rc = redis.call('XAUTOCLAIM', KEYS[1], 'gg', consumer, ARGV[6], cursor,
                      'COUNT', want)
redis.call('SET', KEYS[3], rc[1])
for _, e in ipairs(rc[2]) do handle(e[1], e[2]) end
local room = want - #out
if room > 0 then
  local r = redis.call('XREADGROUP', 'GROUP', 'gg', consumer, 'COUNT', room,
                       'STREAMS', KEYS[1], '>')
  if r then
    for _, e in ipairs(r[1][2]) do handle(e[1], e[2]) end
  end
end
return out
)lua";

// KEYS: stream, delayed, dead, job
// ARGV: prefix, ep, jid, receipt, rids, now, status_ttl
constexpr char kMarkDelivered[] = R"lua(
local h = redis.call('HMGET', KEYS[4], 'state', 'msg', 'rk')
if not h[1] then
  return redis.error_reply('GG_NOTFOUND no job ' .. ARGV[3] ..
      ' on endpoint ' .. ARGV[2])
end
if h[1] == 'delivered' then return 'already' end
if ARGV[4] ~= '' then drop(KEYS[1], ARGV[4]) end
if h[2] and h[2] ~= ARGV[4] then drop(KEYS[1], h[2]) end
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
release(ARGV[1], ARGV[2], h[3], ARGV[3])
redis.call('HSET', KEYS[4], 'state', 'delivered', 'rids', ARGV[5],
           'updated', ARGV[6])
redis.call('HDEL', KEYS[4], 'payload', 'msg', 'next', 'oo')
redis.call('PEXPIRE', KEYS[4], ARGV[7])
return 'delivered'
)lua";

// KEYS: stream, delayed, job
// ARGV: prefix, ep, jid, receipt, attempts, due, reason, now, status_ttl
constexpr char kRetry[] = R"lua(
local h = redis.call('HMGET', KEYS[3], 'state', 'msg', 'attempts', 'rk', 'ver')
local err = check_claim(h, ARGV[3], ARGV[2], ARGV[4], ARGV[5])
if err then return err end
drop(KEYS[1], ARGV[4])
release(ARGV[1], ARGV[2], h[4], ARGV[3])
local latest = redis.call('GET', ARGV[1] .. 'latest:' .. ARGV[2] .. ':' .. h[4])
if latest and vless(h[5], latest) then
  supersede(KEYS[3], latest, ARGV[8], ARGV[9])
  return 'superseded'
end
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[3])
redis.call('HSET', KEYS[3], 'state', 'retrying', 'next', ARGV[6],
           'reason', ARGV[7], 'updated', ARGV[8])
redis.call('HDEL', KEYS[3], 'msg')
return 'retrying'
)lua";

// KEYS: stream, dead, job
// ARGV: prefix, ep, jid, receipt, attempts, reason, oo, now
constexpr char kDeadLetter[] = R"lua(
local h = redis.call('HMGET', KEYS[3], 'state', 'msg', 'attempts', 'rk')
local err = check_claim(h, ARGV[3], ARGV[2], ARGV[4], ARGV[5])
if err then return err end
drop(KEYS[1], ARGV[4])
release(ARGV[1], ARGV[2], h[4], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[8], ARGV[3])
redis.call('HSET', KEYS[3], 'state', 'dead', 'reason', ARGV[6], 'oo', ARGV[7],
           'dead_at', ARGV[8], 'updated', ARGV[8])
redis.call('HDEL', KEYS[3], 'msg', 'next')
return 'dead'
)lua";

// KEYS: delayed, stream
// ARGV: prefix, ep, now, max, status_ttl
constexpr char kPromote[] = R"lua(
local P, E = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3],
                       'LIMIT', 0, ARGV[4])
local moved = 0
for _, jid in ipairs(ids) do
  redis.call('ZREM', KEYS[1], jid)
  local jk = P .. 'job:' .. E .. ':' .. jid
  local h = redis.call('HMGET', jk, 'state', 'rk', 'ver')
  if h[1] == 'retrying' or h[1] == 'queued' then
    local latest = redis.call('GET', P .. 'latest:' .. E .. ':' .. h[2])
    if latest and vless(h[3], latest) then
      supersede(jk, latest, ARGV[3], ARGV[5])
    else
      ensure_group(KEYS[2])
      local msg = redis.call('XADD', KEYS[2], '*', 'id', jid)
      redis.call('HSET', jk, 'state', 'queued', 'msg', msg, 'updated', ARGV[3])
      redis.call('HDEL', jk, 'next')
      moved = moved + 1
    end
  end
end
return moved
)lua";

// KEYS: dead, stream, job
// ARGV: jid, now, dead id
constexpr char kReplay[] = R"lua(
if redis.call('HGET', KEYS[3], 'state') ~= 'dead' then
  return redis.error_reply('GG_NOTFOUND no dead letter ' .. ARGV[3])
end
redis.call('ZREM', KEYS[1], ARGV[1])
ensure_group(KEYS[2])
local msg = redis.call('XADD', KEYS[2], '*', 'id', ARGV[1])
redis.call('HSET', KEYS[3], 'state', 'queued', 'attempts', '0', 'msg', msg,
           'reason', 'replayed', 'updated', ARGV[2])
redis.call('HDEL', KEYS[3], 'oo', 'dead_at', 'next')
return msg
)lua";

// KEYS: dead, job
// ARGV: jid, now, dead id, status_ttl
constexpr char kDiscard[] = R"lua(
if redis.call('HGET', KEYS[2], 'state') ~= 'dead' then
  return redis.error_reply('GG_NOTFOUND no dead letter ' .. ARGV[3])
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'discarded', 'updated', ARGV[2])
redis.call('HDEL', KEYS[2], 'payload', 'oo')
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 'discarded'
)lua";

// KEYS: stream, delayed, dead
constexpr char kStats[] = R"lua(
local ready, pending = 0, 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  pending = redis.call('XPENDING', KEYS[1], 'gg')[1]
  ready = redis.call('XLEN', KEYS[1]) - pending
end
return {ready, pending, redis.call('ZCARD', KEYS[2]),
        redis.call('ZCARD', KEYS[3])}
)lua";

const RedisScript& Script(const char* body) {
  // Scripts are immutable after construction (function-local statics are
  // initialised thread-safely).
  static const RedisScript enqueue(std::string(kPrelude) + kEnqueue);
  static const RedisScript claim(std::string(kPrelude) + kClaim);
  static const RedisScript delivered(std::string(kPrelude) + kMarkDelivered);
  static const RedisScript retry(std::string(kPrelude) + kRetry);
  static const RedisScript dead(std::string(kPrelude) + kDeadLetter);
  static const RedisScript promote(std::string(kPrelude) + kPromote);
  static const RedisScript replay(std::string(kPrelude) + kReplay);
  static const RedisScript discard(std::string(kPrelude) + kDiscard);
  static const RedisScript stats(std::string(kPrelude) + kStats);
  if (body == kEnqueue) return enqueue;
  if (body == kClaim) return claim;
  if (body == kMarkDelivered) return delivered;
  if (body == kRetry) return retry;
  if (body == kDeadLetter) return dead;
  if (body == kPromote) return promote;
  if (body == kReplay) return replay;
  if (body == kDiscard) return discard;
  return stats;
}

// ---------------------------------------------------------------------------
// Encoding helpers.

std::string Ms(std::chrono::milliseconds d) {
  return std::to_string(d.count());
}
std::string Ms(Timestamp t) { return std::to_string(ToUnixMillis(t)); }

int64_t ParseI64(const std::string& s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// First 16 bytes of SHA-256, as hex: a fixed-length key-name component.
std::string Digest(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  char hex[33];
  for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", d[i]);
  return std::string(hex, 32);
}

// Netstrings: "<len>:<bytes>," repeated.
std::string EncodeList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
    out += ',';
  }
  return out;
}

bool DecodeList(std::string_view in, std::vector<std::string>* out) {
  while (!in.empty()) {
    size_t colon = in.find(':');
    if (colon == std::string_view::npos) return false;
    size_t len = 0;
    auto [p, ec] = std::from_chars(in.data(), in.data() + colon, len);
    if (ec != std::errc() || p != in.data() + colon ||
        in.size() < colon + 1 + len + 1 || in[colon + 1 + len] != ',') {
      return false;
    }
    out->emplace_back(in.substr(colon + 1, len));
    in.remove_prefix(colon + 1 + len + 1);
  }
  return true;
}

std::string EncodeMeta(const std::map<std::string, std::string>& meta) {
  std::vector<std::string> flat;
  for (const auto& [k, v] : meta) {
    flat.push_back(k);
    flat.push_back(v);
  }
  return EncodeList(flat);
}

bool DecodeMeta(std::string_view in, std::map<std::string, std::string>* out) {
  std::vector<std::string> flat;
  if (!DecodeList(in, &flat) || flat.size() % 2 != 0) return false;
  for (size_t i = 0; i < flat.size(); i += 2) (*out)[flat[i]] = flat[i + 1];
  return true;
}

std::string Aad(std::string_view endpoint, std::string_view id,
                std::string_view field) {
  std::string s(endpoint);
  s += '/';
  s += id;
  s += '/';
  s += field;
  return s;
}

std::map<std::string, std::string> ToMap(const RedisReply& r) {
  std::map<std::string, std::string> m;
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    m[r.elements[i].str] = r.elements[i + 1].str;
  }
  return m;
}

std::string Get(const std::map<std::string, std::string>& m,
                const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? std::string() : it->second;
}

Result<JobState> ParseState(const std::string& s) {
  if (s == "queued") return JobState::kQueued;
  if (s == "delivering") return JobState::kDelivering;
  if (s == "retrying") return JobState::kRetrying;
  if (s == "delivered") return JobState::kDelivered;
  if (s == "dead") return JobState::kDeadLettered;
  if (s == "superseded") return JobState::kSuperseded;
  if (s == "discarded") return JobState::kDiscarded;
  return Error(ErrorCode::kInternal, "corrupt job record: state '" + s + "'");
}

Result<JobStatus> ToStatus(std::string_view endpoint,
                           const std::map<std::string, std::string>& h) {
  JobStatus s;
  Result<JobState> state = ParseState(Get(h, "state"));
  if (!state.ok()) return state.error();
  s.job_id = Get(h, "id");
  s.endpoint = std::string(endpoint);
  s.state = *state;
  s.report_version = ParseI64(Get(h, "ver"));
  s.attempts = static_cast<int>(ParseI64(Get(h, "attempts")));
  s.updated = FromUnixMillis(ParseI64(Get(h, "updated")));
  if (h.count("next") != 0)
    s.next_attempt = FromUnixMillis(ParseI64(h.at("next")));
  s.last_reason = Get(h, "reason");
  if (!DecodeList(Get(h, "rids"), &s.resource_ids)) {
    return Error(ErrorCode::kInternal, "corrupt job record: resource ids");
  }
  if (s.state == JobState::kDeadLettered) {
    s.dead_letter_id = MakeDeadLetterId(endpoint, s.job_id);
  }
  return s;
}

}  // namespace

// A pooled connection, returned to the pool when destroyed.
class RedisQueue::Conn {
 public:
  Conn(RedisQueue* q, std::unique_ptr<RedisClient> c)
      : q_(q), c_(std::move(c)) {}
  Conn(Conn&& o) noexcept : q_(o.q_), c_(std::move(o.c_)) {}
  Conn& operator=(Conn&&) = delete;
  ~Conn() {
    if (c_) q_->Release(std::move(c_));
  }
  RedisClient* operator->() { return c_.get(); }
  RedisClient& operator*() { return *c_; }

 private:
  RedisQueue* q_;
  std::unique_ptr<RedisClient> c_;
};

RedisQueue::RedisQueue(RedisQueueOptions options,
                       std::shared_ptr<const KeyRing> keys, const Clock* clock)
    : options_(std::move(options)),
      keys_(std::move(keys)),
      clock_(clock != nullptr ? clock : SystemClock::Get()) {}

RedisQueue::~RedisQueue() = default;

Result<std::unique_ptr<RedisQueue>> RedisQueue::Create(
    RedisQueueOptions options, std::shared_ptr<const KeyRing> keys,
    const Clock* clock) {
  if (keys == nullptr || keys->active_id().empty()) {
    return Error(ErrorCode::kFailedPrecondition,
                 "the delivery queue needs a key ring with an active key "
                 "(payloads are PHI and are encrypted at rest)");
  }
  if (options.key_prefix.empty() || options.key_prefix.size() > 200 ||
      options.key_prefix.find_first_of(" \r\n") != std::string::npos) {
    return Error(ErrorCode::kInvalidInput,
                 "queue key prefix must be 1..200 bytes without spaces");
  }
  std::unique_ptr<RedisQueue> q(
      new RedisQueue(std::move(options), std::move(keys), clock));
  Result<Conn> conn = q->Acquire();
  if (!conn.ok()) return conn.error();
  if (Status s = q->CheckDurability(**conn); !s.ok()) return s.error();
  return q;
}

Status RedisQueue::CheckDurability(RedisClient& client) {
  using D = RedisQueueOptions::Durability;
  if (options_.durability == D::kUnchecked) return Status::Ok();
  auto config = [&](const char* name) -> Result<std::string> {
    Result<RedisReply> r = client.Command({"CONFIG", "GET", name});
    if (!r.ok()) {
      if (r.error().retryable()) return r.error();
      return Error(ErrorCode::kFailedPrecondition,
                   std::string("cannot check redis durability (CONFIG GET ") +
                       name + " failed: " + r.error().message() +
                       "); verify it and use durability 'unchecked'");
    }
    if (r->elements.size() != 2) {
      return Error(ErrorCode::kFailedPrecondition,
                   std::string("redis did not report ") + name);
    }
    return r->elements[1].str;
  };
  Result<std::string> aof = config("appendonly");
  if (!aof.ok()) return aof.error();
  if (*aof != "yes") {
    return Error(ErrorCode::kFailedPrecondition,
                 "redis at " + options_.redis.Describe() +
                     " runs without the append-only file (appendonly " + *aof +
                     "): acknowledged enqueues could be lost; set appendonly "
                     "yes and appendfsync always");
  }
  if (options_.durability == D::kAlways) {
    Result<std::string> fsync = config("appendfsync");
    if (!fsync.ok()) return fsync.error();
    if (*fsync != "always") {
      return Error(ErrorCode::kFailedPrecondition,
                   "redis at " + options_.redis.Describe() +
                       " runs with appendfsync " + *fsync +
                       ": set appendfsync always (or accept the loss window "
                       "with durability 'aof')");
    }
  }
  return Status::Ok();
}

Result<RedisQueue::Conn> RedisQueue::Acquire() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!idle_.empty()) {
      std::unique_ptr<RedisClient> c = std::move(idle_.back());
      idle_.pop_back();
      return Conn(this, std::move(c));
    }
  }
  Result<std::unique_ptr<RedisClient>> c = RedisClient::Connect(options_.redis);
  if (!c.ok()) return c.error();
  return Conn(this, std::move(c).value());
}

void RedisQueue::Release(std::unique_ptr<RedisClient> client) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (static_cast<int>(idle_.size()) < options_.max_idle_connections) {
    idle_.push_back(std::move(client));
  }
}

std::string RedisQueue::Key(std::string_view kind,
                            std::string_view endpoint) const {
  std::string k = options_.key_prefix;
  k += kind;
  if (!endpoint.empty()) {
    k += ':';
    k += endpoint;
  }
  return k;
}

std::string RedisQueue::JobKey(std::string_view endpoint,
                               std::string_view id) const {
  std::string k = Key("job", endpoint);
  k += ':';
  k += id;
  return k;
}

Result<EnqueueResult> RedisQueue::Enqueue(std::string_view endpoint, Job job) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  job.endpoint = std::string(endpoint);
  if (Status s = ValidateJobForEnqueue(job); !s.ok()) return s.error();
  if (job.idempotency_key.empty()) job.idempotency_key = job.id;
  Timestamp now = clock_->Now();
  if (job.created == Timestamp{}) job.created = now;

  Result<std::string> payload =
      keys_->Encrypt(job.payload, Aad(endpoint, job.id, "payload"));
  if (!payload.ok()) return payload.error();
  Result<std::string> rkc =
      keys_->Encrypt(job.report_key, Aad(endpoint, job.id, "report_key"));
  if (!rkc.ok()) return rkc.error();
  std::string rk = Digest(job.report_key);
  const QueueOptions& qo = options_.queue;

  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> r = (*conn)->Eval(
      Script(kEnqueue),
      {Key("idem", endpoint) + ":" + Digest(job.idempotency_key),
       JobKey(endpoint, job.id), Key("q", endpoint),
       Key("latest", endpoint) + ":" + rk, Key("endpoints", "")},
      {job.id, job.endpoint, rk, *rkc, std::to_string(job.report_version),
       job.idempotency_key, *payload, Ms(job.created), EncodeMeta(job.metadata),
       Ms(now), Ms(qo.idempotency_ttl), Ms(qo.report_version_ttl),
       Ms(qo.status_ttl)});
  if (!r.ok()) return r.error();
  if (r->elements.size() != 2) {
    return Error(ErrorCode::kInternal, "unexpected reply from enqueue script");
  }
  EnqueueResult out;
  out.job_id = r->elements[0].str;
  const std::string& outcome = r->elements[1].str;
  out.outcome = outcome == "duplicate"    ? EnqueueOutcome::kDuplicate
                : outcome == "superseded" ? EnqueueOutcome::kSuperseded
                                          : EnqueueOutcome::kEnqueued;
  return out;
}

Result<std::vector<Job>> RedisQueue::Claim(std::string_view endpoint,
                                           std::string_view consumer, int max) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  if (consumer.empty()) {
    return Error(ErrorCode::kInvalidInput, "consumer name must not be empty");
  }
  if (max <= 0) return std::vector<Job>();
  const QueueOptions& qo = options_.queue;
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> r = (*conn)->Eval(
      Script(kClaim),
      {Key("q", endpoint), Key("delayed", endpoint), Key("reclaim", endpoint)},
      {options_.key_prefix, std::string(endpoint), std::string(consumer),
       std::to_string(max), Ms(clock_->Now()), Ms(qo.reclaim_idle),
       Ms(qo.report_lease), Ms(qo.blocked_delay), Ms(qo.status_ttl)});
  if (!r.ok()) return r.error();
  return DecodeClaimed(*conn, endpoint, *r);
}

Result<std::vector<Job>> RedisQueue::DecodeClaimed(Conn& conn,
                                                   std::string_view endpoint,
                                                   const RedisReply& reply) {
  std::vector<Job> out;
  for (const RedisReply& e : reply.elements) {
    // {msgid, attempts, id, rkc, ver, idem, payload, created, meta}
    if (e.elements.size() != 9) {
      return Error(ErrorCode::kInternal, "unexpected reply from claim script");
    }
    Job job;
    job.receipt = e.elements[0].str;
    job.attempts = static_cast<int>(e.elements[1].integer);
    job.id = e.elements[2].str;
    job.endpoint = std::string(endpoint);
    job.report_version = ParseI64(e.elements[4].str);
    job.idempotency_key = e.elements[5].str;
    job.created = FromUnixMillis(ParseI64(e.elements[7].str));
    bool meta_ok = DecodeMeta(e.elements[8].str, &job.metadata);
    Result<std::string> rk =
        keys_->Decrypt(e.elements[3].str, Aad(endpoint, job.id, "report_key"));
    Result<std::string> payload =
        keys_->Decrypt(e.elements[6].str, Aad(endpoint, job.id, "payload"));
    if (!rk.ok() || !payload.ok() || !meta_ok) {
      // Undeliverable as stored: dead-letter it rather than let it be
      // reclaimed forever. (Never include the payload in the reason.)
      std::string why = !payload.ok() ? payload.error().ToString()
                        : !rk.ok()    ? rk.error().ToString()
                                      : "corrupt metadata";
      Status s =
          DeadLetterLocked(conn, job, "cannot read the stored job: " + why, "");
      if (!s.ok()) return s.error();
      continue;
    }
    job.report_key = std::move(rk).value();
    job.payload = std::move(payload).value();
    out.push_back(std::move(job));
  }
  return out;
}

Status RedisQueue::Ack(const Job& job) { return MarkDelivered(job, {}); }

Status RedisQueue::MarkDelivered(const Job& job,
                                 std::vector<std::string> resource_ids) {
  if (Status s = ValidateEndpointName(job.endpoint); !s.ok()) return s;
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> r =
      (*conn)->Eval(Script(kMarkDelivered),
                    {Key("q", job.endpoint), Key("delayed", job.endpoint),
                     Key("dead", job.endpoint), JobKey(job.endpoint, job.id)},
                    {options_.key_prefix, job.endpoint, job.id, job.receipt,
                     EncodeList(resource_ids), Ms(clock_->Now()),
                     Ms(options_.queue.status_ttl)});
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Status RedisQueue::Retry(const Job& job, Timestamp due,
                         std::string_view reason) {
  if (Status s = ValidateEndpointName(job.endpoint); !s.ok()) return s;
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> r =
      (*conn)->Eval(Script(kRetry),
                    {Key("q", job.endpoint), Key("delayed", job.endpoint),
                     JobKey(job.endpoint, job.id)},
                    {options_.key_prefix, job.endpoint, job.id, job.receipt,
                     std::to_string(job.attempts), Ms(due), std::string(reason),
                     Ms(clock_->Now()), Ms(options_.queue.status_ttl)});
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<int64_t> RedisQueue::PromoteDue(Timestamp now) {
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> eps = (*conn)->Command({"SMEMBERS", Key("endpoints", "")});
  if (!eps.ok()) return eps.error();
  int64_t moved = 0;
  for (const RedisReply& ep : eps->elements) {
    Result<RedisReply> r = (*conn)->Eval(
        Script(kPromote), {Key("delayed", ep.str), Key("q", ep.str)},
        {options_.key_prefix, ep.str, Ms(now),
         std::to_string(options_.queue.promote_batch),
         Ms(options_.queue.status_ttl)});
    if (!r.ok()) return r.error();
    moved += r->integer;
  }
  return moved;
}

Status RedisQueue::DeadLetter(const Job& job, std::string_view reason,
                              std::string_view operation_outcome_json) {
  if (Status s = ValidateEndpointName(job.endpoint); !s.ok()) return s;
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  return DeadLetterLocked(*conn, job, reason, operation_outcome_json);
}

Status RedisQueue::DeadLetterLocked(Conn& conn, const Job& job,
                                    std::string_view reason,
                                    std::string_view operation_outcome_json) {
  std::string oo;
  if (!operation_outcome_json.empty()) {
    Result<std::string> enc = keys_->Encrypt(
        operation_outcome_json, Aad(job.endpoint, job.id, "outcome"));
    if (!enc.ok()) return enc.error();
    oo = std::move(enc).value();
  }
  std::string now = Ms(clock_->Now());
  Result<RedisReply> r =
      conn->Eval(Script(kDeadLetter),
                 {Key("q", job.endpoint), Key("dead", job.endpoint),
                  JobKey(job.endpoint, job.id)},
                 {options_.key_prefix, job.endpoint, job.id, job.receipt,
                  std::to_string(job.attempts), std::string(reason), oo, now});
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<std::map<std::string, std::string>> RedisQueue::LoadJobHash(
    Conn& conn, std::string_view endpoint, std::string_view id) {
  Result<RedisReply> r = conn->Command({"HGETALL", JobKey(endpoint, id)});
  if (!r.ok()) return r.error();
  if (r->elements.empty()) {
    return Error(
        ErrorCode::kNotFound,
        "no job " + std::string(id) + " on endpoint " + std::string(endpoint));
  }
  return ToMap(*r);
}

Result<gateway::DeadLetter> RedisQueue::ToDeadLetter(
    std::string_view endpoint, const std::map<std::string, std::string>& h,
    bool with_payload) const {
  gateway::DeadLetter d;
  Job& job = d.job;
  job.id = Get(h, "id");
  job.endpoint = std::string(endpoint);
  job.report_version = ParseI64(Get(h, "ver"));
  job.idempotency_key = Get(h, "idem");
  job.created = FromUnixMillis(ParseI64(Get(h, "created")));
  job.attempts = static_cast<int>(ParseI64(Get(h, "attempts")));
  if (!DecodeMeta(Get(h, "meta"), &job.metadata)) {
    return Error(ErrorCode::kInternal, "corrupt job record: metadata");
  }
  Result<std::string> rk =
      keys_->Decrypt(Get(h, "rkc"), Aad(endpoint, job.id, "report_key"));
  if (!rk.ok()) return rk.error().WithContext("dead letter report key");
  job.report_key = std::move(rk).value();
  if (with_payload && h.count("payload") != 0) {
    Result<std::string> p =
        keys_->Decrypt(h.at("payload"), Aad(endpoint, job.id, "payload"));
    if (!p.ok()) return p.error().WithContext("dead letter payload");
    job.payload = std::move(p).value();
  }
  if (h.count("oo") != 0 && !h.at("oo").empty()) {
    Result<std::string> oo =
        keys_->Decrypt(h.at("oo"), Aad(endpoint, job.id, "outcome"));
    if (!oo.ok()) return oo.error().WithContext("dead letter outcome");
    d.operation_outcome = std::move(oo).value();
  }
  d.id = MakeDeadLetterId(endpoint, job.id);
  d.reason = Get(h, "reason");
  d.time = FromUnixMillis(ParseI64(Get(h, "dead_at")));
  d.attempts = job.attempts;
  return d;
}

Result<std::vector<gateway::DeadLetter>> RedisQueue::ListDead(
    std::string_view endpoint, int64_t offset, int64_t limit) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  std::vector<gateway::DeadLetter> out;
  if (offset < 0 || limit <= 0) return out;
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> ids =
      (*conn)->Command({"ZRANGE", Key("dead", endpoint), std::to_string(offset),
                        std::to_string(offset + limit - 1)});
  if (!ids.ok()) return ids.error();
  for (const RedisReply& id : ids->elements) {
    Result<std::map<std::string, std::string>> h =
        LoadJobHash(*conn, endpoint, id.str);
    if (!h.ok()) {
      if (h.error().code() == ErrorCode::kNotFound) continue;  // raced
      return h.error();
    }
    Result<gateway::DeadLetter> d = ToDeadLetter(endpoint, *h, false);
    if (!d.ok()) return d.error();
    out.push_back(std::move(d).value());
  }
  return out;
}

Result<gateway::DeadLetter> RedisQueue::GetDead(std::string_view id) {
  std::string endpoint, job_id;
  if (Status s = ParseDeadLetterId(id, &endpoint, &job_id); !s.ok()) {
    return s.error();
  }
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<std::map<std::string, std::string>> h =
      LoadJobHash(*conn, endpoint, job_id);
  if (!h.ok() && h.error().code() != ErrorCode::kNotFound) return h.error();
  if (!h.ok() || Get(*h, "state") != "dead") {
    return Error(ErrorCode::kNotFound, "no dead letter " + std::string(id));
  }
  return ToDeadLetter(endpoint, *h, true);
}

Status RedisQueue::Replay(std::string_view id) {
  std::string endpoint, job_id;
  if (Status s = ParseDeadLetterId(id, &endpoint, &job_id); !s.ok()) return s;
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> r = (*conn)->Eval(
      Script(kReplay),
      {Key("dead", endpoint), Key("q", endpoint), JobKey(endpoint, job_id)},
      {job_id, Ms(clock_->Now()), std::string(id)});
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Status RedisQueue::Discard(std::string_view id) {
  std::string endpoint, job_id;
  if (Status s = ParseDeadLetterId(id, &endpoint, &job_id); !s.ok()) return s;
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> r = (*conn)->Eval(
      Script(kDiscard), {Key("dead", endpoint), JobKey(endpoint, job_id)},
      {job_id, Ms(clock_->Now()), std::string(id),
       Ms(options_.queue.status_ttl)});
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<QueueStats> RedisQueue::Stats(std::string_view endpoint) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> r = (*conn)->Eval(
      Script(kStats),
      {Key("q", endpoint), Key("delayed", endpoint), Key("dead", endpoint)},
      {});
  if (!r.ok()) return r.error();
  if (r->elements.size() != 4) {
    return Error(ErrorCode::kInternal, "unexpected reply from stats script");
  }
  QueueStats q;
  q.endpoint = std::string(endpoint);
  q.ready = r->elements[0].integer;
  q.in_flight = r->elements[1].integer;
  q.delayed = r->elements[2].integer;
  q.dead = r->elements[3].integer;
  return q;
}

Result<std::vector<QueueStats>> RedisQueue::AllStats() {
  std::vector<std::string> names;
  {
    Result<Conn> conn = Acquire();
    if (!conn.ok()) return conn.error();
    Result<RedisReply> eps =
        (*conn)->Command({"SMEMBERS", Key("endpoints", "")});
    if (!eps.ok()) return eps.error();
    for (const RedisReply& e : eps->elements) names.push_back(e.str);
  }
  std::sort(names.begin(), names.end());
  std::vector<QueueStats> out;
  for (const std::string& n : names) {
    Result<QueueStats> q = Stats(n);
    if (!q.ok()) return q.error();
    out.push_back(std::move(q).value());
  }
  return out;
}

Result<JobStatus> RedisQueue::GetStatus(std::string_view endpoint,
                                        std::string_view job_id) {
  if (Status s = ValidateEndpointName(endpoint); !s.ok()) return s.error();
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<std::map<std::string, std::string>> h =
      LoadJobHash(*conn, endpoint, job_id);
  if (!h.ok()) return h.error();
  return ToStatus(endpoint, *h);
}

Result<std::vector<JobStatus>> RedisQueue::GetStatuses(
    std::string_view job_id) {
  Result<Conn> conn = Acquire();
  if (!conn.ok()) return conn.error();
  Result<RedisReply> eps = (*conn)->Command({"SMEMBERS", Key("endpoints", "")});
  if (!eps.ok()) return eps.error();
  std::vector<std::string> names;
  for (const RedisReply& e : eps->elements) names.push_back(e.str);
  std::sort(names.begin(), names.end());
  std::vector<JobStatus> out;
  for (const std::string& ep : names) {
    Result<std::map<std::string, std::string>> h =
        LoadJobHash(*conn, ep, job_id);
    if (!h.ok()) {
      if (h.error().code() == ErrorCode::kNotFound) continue;
      return h.error();
    }
    Result<JobStatus> s = ToStatus(ep, *h);
    if (!s.ok()) return s.error();
    out.push_back(std::move(s).value());
  }
  return out;
}

}  // namespace genogate::gateway

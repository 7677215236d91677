// RedisQueue behaviour that only a real Redis can show: idle reclaim, crash
// recovery from the AOF, concurrency, encryption at rest, key rotation.
#include "gateway/queue/redis_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "gateway/queue/queue_test_util.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using testing::MakeRedisQueue;
using testing::TestKeyRing;
using testing::UniquePrefix;

Job MakeJob(std::string id, std::string report, int64_t version,
            std::string payload = "{}") {
  Job j;
  j.id = std::move(id);
  j.report_key = std::move(report);
  j.report_version = version;
  j.payload = std::move(payload);
  return j;
}

std::unique_ptr<RedisClient> RawClient(const RedisServer& server) {
  Result<RedisOptions> o = RedisOptions::FromUrl(server.url());
  EXPECT_TRUE(o.ok());
  Result<std::unique_ptr<RedisClient>> c = RedisClient::Connect(*o);
  EXPECT_TRUE(c.ok());
  return c.ok() ? std::move(c).value() : nullptr;
}

class RedisQueueTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = RedisServer::Start().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }
  static RedisServer* server_;
};
RedisServer* RedisQueueTest::server_ = nullptr;

TEST_F(RedisQueueTest, JobOfDeadConsumerIsReclaimedAfterIdleTimeout) {
  QueueOptions o;
  o.reclaim_idle = milliseconds(300);
  std::unique_ptr<RedisQueue> q = MakeRedisQueue(*server_, o, nullptr);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue("ehr", MakeJob("j1", "R1", 1, "the bundle")).ok());
  Result<std::vector<Job>> a = q->Claim("ehr", "worker-a", 1);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 1u);
  // worker-a "dies": it never acks. Before the idle timeout nobody else gets
  // the job...
  Result<std::vector<Job>> b = q->Claim("ehr", "worker-b", 1);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty());
  // ...after it, worker-b does.
  std::this_thread::sleep_for(milliseconds(450));
  b = q->Claim("ehr", "worker-b", 1);
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].id, "j1");
  EXPECT_EQ((*b)[0].payload, "the bundle");
  EXPECT_EQ((*b)[0].attempts, 2);
  // worker-a's stale claim can no longer retry it; worker-b acks it.
  Status stale = q->Retry((*a)[0], SystemClock::Get()->Now(), "late");
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  ASSERT_TRUE(q->Ack((*b)[0]).ok());
  Result<QueueStats> s = q->Stats("ehr");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->in_flight, 0);
  EXPECT_EQ(s->ready, 0);
}

TEST_F(RedisQueueTest, ConcurrentWorkersDeliverEachJobExactlyOnce) {
  QueueOptions o;
  o.blocked_delay = milliseconds(20);
  std::unique_ptr<RedisQueue> q = MakeRedisQueue(*server_, o, nullptr);
  ASSERT_NE(q, nullptr);
  constexpr int kJobs = 600;
  constexpr int kProducers = 2;
  constexpr int kWorkers = 4;
  std::mutex mu;
  std::map<std::string, int> deliveries;
  std::atomic<int> acked{0};
  std::atomic<int> errors{0};
  // Jobs of the report "shared" being delivered right now: never above 1.
  std::atomic<int> shared_in_flight{0};
  std::atomic<int> shared_overlaps{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = p; i < kJobs; i += kProducers) {
        std::string id = "job-" + std::to_string(i);
        // Every 7th job belongs to a shared report with equal versions, so
        // the in-flight marker is exercised under contention.
        std::string report =
            i % 7 == 0 ? "shared" : "report-" + std::to_string(i);
        if (!q->Enqueue("ehr", MakeJob(id, report, 1, "payload-" + id)).ok()) {
          ++errors;
        }
      }
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      std::string me = "worker-" + std::to_string(w);
      while (acked.load() < kJobs &&
             std::chrono::steady_clock::now() < deadline) {
        Result<std::vector<Job>> got = q->Claim("ehr", me, 8);
        if (!got.ok()) {
          ++errors;
          continue;
        }
        if (got->empty()) {
          // Promote parked jobs of the shared report (blocked_delay).
          (void)q->PromoteDue(SystemClock::Get()->Now());
          std::this_thread::sleep_for(milliseconds(2));
          continue;
        }
        for (const Job& j : *got) {
          if (j.payload != "payload-" + j.id) ++errors;
          bool shared = j.report_key == "shared";
          if (shared && ++shared_in_flight > 1) ++shared_overlaps;
          {
            std::lock_guard<std::mutex> lock(mu);
            ++deliveries[j.id];
          }
          // "Delivered"; stop counting before the ack releases the report.
          if (shared) --shared_in_flight;
          if (q->Ack(j).ok()) {
            ++acked;
          } else {
            ++errors;
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(shared_overlaps.load(), 0);
  EXPECT_EQ(acked.load(), kJobs);
  ASSERT_EQ(deliveries.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, n] : deliveries) EXPECT_EQ(n, 1) << id;
  Result<QueueStats> s = q->Stats("ehr");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ready + s->in_flight + s->delayed + s->dead, 0);
}

TEST_F(RedisQueueTest, ConcurrentPromoteMovesEachDueJobOnce) {
  FakeClock clock;
  std::unique_ptr<RedisQueue> q = MakeRedisQueue(*server_, {}, &clock);
  ASSERT_NE(q, nullptr);
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) {
    std::string id = "j" + std::to_string(i);
    ASSERT_TRUE(q->Enqueue(i % 2 ? "ehr-a" : "ehr-b", MakeJob(id, id, 1)).ok());
  }
  for (const char* ep : {"ehr-a", "ehr-b"}) {
    Result<std::vector<Job>> got = q->Claim(ep, "w", kJobs);
    ASSERT_TRUE(got.ok());
    for (const Job& j : *got) {
      ASSERT_TRUE(q->Retry(j, clock.Now(), "503").ok());
    }
  }
  std::atomic<int64_t> moved{0};
  std::vector<std::thread> replicas;
  for (int r = 0; r < 4; ++r) {
    replicas.emplace_back([&] {
      for (int k = 0; k < 5; ++k) {
        Result<int64_t> n = q->PromoteDue(clock.Now());
        if (n.ok()) moved += *n;
      }
    });
  }
  for (std::thread& t : replicas) t.join();
  EXPECT_EQ(moved.load(), kJobs);
  Result<QueueStats> a = q->Stats("ehr-a");
  Result<QueueStats> b = q->Stats("ehr-b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ready + b->ready, kJobs);
  EXPECT_EQ(a->delayed + b->delayed, 0);
}

// Everything under the queue's prefix, as raw bytes.
std::string DumpPrefix(RedisClient& c, const std::string& prefix) {
  std::string all;
  std::string cursor = "0";
  do {
    Result<RedisReply> r =
        c.Command({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return all;
    cursor = r->elements[0].str;
    for (const RedisReply& k : r->elements[1].elements) {
      std::string type = c.Command({"TYPE", k.str})->str;
      Result<RedisReply> v = Error(ErrorCode::kInternal, "");
      if (type == "string") v = c.Command({"GET", k.str});
      if (type == "hash") v = c.Command({"HGETALL", k.str});
      if (type == "stream") v = c.Command({"XRANGE", k.str, "-", "+"});
      if (type == "zset") v = c.Command({"ZRANGE", k.str, "0", "-1"});
      if (type == "set") v = c.Command({"SMEMBERS", k.str});
      EXPECT_TRUE(v.ok()) << k.str << " " << type;
      if (!v.ok()) continue;
      std::function<void(const RedisReply&)> add = [&](const RedisReply& x) {
        all += x.str;
        all += '\n';
        for (const RedisReply& e : x.elements) add(e);
      };
      all += k.str + '\n';
      add(*v);
    }
  } while (cursor != "0");
  return all;
}

TEST_F(RedisQueueTest, PayloadsAndOutcomesAreEncryptedAtRest) {
  std::string prefix = UniquePrefix();
  std::unique_ptr<RedisQueue> q = MakeRedisQueue(*server_, {}, nullptr, prefix);
  ASSERT_NE(q, nullptr);
  const std::string marker = "PHI-MARKER-DOE-JANE-1970";
  const std::string report = "LAB7|ACC-PHI-REPORT-KEY";
  ASSERT_TRUE(q->Enqueue("ehr", MakeJob("j1", report, 1,
                                        "{\"name\":\"" + marker + "\"}"))
                  .ok());
  ASSERT_TRUE(q->Enqueue("ehr", MakeJob("j2", "R2", 1, marker)).ok());
  Result<std::vector<Job>> got = q->Claim("ehr", "w", 2);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  // Positive control: the queue itself hands the plaintext back.
  EXPECT_THAT((*got)[0].payload, HasSubstr(marker));
  EXPECT_EQ((*got)[0].report_key, report);
  ASSERT_TRUE(q->DeadLetter((*got)[1], "HTTP 422",
                            "{\"diagnostics\":\"" + marker + " echoed\"}")
                  .ok());
  Result<DeadLetter> dead = q->GetDead("ehr/j2");
  ASSERT_TRUE(dead.ok());
  EXPECT_THAT(dead->operation_outcome, HasSubstr(marker));

  std::unique_ptr<RedisClient> raw = RawClient(*server_);
  ASSERT_NE(raw, nullptr);
  std::string stored = DumpPrefix(*raw, prefix);
  EXPECT_THAT(stored, HasSubstr(prefix + "job:ehr:j1"));  // the dump works
  EXPECT_EQ(stored.find(marker), std::string::npos);
  EXPECT_EQ(stored.find("ACC-PHI-REPORT-KEY"), std::string::npos);
  // Nor in the append-only file on disk.
  ASSERT_TRUE(raw->Command({"PING"}).ok());
  std::string aof;
  for (const auto& f :
       std::filesystem::recursive_directory_iterator(server_->dir())) {
    if (f.is_regular_file() &&
        f.path().string().find(".aof") != std::string::npos) {
      std::ifstream in(f.path(), std::ios::binary);
      aof.append(std::istreambuf_iterator<char>(in), {});
    }
  }
  EXPECT_THAT(aof, HasSubstr("job:ehr:j1"));
  EXPECT_EQ(aof.find(marker), std::string::npos);
}

TEST_F(RedisQueueTest, OldKeyDecryptsAfterRotationUnknownKeyDeadLetters) {
  std::string prefix = UniquePrefix();
  Result<RedisOptions> ro = RedisOptions::FromUrl(server_->url());
  ASSERT_TRUE(ro.ok());
  RedisQueueOptions o;
  o.redis = *ro;
  o.key_prefix = prefix;
  o.durability = RedisQueueOptions::Durability::kAof;
  const std::string k1 =
      "k1 = "
      "hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  const std::string k2 =
      "k2 = base64:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
  auto ring = [](const std::string& text) {
    Result<KeyRing> r = KeyRing::Parse(text);
    EXPECT_TRUE(r.ok());
    return std::make_shared<const KeyRing>(std::move(r).value());
  };
  auto old_q = RedisQueue::Create(o, ring(k1));
  ASSERT_TRUE(old_q.ok());
  ASSERT_TRUE((*old_q)->Enqueue("ehr", MakeJob("old", "R1", 1, "p-old")).ok());

  // Rotated: k2 encrypts, k1 still decrypts.
  auto new_q = RedisQueue::Create(o, ring("active = k2\n" + k1 + "\n" + k2));
  ASSERT_TRUE(new_q.ok());
  ASSERT_TRUE((*new_q)->Enqueue("ehr", MakeJob("new", "R2", 1, "p-new")).ok());
  Result<std::vector<Job>> got = (*new_q)->Claim("ehr", "w", 10);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].payload, "p-old");
  EXPECT_EQ((*got)[1].payload, "p-new");
  std::unique_ptr<RedisClient> raw = RawClient(*server_);
  Result<RedisReply> env =
      raw->Command({"HGET", prefix + "job:ehr:new", "payload"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*KeyRing::KeyIdOf(env->str), "k2");
  for (const Job& j : *got) {
    ASSERT_TRUE((*new_q)->Retry(j, SystemClock::Get()->Now(), "x").ok());
  }
  ASSERT_TRUE((*new_q)->PromoteDue(SystemClock::Get()->Now()).ok());

  // k1 retired too early: a job still encrypted with it cannot be delivered
  // and is dead-lettered with a clear reason instead of blocking the queue.
  auto k2_only = RedisQueue::Create(o, ring(k2));
  ASSERT_TRUE(k2_only.ok());
  got = (*k2_only)->Claim("ehr", "w", 10);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].id, "new");
  Result<JobStatus> st = (*k2_only)->GetStatus("ehr", "old");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, JobState::kDeadLettered);
  EXPECT_THAT(st->last_reason, HasSubstr("unknown key id 'k1'"));
}

TEST_F(RedisQueueTest, KeyPrefixesIsolateDeployments) {
  std::unique_ptr<RedisQueue> a = MakeRedisQueue(*server_, {}, nullptr);
  std::unique_ptr<RedisQueue> b = MakeRedisQueue(*server_, {}, nullptr);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Enqueue("ehr", MakeJob("j1", "R", 1)).ok());
  EXPECT_EQ(b->Enqueue("ehr", MakeJob("j1", "R", 1))->outcome,
            EnqueueOutcome::kEnqueued);
  EXPECT_EQ(a->Claim("ehr", "w", 10)->size(), 1u);
  EXPECT_EQ(b->Claim("ehr", "w", 10)->size(), 1u);
  EXPECT_EQ(a->AllStats()->size(), 1u);
}

TEST_F(RedisQueueTest, ScriptsAreReloadedAfterScriptFlush) {
  std::unique_ptr<RedisQueue> q = MakeRedisQueue(*server_, {}, nullptr);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Enqueue("ehr", MakeJob("j1", "R", 1)).ok());
  std::unique_ptr<RedisClient> raw = RawClient(*server_);
  ASSERT_TRUE(raw->Command({"SCRIPT", "FLUSH"}).ok());
  Result<std::vector<Job>> got = q->Claim("ehr", "w", 1);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_TRUE(q->Ack((*got)[0]).ok());
}

TEST_F(RedisQueueTest, RequiresAKeyRingAndDurableRedis) {
  Result<RedisOptions> ro = RedisOptions::FromUrl(server_->url());
  ASSERT_TRUE(ro.ok());
  RedisQueueOptions o;
  o.redis = *ro;
  o.key_prefix = UniquePrefix();
  // The test server runs appendfsync everysec.
  o.durability = RedisQueueOptions::Durability::kAlways;
  auto q = RedisQueue::Create(o, TestKeyRing());
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(q.error().message(), HasSubstr("appendfsync everysec"));
  o.durability = RedisQueueOptions::Durability::kAof;
  EXPECT_TRUE(RedisQueue::Create(o, TestKeyRing()).ok());
  EXPECT_EQ(RedisQueue::Create(o, nullptr).error().code(),
            ErrorCode::kFailedPrecondition);

  std::unique_ptr<RedisClient> raw = RawClient(*server_);
  ASSERT_TRUE(raw->Command({"CONFIG", "SET", "appendonly", "no"}).ok());
  q = RedisQueue::Create(o, TestKeyRing());
  ASSERT_TRUE(raw->Command({"CONFIG", "SET", "appendonly", "yes"}).ok());
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code(), ErrorCode::kFailedPrecondition);
  o.durability = RedisQueueOptions::Durability::kUnchecked;
  EXPECT_TRUE(RedisQueue::Create(o, TestKeyRing()).ok());
}

// Crash recovery, once per fsync policy: every enqueue acknowledged before
// a SIGKILL of redis-server is there after a restart from the AOF.
class RedisQueueCrashTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RedisQueueCrashTest, SigkillLosesNoAcknowledgedEnqueue) {
  RedisServer::Options so;
  so.appendfsync = GetParam();
  std::unique_ptr<RedisServer> server = RedisServer::Start(so);
  ASSERT_NE(server, nullptr);
  std::string prefix = UniquePrefix();
  constexpr int kJobs = 300;
  {
    std::unique_ptr<RedisQueue> q =
        MakeRedisQueue(*server, {}, nullptr, prefix);
    ASSERT_NE(q, nullptr);
    for (int i = 0; i < kJobs; ++i) {
      std::string id = "j" + std::to_string(i);
      ASSERT_TRUE(q->Enqueue("ehr", MakeJob(id, id, 1, "p" + id)).ok());
    }
    // Also one delivered and one in retry, to check their state survives.
    Result<std::vector<Job>> two = q->Claim("ehr", "w", 2);
    ASSERT_TRUE(two.ok());
    ASSERT_EQ(two->size(), 2u);
    ASSERT_TRUE(q->Ack((*two)[0]).ok());
    ASSERT_TRUE(q->Retry((*two)[1], SystemClock::Get()->Now(), "503").ok());

    server->Kill();  // kill -9: no shutdown, no final fsync
    // While Redis is down, operations fail as retryable.
    Result<EnqueueResult> down = q->Enqueue("ehr", MakeJob("x", "x", 1));
    ASSERT_FALSE(down.ok());
    EXPECT_EQ(down.error().code(), ErrorCode::kUnavailable);
    EXPECT_TRUE(down.error().retryable());

    ASSERT_TRUE(server->Restart());
    // The same queue object reconnects.
    ASSERT_TRUE(q->PromoteDue(SystemClock::Get()->Now()).ok());
    std::set<std::string> seen;
    for (;;) {
      Result<std::vector<Job>> got = q->Claim("ehr", "after-restart", 100);
      ASSERT_TRUE(got.ok()) << got.error().ToString();
      if (got->empty()) break;
      for (const Job& j : *got) {
        EXPECT_EQ(j.payload, "p" + j.id);
        seen.insert(j.id);
        ASSERT_TRUE(q->Ack(j).ok());
      }
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(kJobs - 1));
    EXPECT_EQ(seen.count("j0"), 0u);  // delivered before the crash
    EXPECT_EQ(seen.count("j1"), 1u);  // was waiting for its retry
    Result<JobStatus> st = q->GetStatus("ehr", "j0");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->state, JobState::kDelivered);
  }
}

INSTANTIATE_TEST_SUITE_P(FsyncPolicies, RedisQueueCrashTest,
                         ::testing::Values("always", "everysec"));

}  // namespace
}  // namespace genogate::gateway

// The DeliveryQueue contract, run against MemoryQueue and RedisQueue.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "gateway/queue/delivery_queue.h"
#include "gateway/queue/memory_queue.h"
#include "gateway/queue/queue_test_util.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct MemoryEnv {
  static void SetUpSuite() {}
  static void TearDownSuite() {}
  static std::unique_ptr<DeliveryQueue> Make(const QueueOptions& o,
                                             const Clock* clock) {
    return std::make_unique<MemoryQueue>(o, clock);
  }
};

struct RedisEnv {
  static genogate::testing::RedisServer* server;
  static void SetUpSuite() {
    server = genogate::testing::RedisServer::Start().release();
  }
  static void TearDownSuite() {
    delete server;
    server = nullptr;
  }
  static std::unique_ptr<DeliveryQueue> Make(const QueueOptions& o,
                                             const Clock* clock) {
    if (server == nullptr) return nullptr;
    return testing::MakeRedisQueue(*server, o, clock);
  }
};
genogate::testing::RedisServer* RedisEnv::server = nullptr;

template <typename Env>
class DeliveryQueueContractTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Env::SetUpSuite(); }
  static void TearDownTestSuite() { Env::TearDownSuite(); }

  void SetUp() override { Remake(); }
  // Recreates the queue (fresh and empty) with the current options_.
  void Remake() {
    queue_ = Env::Make(options_, &clock_);
    ASSERT_NE(queue_, nullptr);
  }

  static Job MakeJob(std::string id, std::string report, int64_t version,
                     std::string payload = "{\"resourceType\":\"Bundle\"}") {
    Job j;
    j.id = std::move(id);
    j.report_key = std::move(report);
    j.report_version = version;
    j.payload = std::move(payload);
    return j;
  }

  EnqueueResult MustEnqueue(std::string_view ep, Job job) {
    Result<EnqueueResult> r = queue_->Enqueue(ep, std::move(job));
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : EnqueueResult{};
  }

  std::vector<Job> MustClaim(std::string_view ep, int max,
                             std::string_view consumer = "w1") {
    Result<std::vector<Job>> r = queue_->Claim(ep, consumer, max);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : std::vector<Job>();
  }

  QueueStats MustStats(std::string_view ep) {
    Result<QueueStats> s = queue_->Stats(ep);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.ok() ? *s : QueueStats();
  }

  JobStatus MustStatus(std::string_view ep, std::string_view id) {
    Result<JobStatus> s = queue_->GetStatus(ep, id);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.ok() ? *s : JobStatus();
  }

  static std::vector<std::string> Ids(const std::vector<Job>& jobs) {
    std::vector<std::string> ids;
    for (const Job& j : jobs) ids.push_back(j.id);
    return ids;
  }

  FakeClock clock_;
  QueueOptions options_;
  std::unique_ptr<DeliveryQueue> queue_;
};

using Implementations = ::testing::Types<MemoryEnv, RedisEnv>;
class EnvNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryEnv> ? "Memory" : "Redis";
  }
};
TYPED_TEST_SUITE(DeliveryQueueContractTest, Implementations, EnvNames);

TYPED_TEST(DeliveryQueueContractTest, EnqueueClaimAck) {
  Job job = this->MakeJob("sub-1", "LAB1|ACC-9", 3, "bundle \0 bytes");
  job.idempotency_key = "idem-1";
  job.metadata = {{"content-type", "application/fhir+json"}, {"trace", "t1"}};
  job.created = this->clock_.Now() - seconds(5);
  EnqueueResult e = this->MustEnqueue("ehr-a", job);
  EXPECT_EQ(e.job_id, "sub-1");
  EXPECT_EQ(e.outcome, EnqueueOutcome::kEnqueued);
  EXPECT_EQ(this->MustStats("ehr-a").ready, 1);
  EXPECT_EQ(this->MustStatus("ehr-a", "sub-1").state, JobState::kQueued);

  std::vector<Job> got = this->MustClaim("ehr-a", 10);
  ASSERT_EQ(got.size(), 1u);
  const Job& c = got[0];
  EXPECT_EQ(c.id, "sub-1");
  EXPECT_EQ(c.endpoint, "ehr-a");
  EXPECT_EQ(c.report_key, "LAB1|ACC-9");
  EXPECT_EQ(c.report_version, 3);
  EXPECT_EQ(c.idempotency_key, "idem-1");
  EXPECT_EQ(c.payload, job.payload);
  EXPECT_EQ(c.metadata, job.metadata);
  EXPECT_EQ(ToUnixMillis(c.created), ToUnixMillis(job.created));
  EXPECT_EQ(c.attempts, 1);
  EXPECT_FALSE(c.receipt.empty());

  QueueStats s = this->MustStats("ehr-a");
  EXPECT_EQ(s.ready, 0);
  EXPECT_EQ(s.in_flight, 1);
  JobStatus st = this->MustStatus("ehr-a", "sub-1");
  EXPECT_EQ(st.state, JobState::kDelivering);
  EXPECT_EQ(st.attempts, 1);
  EXPECT_TRUE(this->MustClaim("ehr-a", 10).empty());

  ASSERT_TRUE(
      this->queue_->MarkDelivered(c, {"DiagnosticReport/77", "Observation/78"})
          .ok());
  s = this->MustStats("ehr-a");
  EXPECT_EQ(s.ready + s.in_flight + s.delayed + s.dead, 0);
  st = this->MustStatus("ehr-a", "sub-1");
  EXPECT_EQ(st.state, JobState::kDelivered);
  EXPECT_THAT(st.resource_ids,
              ElementsAre("DiagnosticReport/77", "Observation/78"));
  EXPECT_EQ(ToUnixMillis(st.updated), ToUnixMillis(this->clock_.Now()));
  // Idempotent.
  EXPECT_TRUE(this->queue_->MarkDelivered(c, {}).ok());
  EXPECT_TRUE(this->MustClaim("ehr-a", 10).empty());
}

TYPED_TEST(DeliveryQueueContractTest, ClaimIsFifoAndHonoursMax) {
  for (int i = 1; i <= 5; ++i) {
    this->MustEnqueue("ehr-a", this->MakeJob("j" + std::to_string(i),
                                             "R" + std::to_string(i), 1));
  }
  EXPECT_THAT(this->Ids(this->MustClaim("ehr-a", 3)),
              ElementsAre("j1", "j2", "j3"));
  EXPECT_THAT(this->Ids(this->MustClaim("ehr-a", 10, "w2")),
              ElementsAre("j4", "j5"));
  EXPECT_TRUE(this->MustClaim("ehr-a", 0).empty());
  EXPECT_TRUE(this->MustClaim("never-used", 5).empty());
  QueueStats s = this->MustStats("ehr-a");
  EXPECT_EQ(s.in_flight, 5);
  EXPECT_EQ(s.ready, 0);
}

TYPED_TEST(DeliveryQueueContractTest, AckClearsTheJob) {
  this->MustEnqueue("ehr-a", this->MakeJob("j1", "R1", 1));
  std::vector<Job> got = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(this->queue_->Ack(got[0]).ok());
  EXPECT_EQ(this->MustStats("ehr-a").in_flight, 0);
  EXPECT_EQ(this->MustStatus("ehr-a", "j1").state, JobState::kDelivered);
  Job unknown = got[0];
  unknown.id = "nope";
  EXPECT_EQ(this->queue_->Ack(unknown).error().code(), ErrorCode::kNotFound);
}

TYPED_TEST(DeliveryQueueContractTest, IdempotentEnqueue) {
  Job a = this->MakeJob("sub-a", "R1", 1);
  a.idempotency_key = "client-key-1";
  Job b = this->MakeJob("sub-b", "R1", 1);
  b.idempotency_key = "client-key-1";
  EXPECT_EQ(this->MustEnqueue("ehr-a", a).outcome, EnqueueOutcome::kEnqueued);
  EnqueueResult dup = this->MustEnqueue("ehr-a", b);
  EXPECT_EQ(dup.job_id, "sub-a");
  EXPECT_EQ(dup.outcome, EnqueueOutcome::kDuplicate);
  EXPECT_EQ(this->MustStats("ehr-a").ready, 1);
  EXPECT_FALSE(this->queue_->GetStatus("ehr-a", "sub-b").ok());

  // Without an idempotency key, the job id is the key.
  this->MustEnqueue("ehr-a", this->MakeJob("sub-c", "R2", 1));
  EXPECT_EQ(this->MustEnqueue("ehr-a", this->MakeJob("sub-c", "R2", 1)).outcome,
            EnqueueOutcome::kDuplicate);
  // The same job id under another key is a conflict.
  Job c2 = this->MakeJob("sub-c", "R2", 1);
  c2.idempotency_key = "other";
  Result<EnqueueResult> r = this->queue_->Enqueue("ehr-a", c2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(this->MustStats("ehr-a").ready, 2);
  // Still a duplicate after the original was delivered.
  std::vector<Job> got = this->MustClaim("ehr-a", 10);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(this->queue_->Ack(got[0]).ok());
  EXPECT_EQ(this->MustEnqueue("ehr-a", b).outcome, EnqueueOutcome::kDuplicate);
}

TYPED_TEST(DeliveryQueueContractTest, IdempotencyKeyExpiresAfterTtl) {
  this->options_.idempotency_ttl = milliseconds(150);
  this->Remake();
  Job a = this->MakeJob("sub-a", "R1", 1);
  a.idempotency_key = "k";
  this->MustEnqueue("ehr-a", a);
  Job b = this->MakeJob("sub-b", "R1", 1);
  b.idempotency_key = "k";
  EXPECT_EQ(this->MustEnqueue("ehr-a", b).outcome, EnqueueOutcome::kDuplicate);
  // MemoryQueue follows the fake clock, Redis its own clock (PX expiry).
  this->clock_.Advance(milliseconds(300));
  std::this_thread::sleep_for(milliseconds(300));
  EnqueueResult again = this->MustEnqueue("ehr-a", b);
  EXPECT_EQ(again.outcome, EnqueueOutcome::kEnqueued);
  EXPECT_EQ(again.job_id, "sub-b");
}

TYPED_TEST(DeliveryQueueContractTest, RetryIsScheduledAndPromoted) {
  this->MustEnqueue("ehr-a", this->MakeJob("j1", "R1", 1));
  std::vector<Job> got = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(got.size(), 1u);
  Timestamp t0 = this->clock_.Now();
  ASSERT_TRUE(
      this->queue_->Retry(got[0], t0 + seconds(30), "HTTP 503 from EHR").ok());

  JobStatus st = this->MustStatus("ehr-a", "j1");
  EXPECT_EQ(st.state, JobState::kRetrying);
  EXPECT_EQ(ToUnixMillis(st.next_attempt), ToUnixMillis(t0 + seconds(30)));
  EXPECT_EQ(st.last_reason, "HTTP 503 from EHR");
  EXPECT_EQ(st.attempts, 1);
  QueueStats s = this->MustStats("ehr-a");
  EXPECT_EQ(s.delayed, 1);
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.ready, 0);
  EXPECT_TRUE(this->MustClaim("ehr-a", 10).empty());

  // Not yet due.
  this->clock_.Advance(seconds(29));
  Result<int64_t> moved = this->queue_->PromoteDue(this->clock_.Now());
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 0);
  EXPECT_TRUE(this->MustClaim("ehr-a", 10).empty());

  this->clock_.Advance(seconds(1));
  moved = this->queue_->PromoteDue(this->clock_.Now());
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 1);
  EXPECT_EQ(this->MustStats("ehr-a").delayed, 0);
  EXPECT_EQ(this->MustStatus("ehr-a", "j1").state, JobState::kQueued);
  // Promoting again moves nothing.
  EXPECT_EQ(*this->queue_->PromoteDue(this->clock_.Now()), 0);

  got = this->MustClaim("ehr-a", 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].attempts, 2);
  EXPECT_EQ(got[0].payload, "{\"resourceType\":\"Bundle\"}");
}

TYPED_TEST(DeliveryQueueContractTest, StaleClaimIsRejected) {
  this->MustEnqueue("ehr-a", this->MakeJob("j1", "R1", 1));
  std::vector<Job> got = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(this->queue_->Retry(got[0], this->clock_.Now(), "x").ok());
  // The same claim cannot be retried or dead-lettered twice.
  Status again = this->queue_->Retry(got[0], this->clock_.Now(), "x");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(this->queue_->DeadLetter(got[0], "x", "").error().code(),
            ErrorCode::kConflict);
  ASSERT_EQ(*this->queue_->PromoteDue(this->clock_.Now()), 1);
  std::vector<Job> second = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(second.size(), 1u);
  // The first claim's receipt is no longer valid for Retry.
  EXPECT_EQ(this->queue_->Retry(got[0], this->clock_.Now(), "x").error().code(),
            ErrorCode::kConflict);
  EXPECT_TRUE(this->queue_->Retry(second[0], this->clock_.Now(), "y").ok());
}

TYPED_TEST(DeliveryQueueContractTest, DeadLetterListShowReplayDiscard) {
  for (int i = 1; i <= 3; ++i) {
    Job j = this->MakeJob("j" + std::to_string(i), "R" + std::to_string(i), 1,
                          "payload-" + std::to_string(i));
    j.metadata["k"] = "v";
    this->MustEnqueue("ehr-a", j);
  }
  std::vector<Job> got = this->MustClaim("ehr-a", 3);
  ASSERT_EQ(got.size(), 3u);
  const std::string oo =
      R"({"resourceType":"OperationOutcome","issue":[{"severity":"error"}]})";
  for (const Job& j : got) {
    this->clock_.Advance(seconds(1));
    ASSERT_TRUE(this->queue_->DeadLetter(j, "HTTP 422 from EHR", oo).ok());
  }
  Timestamp last = this->clock_.Now();
  QueueStats s = this->MustStats("ehr-a");
  EXPECT_EQ(s.dead, 3);
  EXPECT_EQ(s.in_flight, 0);
  JobStatus st = this->MustStatus("ehr-a", "j2");
  EXPECT_EQ(st.state, JobState::kDeadLettered);
  EXPECT_EQ(st.last_reason, "HTTP 422 from EHR");
  EXPECT_EQ(st.dead_letter_id, "ehr-a/j2");

  Result<std::vector<DeadLetter>> all = this->queue_->ListDead("ehr-a", 0, 10);
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "ehr-a/j1");
  EXPECT_EQ((*all)[2].id, "ehr-a/j3");
  EXPECT_EQ((*all)[2].reason, "HTTP 422 from EHR");
  EXPECT_EQ((*all)[2].operation_outcome, oo);
  EXPECT_EQ((*all)[2].attempts, 1);
  EXPECT_EQ(ToUnixMillis((*all)[2].time), ToUnixMillis(last));
  EXPECT_EQ((*all)[2].job.report_key, "R3");
  EXPECT_TRUE((*all)[2].job.payload.empty());  // listing omits payloads
  Result<std::vector<DeadLetter>> page = this->queue_->ListDead("ehr-a", 1, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, "ehr-a/j2");
  EXPECT_TRUE(this->queue_->ListDead("ehr-b", 0, 10)->empty());

  Result<DeadLetter> one = this->queue_->GetDead("ehr-a/j2");
  ASSERT_TRUE(one.ok()) << one.error().ToString();
  EXPECT_EQ(one->job.payload, "payload-2");
  EXPECT_EQ(one->job.metadata.at("k"), "v");
  EXPECT_EQ(one->operation_outcome, oo);

  // Replay: back to the queue with attempts reset.
  ASSERT_TRUE(this->queue_->Replay("ehr-a/j2").ok());
  EXPECT_EQ(this->MustStats("ehr-a").dead, 2);
  EXPECT_EQ(this->MustStats("ehr-a").ready, 1);
  EXPECT_EQ(this->queue_->GetDead("ehr-a/j2").error().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->queue_->Replay("ehr-a/j2").error().code(),
            ErrorCode::kNotFound);
  got = this->MustClaim("ehr-a", 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "j2");
  EXPECT_EQ(got[0].attempts, 1);
  EXPECT_EQ(got[0].payload, "payload-2");
  ASSERT_TRUE(this->queue_->Ack(got[0]).ok());

  // Discard.
  ASSERT_TRUE(this->queue_->Discard("ehr-a/j1").ok());
  EXPECT_EQ(this->MustStats("ehr-a").dead, 1);
  EXPECT_EQ(this->MustStatus("ehr-a", "j1").state, JobState::kDiscarded);
  EXPECT_EQ(this->queue_->GetDead("ehr-a/j1").error().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->queue_->Discard("ehr-a/j1").error().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->queue_->Replay("ehr-a/j1").error().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->queue_->GetDead("garbage").error().code(),
            ErrorCode::kInvalidInput);
}

TYPED_TEST(DeliveryQueueContractTest, EndpointsAreIsolated) {
  this->MustEnqueue("ehr-a", this->MakeJob("s1", "R1", 1, "for a"));
  Job b = this->MakeJob("s1", "R1", 1, "for b");  // same submission, 2nd EHR
  EXPECT_EQ(this->MustEnqueue("ehr-b", b).outcome, EnqueueOutcome::kEnqueued);
  this->MustEnqueue("ehr-b", this->MakeJob("s2", "R2", 1));

  std::vector<Job> got = this->MustClaim("ehr-b", 10);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "for b");
  EXPECT_EQ(got[0].endpoint, "ehr-b");
  EXPECT_EQ(this->MustStats("ehr-a").ready, 1);
  EXPECT_EQ(this->MustStats("ehr-b").in_flight, 2);
  ASSERT_TRUE(this->queue_->Retry(got[0], this->clock_.Now(), "x").ok());
  EXPECT_EQ(this->MustStats("ehr-a").delayed, 0);
  EXPECT_EQ(this->MustStats("ehr-b").delayed, 1);

  Result<std::vector<JobStatus>> sts = this->queue_->GetStatuses("s1");
  ASSERT_TRUE(sts.ok());
  ASSERT_EQ(sts->size(), 2u);
  EXPECT_EQ((*sts)[0].endpoint, "ehr-a");
  EXPECT_EQ((*sts)[0].state, JobState::kQueued);
  EXPECT_EQ((*sts)[1].endpoint, "ehr-b");
  EXPECT_EQ((*sts)[1].state, JobState::kRetrying);
  EXPECT_TRUE(this->queue_->GetStatuses("unknown")->empty());

  Result<std::vector<QueueStats>> all = this->queue_->AllStats();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].endpoint, "ehr-a");
  EXPECT_EQ((*all)[0].ready, 1);
  EXPECT_EQ((*all)[1].endpoint, "ehr-b");
  EXPECT_EQ((*all)[1].in_flight, 1);
  EXPECT_EQ((*all)[1].delayed, 1);

  // Reports with the same key on different endpoints do not interact.
  got = this->MustClaim("ehr-a", 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "for a");
}

// The ordering rule: an older version waiting for a retry never overtakes a
// newer version enqueued meanwhile.
TYPED_TEST(DeliveryQueueContractTest,
           NewerVersionIsNeverOverwrittenByOlderRetriedOne) {
  this->MustEnqueue("ehr-a", this->MakeJob("v1", "LAB|ACC-1", 1, "version 1"));
  std::vector<Job> got = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(
      this->queue_->Retry(got[0], this->clock_.Now() + seconds(10), "HTTP 503")
          .ok());
  // The lab amends the report while v1 waits.
  this->MustEnqueue("ehr-a", this->MakeJob("v2", "LAB|ACC-1", 2, "version 2"));
  this->clock_.Advance(seconds(10));
  ASSERT_TRUE(this->queue_->PromoteDue(this->clock_.Now()).ok());

  std::vector<std::string> delivered;
  for (int round = 0; round < 5; ++round) {
    for (const Job& j : this->MustClaim("ehr-a", 10)) {
      delivered.push_back(j.payload);
      ASSERT_TRUE(this->queue_->Ack(j).ok());
    }
    this->clock_.Advance(seconds(30));
    ASSERT_TRUE(this->queue_->PromoteDue(this->clock_.Now()).ok());
  }
  EXPECT_THAT(delivered, ElementsAre("version 2"));
  JobStatus v1 = this->MustStatus("ehr-a", "v1");
  EXPECT_EQ(v1.state, JobState::kSuperseded);
  EXPECT_THAT(v1.last_reason, HasSubstr("version 2"));
  EXPECT_EQ(this->MustStatus("ehr-a", "v2").state, JobState::kDelivered);
  QueueStats s = this->MustStats("ehr-a");
  EXPECT_EQ(s.ready + s.in_flight + s.delayed + s.dead, 0);
}

TYPED_TEST(DeliveryQueueContractTest, NewerVersionWaitsWhileOlderInFlight) {
  this->options_.blocked_delay = seconds(2);
  this->Remake();
  this->MustEnqueue("ehr-a", this->MakeJob("v1", "R", 1, "version 1"));
  this->MustEnqueue("ehr-a", this->MakeJob("other", "R-other", 1));
  std::vector<Job> first = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].id, "v1");
  this->MustEnqueue("ehr-a", this->MakeJob("v2", "R", 2, "version 2"));

  // v2 must not be handed out while v1 is being delivered; other reports are.
  std::vector<Job> second = this->MustClaim("ehr-a", 10, "w2");
  EXPECT_THAT(this->Ids(second), ElementsAre("other"));
  JobStatus v2 = this->MustStatus("ehr-a", "v2");
  EXPECT_EQ(v2.state, JobState::kQueued);
  EXPECT_THAT(v2.last_reason, HasSubstr("v1"));
  EXPECT_EQ(this->MustStats("ehr-a").delayed, 1);

  this->clock_.Advance(seconds(2));
  ASSERT_EQ(*this->queue_->PromoteDue(this->clock_.Now()), 1);
  // Still in flight: parked again.
  EXPECT_TRUE(this->MustClaim("ehr-a", 10, "w2").empty());

  ASSERT_TRUE(this->queue_->Ack(first[0]).ok());  // v1 delivered
  this->clock_.Advance(seconds(2));
  ASSERT_EQ(*this->queue_->PromoteDue(this->clock_.Now()), 1);
  std::vector<Job> third = this->MustClaim("ehr-a", 10, "w2");
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].payload, "version 2");
  EXPECT_EQ(third[0].attempts, 1);  // parking is not an attempt
}

// A replica dies while delivering v1; v2 of the report arrives. When v1 is
// reclaimed it is stale (superseded), and its report lease goes with it: v2
// is delivered then, not only when the dead claim's lease runs out.
TYPED_TEST(DeliveryQueueContractTest,
           NewerVersionGoesWhenTheDeadConsumersOlderOneIsReclaimed) {
  this->options_.reclaim_idle = milliseconds(200);
  this->options_.blocked_delay = seconds(2);
  this->Remake();
  this->MustEnqueue("ehr-a", this->MakeJob("v1", "R", 1, "version 1"));
  ASSERT_EQ(this->MustClaim("ehr-a", 1, "dead").size(), 1u);
  this->MustEnqueue("ehr-a", this->MakeJob("v2", "R", 2, "version 2"));
  EXPECT_TRUE(this->MustClaim("ehr-a", 10, "w2").empty());  // v2 parked

  // Idle reclaim: the fake clock for MemoryQueue, Redis's own for
  // RedisQueue; both well inside the report lease (5 minutes).
  std::this_thread::sleep_for(milliseconds(400));
  this->clock_.Advance(seconds(2));
  ASSERT_EQ(*this->queue_->PromoteDue(this->clock_.Now()), 1);
  std::vector<Job> got = this->MustClaim("ehr-a", 10, "w2");
  EXPECT_THAT(this->Ids(got), ElementsAre("v2"));
  EXPECT_EQ(this->MustStatus("ehr-a", "v1").state, JobState::kSuperseded);
  EXPECT_EQ(this->MustStatus("ehr-a", "v2").state, JobState::kDelivering);
}

TYPED_TEST(DeliveryQueueContractTest, OlderVersionEnqueuedLateIsSuperseded) {
  this->MustEnqueue("ehr-a", this->MakeJob("v1", "R", 1, "version 1"));
  this->MustEnqueue("ehr-a", this->MakeJob("v3", "R", 3, "version 3"));
  EnqueueResult late = this->MustEnqueue("ehr-a", this->MakeJob("v2", "R", 2));
  EXPECT_EQ(late.outcome, EnqueueOutcome::kSuperseded);
  EXPECT_EQ(late.job_id, "v2");
  // v1 was still queued when v3 arrived: only v3 is delivered.
  std::vector<Job> got = this->MustClaim("ehr-a", 10);
  EXPECT_THAT(this->Ids(got), ElementsAre("v3"));
  EXPECT_EQ(this->MustStatus("ehr-a", "v1").state, JobState::kSuperseded);
  EXPECT_EQ(this->MustStatus("ehr-a", "v2").state, JobState::kSuperseded);
}

TYPED_TEST(DeliveryQueueContractTest, RetryOfSupersededVersionEndsIt) {
  // Idle reclaim must not kick in here (Redis measures it on its own clock).
  this->options_.reclaim_idle = std::chrono::hours(1);
  this->Remake();
  this->MustEnqueue("ehr-a", this->MakeJob("v1", "R", 1));
  std::vector<Job> v1 = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(v1.size(), 1u);
  this->MustEnqueue("ehr-a", this->MakeJob("v2", "R", 2));
  // v1's lease runs out (its worker hangs): v2 may go.
  this->clock_.Advance(this->options_.report_lease + seconds(1));
  std::vector<Job> v2 = this->MustClaim("ehr-a", 10, "w2");
  EXPECT_THAT(this->Ids(v2), ElementsAre("v2"));
  // The hung worker comes back and asks for a retry: v1 is superseded, not
  // rescheduled.
  ASSERT_TRUE(this->queue_->Retry(v1[0], this->clock_.Now(), "timeout").ok());
  EXPECT_EQ(this->MustStatus("ehr-a", "v1").state, JobState::kSuperseded);
  EXPECT_EQ(this->MustStats("ehr-a").delayed, 0);
}

TYPED_TEST(DeliveryQueueContractTest, EqualVersionsAreDeliveredInTurn) {
  this->MustEnqueue("ehr-a", this->MakeJob("a", "R", 5));
  this->MustEnqueue("ehr-a", this->MakeJob("b", "R", 5));
  std::vector<Job> got = this->MustClaim("ehr-a", 10);
  EXPECT_THAT(this->Ids(got), ElementsAre("a"));  // b parked behind a
  ASSERT_TRUE(this->queue_->Ack(got[0]).ok());
  this->clock_.Advance(this->options_.blocked_delay);
  ASSERT_TRUE(this->queue_->PromoteDue(this->clock_.Now()).ok());
  EXPECT_THAT(this->Ids(this->MustClaim("ehr-a", 10)), ElementsAre("b"));
}

TYPED_TEST(DeliveryQueueContractTest, ReplayOfOutdatedDeadLetterIsSuperseded) {
  this->MustEnqueue("ehr-a", this->MakeJob("v1", "R", 1));
  std::vector<Job> got = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(this->queue_->DeadLetter(got[0], "HTTP 400", "").ok());
  this->MustEnqueue("ehr-a", this->MakeJob("v2", "R", 2));
  got = this->MustClaim("ehr-a", 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(this->queue_->Ack(got[0]).ok());
  ASSERT_TRUE(this->queue_->Replay("ehr-a/v1").ok());
  EXPECT_TRUE(this->MustClaim("ehr-a", 10).empty());
  EXPECT_EQ(this->MustStatus("ehr-a", "v1").state, JobState::kSuperseded);
}

TYPED_TEST(DeliveryQueueContractTest, RejectsInvalidArguments) {
  Result<EnqueueResult> r =
      this->queue_->Enqueue("bad name!", this->MakeJob("j", "R", 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(
      this->queue_->Enqueue("ehr-a", this->MakeJob("", "R", 1)).error().code(),
      ErrorCode::kInvalidInput);
  EXPECT_EQ(
      this->queue_->Enqueue("ehr-a", this->MakeJob("j", "", 1)).error().code(),
      ErrorCode::kInvalidInput);
  EXPECT_EQ(this->queue_->Enqueue("ehr-a", this->MakeJob("j", "R", -1))
                .error()
                .code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(this->queue_->Claim("ehr-a", "", 1).error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(this->queue_->Stats("a:b").error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(this->queue_->GetStatus("ehr-a", "nope").error().code(),
            ErrorCode::kNotFound);
}

TYPED_TEST(DeliveryQueueContractTest, LargeVersionsCompareExactly) {
  // Nanosecond timestamps exceed 2^53: must still compare exactly.
  const int64_t base = 1767225600123456789;
  this->MustEnqueue("ehr-a", this->MakeJob("new", "R", base + 1));
  EXPECT_EQ(this->MustEnqueue("ehr-a", this->MakeJob("old", "R", base)).outcome,
            EnqueueOutcome::kSuperseded);
  std::vector<Job> got = this->MustClaim("ehr-a", 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].report_version, base + 1);
}

}  // namespace
}  // namespace genogate::gateway

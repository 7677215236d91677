// The delivery policy with a MemoryQueue, a fake HttpClient and a FakeClock:
// no sockets, no sleeping.
#include "gateway/delivery/worker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "base/file.h"
#include "gateway/http/fake_http_client.h"
#include "gateway/queue/memory_queue.h"

namespace genogate::gateway {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpClient;
using testing::kOutcome400;
using testing::TransactionResponse;

constexpr char kCapability[] =
    "{\"resourceType\":\"CapabilityStatement\",\"fhirVersion\":\"4.0.1\"}";

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Build(NewBearerAuth([this] { return Token(); }));
  }

  Result<std::string> Token() {
    return std::string("token-") + std::to_string(token_);
  }

  void Build(std::unique_ptr<AuthProvider> auth) {
    auto http = std::make_unique<FakeHttpClient>();
    http_ = http.get();
    FhirClientOptions fo;
    fo.base_url = "http://127.0.0.1:9/fhir";
    fo.auth = auth.get();
    fo.clock = &clock_;
    Result<FhirClient> client = FhirClient::Create(http.get(), fo);
    ASSERT_TRUE(client.ok());
    target_ = std::make_unique<FhirTarget>(std::move(client).value(),
                                           std::move(http), std::move(auth));
    CircuitBreakerOptions bo;
    bo.failure_threshold = 3;
    bo.cool_down = 30s;
    breaker_ = std::make_unique<CircuitBreaker>(bo, &clock_);
    options_.endpoint = "ehr";
    options_.max_attempts = 4;
    options_.backoff_base = 1s;
    options_.backoff_cap = 8s;
    options_.max_bundle_bytes = 1000;
    worker_ = std::make_unique<DeliveryWorker>(
        options_, &queue_, target_.get(), breaker_.get(), &clock_, &jitter_);
  }

  void Enqueue(const std::string& id,
               std::string payload = "{\"resourceType\":\"Bundle\"}") {
    Job job;
    job.id = id;
    job.report_key = "lab|" + id;
    job.report_version = 1;
    job.payload = std::move(payload);
    ASSERT_TRUE(queue_.Enqueue("ehr", job).ok());
  }

  JobStatus StatusOf(const std::string& id) {
    Result<JobStatus> s = queue_.GetStatus("ehr", id);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : JobStatus{};
  }

  int RunOnce() {
    Result<int> n = worker_->RunOnce();
    EXPECT_TRUE(n.ok()) << n.error().ToString();
    return n.ok() ? *n : -1;
  }

  int Posts() {
    int n = 0;
    for (auto& r : http_->requests()) n += r.method == "POST";
    return n;
  }

  int token_ = 1;
  FakeClock clock_;
  MemoryQueue queue_{QueueOptions{}, &clock_};
  FixedJitter jitter_{0.5};
  FakeHttpClient* http_ = nullptr;
  std::unique_ptr<FhirTarget> target_;
  std::unique_ptr<CircuitBreaker> breaker_;
  WorkerOptions options_;
  std::unique_ptr<DeliveryWorker> worker_;
};

TEST_F(WorkerTest, DeliversAndRecordsEhrIds) {
  Enqueue("job-1");
  http_->PushStatus(
      200, TransactionResponse(
               {"Patient/1/_history/1", "DiagnosticReport/2/_history/1"}));
  EXPECT_EQ(RunOnce(), 1);
  JobStatus s = StatusOf("job-1");
  EXPECT_EQ(s.state, JobState::kDelivered);
  EXPECT_EQ(s.resource_ids,
            (std::vector<std::string>{"Patient/1", "DiagnosticReport/2"}));
  EXPECT_EQ(worker_->stats().delivered, 1);
  EXPECT_EQ(RunOnce(), 0);  // nothing left
}

TEST_F(WorkerTest, RejectionIsDeadLetteredWithOperationOutcome) {
  Enqueue("job-1");
  http_->PushStatus(400, kOutcome400);
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(StatusOf("job-1").state, JobState::kDeadLettered);
  Result<DeadLetter> dl = queue_.GetDead(MakeDeadLetterId("ehr", "job-1"));
  ASSERT_TRUE(dl.ok());
  EXPECT_EQ(dl->operation_outcome, kOutcome400);
  EXPECT_NE(dl->reason.find("rejected"), std::string::npos);
  EXPECT_NE(dl->reason.find("HTTP 400"), std::string::npos);
  // The clear-text reason has no diagnostics text from the EHR.
  EXPECT_EQ(dl->reason.find("finished"), std::string::npos);
  EXPECT_EQ(breaker_->state(), CircuitBreaker::State::kClosed);
}

TEST_F(WorkerTest, RetriesWithCappedJitteredBackoffThenDeadLetters) {
  Enqueue("job-1");
  // Attempt 1 fails: 0.5 * 1 s.
  EXPECT_EQ(RunOnce(), 1);
  JobStatus s = StatusOf("job-1");
  EXPECT_EQ(s.state, JobState::kRetrying);
  EXPECT_EQ(s.next_attempt, clock_.Now() + 500ms);
  EXPECT_EQ(RunOnce(), 0);  // not due yet
  EXPECT_EQ(Posts(), 1);
  clock_.Advance(500ms);
  http_->PushStatus(503, "", {{"Retry-After", "5"}});
  EXPECT_EQ(RunOnce(), 1);  // attempt 2: Retry-After 5 s beats 0.5 * 2 s
  EXPECT_EQ(StatusOf("job-1").next_attempt, clock_.Now() + 5s);
  clock_.Advance(5s);
  EXPECT_EQ(RunOnce(), 1);  // attempt 3: 0.5 * 4 s
  EXPECT_EQ(StatusOf("job-1").next_attempt, clock_.Now() + 2s);
  EXPECT_EQ(breaker_->state(), CircuitBreaker::State::kOpen);  // 3 failures
  EXPECT_EQ(worker_->Backoff(10), 4s);                         // cap 8 s
  // The breaker is open for 30 s: nothing is sent.
  clock_.Advance(2s);
  EXPECT_EQ(RunOnce(), 0);
  EXPECT_EQ(Posts(), 3);
  clock_.Advance(28s);
  http_->PushStatus(200, kCapability);  // the probe succeeds
  EXPECT_EQ(RunOnce(), 1);              // attempt 4 = max_attempts fails
  EXPECT_EQ(StatusOf("job-1").state, JobState::kDeadLettered);
  Result<DeadLetter> dl = queue_.GetDead(MakeDeadLetterId("ehr", "job-1"));
  ASSERT_TRUE(dl.ok());
  EXPECT_NE(dl->reason.find("gave up after 4 attempts"), std::string::npos);
  EXPECT_EQ(dl->attempts, 4);
}

TEST_F(WorkerTest, CircuitOpensProbesAndCloses) {
  for (int i = 0; i < 5; ++i) Enqueue("job-" + std::to_string(i));
  // Three failures open the breaker (batch is 1 after the first failure).
  EXPECT_EQ(RunOnce(), 5);
  EXPECT_EQ(breaker_->state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(Posts(), 3);  // the other two were rescheduled unsent
  EXPECT_EQ(breaker_->times_opened(), 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(StatusOf("job-" + std::to_string(i)).state, JobState::kRetrying);
  }
  EXPECT_EQ(StatusOf("job-4").last_reason, "circuit open");
  // Open: no traffic at all, even when retries fall due.
  clock_.Advance(10s);
  EXPECT_EQ(RunOnce(), 0);
  EXPECT_EQ(http_->requests().size(), 3u);
  // Cool-down over: the probe (GET metadata) fails -> open again.
  clock_.Advance(20s);
  EXPECT_EQ(RunOnce(), 0);
  ASSERT_EQ(http_->requests().size(), 4u);
  EXPECT_EQ(http_->requests()[3].method, "GET");
  EXPECT_EQ(breaker_->state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(breaker_->times_opened(), 2);
  // Next probe succeeds: closed, and the queue drains.
  clock_.Advance(30s);
  http_->PushStatus(200, kCapability);
  for (int i = 0; i < 5; ++i)
    http_->PushStatus(200, TransactionResponse({"Patient/1"}));
  EXPECT_EQ(RunOnce(), 5);
  EXPECT_EQ(breaker_->state(), CircuitBreaker::State::kClosed);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(StatusOf("job-" + std::to_string(i)).state, JobState::kDelivered);
  }
  EXPECT_EQ(worker_->stats().probes, 2);
}

TEST_F(WorkerTest, AuthFailureRefreshesOnceThenDeadLetters) {
  Enqueue("job-1");
  Enqueue("job-2");
  http_->PushStatus(401, "");
  http_->PushStatus(200, TransactionResponse({"Patient/1"}));
  token_ = 2;  // the refresh finds a new token
  http_->PushStatus(401, "");
  EXPECT_EQ(RunOnce(), 2);
  EXPECT_EQ(StatusOf("job-1").state, JobState::kDelivered);
  EXPECT_EQ(StatusOf("job-2").state, JobState::kDeadLettered);
  auto reqs = http_->requests();
  ASSERT_EQ(reqs.size(), 3u);  // job-2: no second attempt (token unchanged)
  EXPECT_EQ(reqs[1].headers.back().second, "Bearer token-2");
  Result<DeadLetter> dl = queue_.GetDead(MakeDeadLetterId("ehr", "job-2"));
  ASSERT_TRUE(dl.ok());
  EXPECT_EQ(dl->reason.rfind("auth: unauthenticated", 0), 0u) << dl->reason;
}

TEST_F(WorkerTest, OversizedBundleIsDeadLetteredUnsent) {
  Enqueue("job-1", std::string(2000, ' '));
  EXPECT_EQ(RunOnce(), 1);
  EXPECT_EQ(StatusOf("job-1").state, JobState::kDeadLettered);
  EXPECT_TRUE(http_->requests().empty());
}

TEST(WorkerRunTest, RunDrainsUntilStopped) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("genogate-run-" + std::to_string(::getpid())))
                        .string();
  std::filesystem::create_directories(dir);
  MemoryQueue queue;
  FileOutbox outbox(dir);
  CircuitBreaker breaker({}, SystemClock::Get());
  RandomJitter jitter;
  WorkerOptions o;
  o.endpoint = "out";
  o.idle_wait = 5ms;
  DeliveryWorker worker(o, &queue, &outbox, &breaker, SystemClock::Get(),
                        &jitter);
  std::thread t([&] { worker.Run(); });
  for (int i = 0; i < 20; ++i) {
    Job job;
    job.id = "j" + std::to_string(i);
    job.report_key = job.id;
    job.payload = "{}";
    ASSERT_TRUE(queue.Enqueue("out", job).ok());
  }
  for (int i = 0; i < 1000 && worker.stats().delivered < 20; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  worker.Stop();
  t.join();
  EXPECT_EQ(worker.stats().delivered, 20);
  EXPECT_TRUE(IsRegularFile(dir + "/j19.json"));
  std::filesystem::remove_all(dir);
}

TEST(WorkerOptionsTest, FromEndpoint) {
  Result<Endpoint> e = ParseEndpointFlag("ehr=http://127.0.0.1:1/fhir");
  ASSERT_TRUE(e.ok());
  e->max_attempts = 3;
  e->max_bundle_bytes = 99;
  WorkerOptions o = WorkerOptionsFor(*e, "host-1/0");
  EXPECT_EQ(o.endpoint, "ehr");
  EXPECT_EQ(o.consumer, "host-1/0");
  EXPECT_EQ(o.max_attempts, 3);
  EXPECT_EQ(o.max_bundle_bytes, 99u);
}

TEST(CircuitBreakerTest, OneProberAtATime) {
  FakeClock clock;
  CircuitBreaker b({/*failure_threshold=*/2, /*cool_down=*/10s}, &clock);
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kClosed);
  b.RecordFailure();
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kClosed);
  b.RecordSuccess();  // resets the count
  b.RecordFailure();
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kClosed);
  b.RecordFailure();
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kOpen);
  clock.Advance(10s);
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kHalfOpen);  // the prober
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kOpen);      // everyone else
  clock.Advance(10s);  // the prober never reported: another may probe
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kHalfOpen);
  b.RecordFailure();  // a failed probe reopens at once
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(b.times_opened(), 2);
  clock.Advance(10s);
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kHalfOpen);
  b.RecordSuccess();
  EXPECT_EQ(b.Check(), CircuitBreaker::State::kClosed);
}

TEST(FileOutboxTest, WorkerWritesEachBundleAtomically) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("genogate-outbox-" + std::to_string(::getpid())))
                        .string();
  std::filesystem::create_directories(dir);
  FakeClock clock;
  MemoryQueue queue(QueueOptions{}, &clock);
  FileOutbox outbox(dir);
  CircuitBreaker breaker({}, &clock);
  FixedJitter jitter(0);
  WorkerOptions o;
  o.endpoint = "registry";
  DeliveryWorker worker(o, &queue, &outbox, &breaker, &clock, &jitter);
  for (std::string id : {"a1", "lab/acc7", ".hidden"}) {
    Job job;
    job.id = id;
    job.report_key = job.id;
    job.payload = "{\"id\":\"" + job.id + "\"}";
    ASSERT_TRUE(queue.Enqueue("registry", job).ok());
  }
  Result<int> n = worker.RunOnce();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(*ReadFile(dir + "/a1.json"), "{\"id\":\"a1\"}");
  EXPECT_EQ(*ReadFile(dir + "/lab%2Facc7.json"), "{\"id\":\"lab/acc7\"}");
  EXPECT_TRUE(IsRegularFile(dir + "/%2Ehidden.json"));
  Result<JobStatus> s = queue.GetStatus("registry", "a1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->resource_ids, std::vector<std::string>{"file:a1.json"});
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace genogate::gateway

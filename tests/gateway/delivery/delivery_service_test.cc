// DeliveryService: worker threads per endpoint over MemoryQueue and a real
// Redis, a scripted HttpClient standing in for the EHR, a real file://
// outbox.
#include "gateway/delivery/delivery_service.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <set>
#include <thread>

#include "gateway/http/fake_http_client.h"
#include "gateway/queue/memory_queue.h"
#include "gateway/queue/queue_test_util.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using namespace std::chrono_literals;

// An EHR by bundle content: "bad" -> 400 with an OperationOutcome,
// "flaky" -> 503 the first time, anything else -> 200. Counts concurrent
// sends. With `hold`, the first send blocks until Release().
class ScriptedEhr final : public HttpClient {
 public:
  explicit ScriptedEhr(bool hold = false) : hold_(hold) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    int now = ++active_;
    int seen = max_active_.load();
    while (now > seen && !max_active_.compare_exchange_weak(seen, now)) {
    }
    HttpResponse r;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++sends_;
      if (hold_ && sends_ == 1) {
        in_flight_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return released_; });
      }
      if (request.body.find("bad") != std::string::npos) {
        r.status = 400;
        r.body = testing::kOutcome400;
      } else if (request.body.find("flaky") != std::string::npos &&
                 flaky_seen_.insert(request.body).second) {
        r.status = 503;
      } else {
        r.status = 200;
        r.body = testing::TransactionResponse({"DiagnosticReport/1"});
      }
    }
    --active_;
    return r;
  }
  void WaitInFlight() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return in_flight_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int max_active() const { return max_active_; }
  int sends() {
    std::lock_guard<std::mutex> lock(mu_);
    return sends_;
  }

 private:
  const bool hold_;
  std::atomic<int> active_{0};
  std::atomic<int> max_active_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int sends_ = 0;
  bool in_flight_ = false;
  bool released_ = false;
  std::set<std::string> flaky_seen_;
};

// A target factory: FHIR endpoints get a FhirTarget over `ehr` (not owned).
DeliveryServiceOptions Options(HttpClient* ehr) {
  DeliveryServiceOptions o;
  o.consumer_prefix = "test";
  o.idle_wait = 5ms;
  o.make_target =
      [ehr](const Endpoint& e) -> Result<std::unique_ptr<DeliveryTarget>> {
    if (e.kind == Endpoint::Kind::kFile) {
      return std::unique_ptr<DeliveryTarget>(
          std::make_unique<FileOutbox>(e.directory));
    }
    FhirClientOptions fo;
    fo.base_url = e.url;
    Result<FhirClient> c = FhirClient::Create(ehr, fo);
    if (!c.ok()) return c.error();
    return std::unique_ptr<DeliveryTarget>(
        std::make_unique<FhirTarget>(std::move(c).value(), nullptr, nullptr));
  };
  return o;
}

Endpoint Ehr(int concurrency) {
  Endpoint e = *ParseEndpointFlag("ehr=http://127.0.0.1:9/fhir");
  e.concurrency = concurrency;
  e.backoff_base = 1ms;
  e.backoff_cap = 5ms;
  return e;
}

Job MakeJob(const std::string& id, const std::string& content) {
  Job job;
  job.id = id;
  job.report_key = "lab|" + id;
  job.payload = R"({"resourceType":"Bundle","note":")" + content + "\"}";
  return job;
}

// Waits (up to a generous bound, not a timing assertion) until `done`.
bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 6000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

class DeliveryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    outbox_ = std::filesystem::temp_directory_path() /
              ("genogate-service-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(outbox_);
  }
  void TearDown() override { std::filesystem::remove_all(outbox_); }

  Endpoint Outbox() {
    Endpoint e = *ParseEndpointFlag("outbox=file://" + outbox_.string());
    e.concurrency = 2;
    return e;
  }
  size_t OutboxFiles() {
    size_t n = 0;
    for (const auto& f : std::filesystem::directory_iterator(outbox_)) {
      if (f.path().extension() == ".json") ++n;
    }
    return n;
  }

  // Runs the service over `queue` until every job is finished and checks
  // the stats and the queue.
  void DeliverAll(DeliveryQueue* queue) {
    ScriptedEhr ehr;
    for (int i = 0; i < 20; ++i) {
      std::string content = i == 7 ? "bad" : i % 5 == 0 ? "flaky" : "ok";
      ASSERT_TRUE(queue
                      ->Enqueue("ehr", MakeJob("e" + std::to_string(i),
                                               content + std::to_string(i)))
                      .ok());
    }
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(
          queue->Enqueue("outbox", MakeJob("o" + std::to_string(i), "ok"))
              .ok());
    }
    Result<std::unique_ptr<DeliveryService>> s =
        DeliveryService::Create({Ehr(3), Outbox()}, queue, Options(&ehr));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    DeliveryService& service = **s;
    EXPECT_FALSE(service.running());
    service.Start();
    EXPECT_TRUE(service.running());
    ASSERT_TRUE(WaitFor([&] {
      auto st = service.Stats();
      return st[0].delivered + st[0].dead_lettered == 20 &&
             st[1].delivered == 5;
    }));
    service.Stop();
    EXPECT_FALSE(service.running());
    std::vector<EndpointDeliveryStats> st = service.Stats();
    ASSERT_EQ(st.size(), 2u);
    EXPECT_EQ(st[0].endpoint, "ehr");
    EXPECT_EQ(st[0].delivered, 19);
    EXPECT_EQ(st[0].dead_lettered, 1);
    EXPECT_EQ(st[0].retried, 4);  // each "flaky" once
    EXPECT_EQ(st[0].circuit, CircuitBreaker::State::kClosed);
    EXPECT_EQ(st[0].workers, 0);  // stopped
    EXPECT_EQ(st[1].endpoint, "outbox");
    EXPECT_EQ(st[1].delivered, 5);
    EXPECT_EQ(OutboxFiles(), 5u);
    EXPECT_LE(ehr.max_active(), 3);
    EXPECT_EQ(ehr.sends(), 24);
    Result<QueueStats> q = queue->Stats("ehr");
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->ready + q->in_flight + q->delayed, 0);
    EXPECT_EQ(q->dead, 1);
    EXPECT_EQ(queue->GetStatus("ehr", "e7")->state, JobState::kDeadLettered);
    EXPECT_EQ(queue->GetStatus("ehr", "e5")->state, JobState::kDelivered);
    EXPECT_EQ(queue->GetStatus("ehr", "e5")->attempts, 2);
  }

  std::filesystem::path outbox_;
};

TEST_F(DeliveryServiceTest, DeliversEveryEndpointWithMemoryQueue) {
  MemoryQueue queue;
  DeliverAll(&queue);
}

TEST_F(DeliveryServiceTest, DeliversEveryEndpointWithRedisQueue) {
  auto redis = genogate::testing::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  auto queue = testing::MakeRedisQueue(*redis, {}, nullptr);
  ASSERT_NE(queue, nullptr);
  DeliverAll(queue.get());
}

TEST_F(DeliveryServiceTest, StopFinishesTheDeliveryInFlightAndLeavesTheRest) {
  auto redis = genogate::testing::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  auto queue = testing::MakeRedisQueue(*redis, {}, nullptr);
  ASSERT_NE(queue, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        queue->Enqueue("ehr", MakeJob("j" + std::to_string(i), "ok")).ok());
  }
  ScriptedEhr ehr(/*hold=*/true);
  Result<std::unique_ptr<DeliveryService>> s =
      DeliveryService::Create({Ehr(1)}, queue.get(), Options(&ehr));
  ASSERT_TRUE(s.ok());
  (*s)->Start();
  ehr.WaitInFlight();
  std::thread stopper([&] { (*s)->Stop(); });
  // Stop waits for the delivery in flight; it ends once the EHR answers.
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE((*s)->running());
  ehr.Release();
  stopper.join();
  EXPECT_FALSE((*s)->running());
  EXPECT_EQ((*s)->Stats()[0].delivered, 1);
  EXPECT_EQ(ehr.sends(), 1);
  Result<QueueStats> q = queue->Stats("ehr");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->ready, 4);  // left in Redis, unclaimed
  EXPECT_EQ(q->in_flight, 0);
  EXPECT_EQ(queue->GetStatus("ehr", "j0")->state, JobState::kDelivered);

  // Started again, it delivers the rest; counters add up.
  (*s)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*s)->Stats()[0].delivered == 5; }));
  (*s)->Stop();
  EXPECT_EQ(queue->Stats("ehr")->ready, 0);
}

TEST_F(DeliveryServiceTest, CreateErrorsNameTheEndpoint) {
  MemoryQueue queue;
  Endpoint missing =
      *ParseEndpointFlag("lost=file://" + outbox_.string() + "/does-not-exist");
  Result<std::unique_ptr<DeliveryService>> s =
      DeliveryService::Create({missing}, &queue, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(s.error().message().find("'lost'"), std::string::npos);
  EXPECT_EQ(DeliveryService::Create({}, &queue, {}).error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(
      DeliveryService::Create({Outbox(), Outbox()}, &queue, {}).error().code(),
      ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace genogate::gateway

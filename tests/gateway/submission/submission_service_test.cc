// SubmissionService against a real Redis (RedisQueue + RedisSubmissionStore)
// and the real FHIR definitions: every input format ends up as queued jobs
// whose payload validates; idempotency; rejections queue nothing; status
// follows a DeliveryWorker to a file:// outbox; Redis down is kUnavailable.
#include "gateway/submission/submission_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "fhir/codec.h"
#include "gateway/delivery/target.h"
#include "gateway/delivery/worker.h"
#include "gateway/queue/memory_queue.h"
#include "gateway/queue/queue_test_util.h"
#include "gateway/submission/submission_test_util.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;
using testing::MakeRedisQueue;
using testing::MalformedVcf;
using testing::PayloadErrors;
using testing::SampleHl7;
using testing::SampleLabJson;
using testing::SampleVcf;
using testing::SharedValidationEnv;
using testing::UniquePrefix;

std::string TempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "gg-subXXXXXX");
  EXPECT_NE(mkdtemp(t.data()), nullptr);
  return t;
}

SubmissionRequest VcfRequest(std::string body = SampleVcf()) {
  SubmissionRequest r;
  r.format = SubmissionFormat::kVcf;
  r.body = std::move(body);
  r.params.patient = "urn:oid:1.2.3|P-100";
  r.params.accession = "urn:oid:1.2.4|ACC-100";
  r.params.lab = "Test Lab";
  return r;
}

SubmissionRequest Request(SubmissionFormat format, std::string body) {
  SubmissionRequest r;
  r.format = format;
  r.body = std::move(body);
  return r;
}

// A queue that fails the first `failures` Enqueue calls (kUnavailable).
class FlakyQueue final : public DeliveryQueue {
 public:
  explicit FlakyQueue(DeliveryQueue* inner) : inner_(inner) {}
  int failures = 0;
  Result<EnqueueResult> Enqueue(std::string_view e, Job job) override {
    if (failures > 0) {
      --failures;
      return Error(ErrorCode::kUnavailable, "down");
    }
    return inner_->Enqueue(e, std::move(job));
  }
  Result<std::vector<Job>> Claim(std::string_view e, std::string_view c,
                                 int max) override {
    return inner_->Claim(e, c, max);
  }
  Status Ack(const Job& j) override { return inner_->Ack(j); }
  Status MarkDelivered(const Job& j, std::vector<std::string> ids) override {
    return inner_->MarkDelivered(j, std::move(ids));
  }
  Status Retry(const Job& j, Timestamp due, std::string_view r) override {
    return inner_->Retry(j, due, r);
  }
  Result<int64_t> PromoteDue(Timestamp now) override {
    return inner_->PromoteDue(now);
  }
  Status DeadLetter(const Job& j, std::string_view r,
                    std::string_view oo) override {
    return inner_->DeadLetter(j, r, oo);
  }
  Result<std::vector<gateway::DeadLetter>> ListDead(std::string_view e,
                                                    int64_t o,
                                                    int64_t l) override {
    return inner_->ListDead(e, o, l);
  }
  Result<gateway::DeadLetter> GetDead(std::string_view id) override {
    return inner_->GetDead(id);
  }
  Status Replay(std::string_view id) override { return inner_->Replay(id); }
  Status Discard(std::string_view id) override { return inner_->Discard(id); }
  Result<QueueStats> Stats(std::string_view e) override {
    return inner_->Stats(e);
  }
  Result<std::vector<QueueStats>> AllStats() override {
    return inner_->AllStats();
  }
  Result<JobStatus> GetStatus(std::string_view e,
                              std::string_view id) override {
    return inner_->GetStatus(e, id);
  }
  Result<std::vector<JobStatus>> GetStatuses(std::string_view id) override {
    return inner_->GetStatuses(id);
  }

 private:
  DeliveryQueue* inner_;
};

class SubmissionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Some tests SIGKILL Redis right after an accepted submission: only
    // `appendfsync always` (genogate's production default) promises that
    // an acknowledged write survives that.
    RedisServer::Options redis_options;
    redis_options.appendfsync = "always";
    redis_ = RedisServer::Start(redis_options);
    ASSERT_NE(redis_, nullptr);
    queue_ = MakeRedisQueue(*redis_, QueueOptions{}, &clock_);
    ASSERT_NE(queue_, nullptr);
    Result<RedisOptions> ro = RedisOptions::FromUrl(redis_->url());
    ASSERT_TRUE(ro.ok());
    auto store = RedisSubmissionStore::Open(*ro, UniquePrefix());
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    options_.endpoints = {"ehr-a", "outbox"};
    MakeService();
  }

  void MakeService(DeliveryQueue* queue = nullptr) {
    auto s = DefaultSubmissionService::Create(
        options_, SharedValidationEnv().validator.get(),
        queue ? queue : queue_.get(), store_.get(), &clock_, &ids_);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    service_ = std::move(s).value();
  }

  SubmitResult MustAccept(SubmissionRequest r) {
    Result<SubmitResult> s = service_->Submit(std::move(r));
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    if (!s.ok()) return {};
    EXPECT_TRUE(s->accepted) << s->issues.ToText();
    return std::move(s).value();
  }

  std::vector<Job> ClaimAll(const std::string& endpoint) {
    Result<std::vector<Job>> jobs = queue_->Claim(endpoint, "test", 100);
    EXPECT_TRUE(jobs.ok());
    return jobs.ok() ? std::move(jobs).value() : std::vector<Job>{};
  }

  int64_t Ready(const std::string& endpoint) {
    Result<QueueStats> s = queue_->Stats(endpoint);
    EXPECT_TRUE(s.ok());
    return s.ok() ? s->ready : -1;
  }

  FakeClock clock_;
  SequentialIdGenerator ids_{"sub-"};
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisQueue> queue_;
  std::unique_ptr<RedisSubmissionStore> store_;
  SubmissionServiceOptions options_;
  std::unique_ptr<DefaultSubmissionService> service_;
};

TEST_F(SubmissionServiceTest, EveryFormatIsQueuedForEveryEndpointAndValidates) {
  // FHIR inputs: the lab JSON's Bundle as JSON and as XML.
  Result<ConvertResult> converted =
      service_->Convert(Request(SubmissionFormat::kLabJson, SampleLabJson()));
  ASSERT_TRUE(converted.ok());
  ASSERT_TRUE(converted->bundle) << converted->issues.ToText();
  Result<std::string> bundle_json = fhir::WriteJson(*converted->bundle);
  Result<std::string> bundle_xml = fhir::WriteXml(*converted->bundle);
  ASSERT_TRUE(bundle_json.ok() && bundle_xml.ok());

  struct Case {
    SubmissionRequest request;
    std::string key_prefix;
  };
  std::vector<Case> cases;
  cases.push_back({VcfRequest(), "urn:genogate:lab:test-lab|"});
  cases.push_back(
      {Request(SubmissionFormat::kHl7v2, SampleHl7()), "urn:genogate:lab:"});
  cases.push_back({Request(SubmissionFormat::kLabJson, SampleLabJson()),
                   "urn:genogate:lab:example-genomics-lab|"});
  cases.push_back(
      {Request(SubmissionFormat::kFhirJson, *bundle_json), "fhir|"});
  cases.push_back({Request(SubmissionFormat::kFhirXml, *bundle_xml), "fhir|"});
  for (Case& c : cases) {
    SCOPED_TRACE(SubmissionFormatName(c.request.format));
    SubmitResult r = MustAccept(std::move(c.request));
    EXPECT_FALSE(r.duplicate);
    EXPECT_EQ(r.endpoints, options_.endpoints);
    for (const std::string& endpoint : options_.endpoints) {
      std::vector<Job> jobs = ClaimAll(endpoint);
      ASSERT_EQ(jobs.size(), 1u);
      EXPECT_EQ(jobs[0].id, r.id);
      EXPECT_EQ(jobs[0].report_version, ToUnixMillis(clock_.Now()));
      EXPECT_TRUE(jobs[0].report_key.starts_with(c.key_prefix))
          << jobs[0].report_key;
      EXPECT_EQ(PayloadErrors(jobs[0].payload), "");
      ASSERT_TRUE(queue_->Ack(jobs[0]).ok());
    }
    Result<SubmissionStatus> st = service_->GetStatus(r.id);
    ASSERT_TRUE(st.ok()) << st.error().ToString();
    std::vector<std::string> stages;
    for (const auto& s : st->record.stages) stages.push_back(s.first);
    EXPECT_EQ(stages, (std::vector<std::string>{"accepted", "mapped",
                                                "validated", "queued"}));
    EXPECT_GT(st->record.entries, 0u);
  }
}

TEST_F(SubmissionServiceTest, ResendWithTheSameIdempotencyKeyReturnsTheId) {
  SubmissionRequest r = VcfRequest();
  r.idempotency_key = "lab-batch-7";
  r.caller = "lab-a";
  SubmitResult first = MustAccept(r);
  SubmitResult again = MustAccept(r);
  EXPECT_EQ(again.id, first.id);
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(Ready("ehr-a"), 1);
  EXPECT_EQ(Ready("outbox"), 1);

  // The same key from another caller is another submission.
  SubmissionRequest other = r;
  other.caller = "lab-b";
  SubmitResult b = MustAccept(other);
  EXPECT_NE(b.id, first.id);
  EXPECT_FALSE(b.duplicate);

  // The same key for a different request is a conflict; nothing queued.
  SubmissionRequest changed = r;
  changed.params.accession = "urn:oid:1.2.4|ACC-101";
  Result<SubmitResult> c = service_->Submit(changed);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(Ready("ehr-a"), 2);
}

TEST_F(SubmissionServiceTest, ResendCompletesAnInterruptedHandOff) {
  MemoryQueue memory(QueueOptions{}, &clock_);
  FlakyQueue flaky(&memory);
  MakeService(&flaky);
  SubmissionRequest r = VcfRequest();
  r.idempotency_key = "k-1";
  flaky.failures = 1;  // the hand-off fails after the record was stored
  Result<SubmitResult> first = service_->Submit(r);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code(), ErrorCode::kUnavailable);
  Result<SubmissionStatus> st = service_->GetStatus("sub-1");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, "accepted");
  EXPECT_FALSE(st->record.HasStage("queued"));

  SubmitResult again = MustAccept(r);
  EXPECT_EQ(again.id, "sub-1");
  EXPECT_TRUE(again.duplicate);
  for (const std::string& e : options_.endpoints) {
    Result<QueueStats> s = memory.Stats(e);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->ready, 1) << e;
  }
  st = service_->GetStatus("sub-1");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, "queued");
  // A third resend changes nothing.
  MustAccept(r);
  EXPECT_EQ(memory.Stats("ehr-a")->ready, 1);
}

TEST_F(SubmissionServiceTest, RejectedSubmissionsQueueNothing) {
  uint32_t line = 0;
  Result<SubmitResult> r = service_->Submit(VcfRequest(MalformedVcf(&line)));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  ASSERT_FALSE(r->issues.empty());
  EXPECT_EQ(r->issues.issues()[0].line, line);
  EXPECT_NE(r->issues.issues()[0].message.find("(POS)"), std::string::npos);

  // HL7 v2: the problems for the MLLP listener's ACK come along.
  std::string hl7 = SampleHl7();
  hl7.replace(hl7.find("OBX|9|NR|"), 9, "OBX|9|NM|");
  r = service_->Submit(Request(SubmissionFormat::kHl7v2, hl7));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  ASSERT_FALSE(r->hl7v2_problems.empty());
  EXPECT_FALSE(r->hl7v2_rejected);
  EXPECT_NE(r->hl7v2_problems[0].ToString().find("OBX"), std::string::npos);

  // A Bundle that breaks a profile: validation names the FHIRPath.
  Result<ConvertResult> converted =
      service_->Convert(Request(SubmissionFormat::kLabJson, SampleLabJson()));
  ASSERT_TRUE(converted.ok() && converted->bundle);
  Result<std::string> json = fhir::WriteJson(*converted->bundle);
  ASSERT_TRUE(json.ok());
  std::string broken = *json;
  size_t at = broken.find("\"status\":\"final\"");
  ASSERT_NE(at, std::string::npos);
  broken.replace(at, 16, "\"status\":\"bogus\"");
  r = service_->Submit(Request(SubmissionFormat::kFhirJson, broken));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  bool located = false;
  for (const Issue& i : r->issues.issues()) {
    if (i.location.starts_with("Bundle.entry[") &&
        i.location.ends_with(".status")) {
      located = true;
    }
  }
  EXPECT_TRUE(located) << r->issues.ToText();

  // Not a transaction Bundle.
  r = service_->Submit(
      Request(SubmissionFormat::kFhirJson,
              R"({"resourceType":"Bundle","type":"collection"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  EXPECT_EQ(r->issues.issues().back().location, "Bundle.type");

  Result<std::vector<QueueStats>> all = queue_->AllStats();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(SubmissionServiceTest, BadParametersAreInvalidInput) {
  SubmissionRequest no_patient = VcfRequest();
  no_patient.params.patient.clear();
  Result<SubmitResult> r = service_->Submit(no_patient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);

  SubmissionRequest regions = VcfRequest();
  regions.params.regions = "no-such-panel";
  r = service_->Submit(regions);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);

  SubmissionRequest fhir_params =
      Request(SubmissionFormat::kFhirJson, R"({"resourceType":"Bundle"})");
  fhir_params.params.patient = "x|y";
  r = service_->Submit(fhir_params);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);

  using Q = std::vector<std::pair<std::string, std::string>>;
  for (const Q& q :
       {Q{{"acession", "x"}}, Q{{"build", "hg19"}}, Q{{"version", "-1"}},
        Q{{"pass-only", "maybe"}}, Q{{"regions", "../etc/passwd"}},
        Q{{"lab", "a"}, {"lab", "b"}}}) {
    Result<SubmissionParams> p = ParseSubmissionParams(q);
    ASSERT_FALSE(p.ok()) << q[0].first;
    EXPECT_EQ(p.error().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(p.error().message().find(q[0].first), std::string::npos);
  }
  Result<SubmissionParams> ok = ParseSubmissionParams(
      {{"_format", "xml"}, {"pass-only", ""}, {"version", "3"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->pass_only);
  EXPECT_EQ(ok->version, 3);
}

TEST_F(SubmissionServiceTest, RegionsNameServerSideBedFiles) {
  std::string dir = TempDir();
  std::filesystem::copy_file(testing::DataDir() + "/vcf/bed/panel.bed",
                             dir + "/panel.bed");
  options_.regions_dir = dir;
  MakeService();
  SubmissionRequest all = VcfRequest();
  SubmitResult a = MustAccept(all);
  SubmissionRequest panel = VcfRequest();
  panel.params.regions = "panel";
  panel.params.studied = "panel";
  SubmitResult p = MustAccept(panel);
  Result<SubmissionStatus> sa = service_->GetStatus(a.id);
  Result<SubmissionStatus> sp = service_->GetStatus(p.id);
  ASSERT_TRUE(sa.ok() && sp.ok());
  EXPECT_LT(sp->record.variants, sa->record.variants);
  std::filesystem::remove_all(dir);

  // A malformed BED file stops start-up with its name and line.
  std::string bad = TempDir();
  std::filesystem::copy_file(testing::DataDir() + "/vcf/bed/negative_start.bed",
                             bad + "/broken.bed");
  options_.regions_dir = bad;
  auto s = DefaultSubmissionService::Create(
      options_, SharedValidationEnv().validator.get(), queue_.get(),
      store_.get(), &clock_, &ids_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("broken.bed: line"), std::string::npos)
      << s.error().message();
  std::filesystem::remove_all(bad);
}

TEST_F(SubmissionServiceTest, RoutingHookAndReportVersions) {
  options_.route = [](const RoutingInput& in) {
    EXPECT_FALSE(in.report_keys.empty());
    return std::vector<std::string>{"outbox"};
  };
  MakeService();
  SubmissionRequest v2 = Request(SubmissionFormat::kLabJson, SampleLabJson());
  v2.params.version = 2;
  SubmitResult newer = MustAccept(v2);
  EXPECT_EQ(newer.endpoints, std::vector<std::string>{"outbox"});
  SubmissionRequest v1 = v2;
  v1.params.version = 1;
  SubmitResult older = MustAccept(v1);
  EXPECT_EQ(Ready("ehr-a"), 0);
  // The older version of the same report is superseded at once.
  Result<SubmissionStatus> st = service_->GetStatus(older.id);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->endpoints.size(), 1u);
  ASSERT_TRUE(st->endpoints[0].job);
  EXPECT_EQ(st->endpoints[0].job->state, JobState::kSuperseded);
  EXPECT_EQ(st->state, "superseded");
  std::vector<Job> jobs = ClaimAll("outbox");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, newer.id);
  EXPECT_EQ(jobs[0].report_version, 2);
}

TEST_F(SubmissionServiceTest, StatusFollowsDeliveryToAFileOutbox) {
  std::string dir = TempDir();
  options_.endpoints = {"outbox"};
  MakeService();
  SubmitResult r = MustAccept(VcfRequest());
  Result<SubmissionStatus> st = service_->GetStatus(r.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, "queued");
  ASSERT_TRUE(st->endpoints[0].job);
  EXPECT_EQ(st->endpoints[0].job->state, JobState::kQueued);

  // An outbox whose directory is missing: the worker retries.
  FixedJitter jitter(0.5);
  CircuitBreaker breaker({}, &clock_);
  WorkerOptions wo;
  wo.endpoint = "outbox";
  wo.max_attempts = 2;
  FileOutbox missing(dir + "/missing");
  DeliveryWorker failing(wo, queue_.get(), &missing, &breaker, &clock_,
                         &jitter);
  ASSERT_TRUE(failing.RunOnce().ok());
  st = service_->GetStatus(r.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, "retrying");
  ASSERT_TRUE(st->endpoints[0].job);
  EXPECT_EQ(st->endpoints[0].job->state, JobState::kRetrying);
  EXPECT_GT(st->endpoints[0].job->next_attempt, clock_.Now());
  EXPECT_FALSE(st->endpoints[0].job->last_reason.empty());

  // Then it arrives.
  clock_.Advance(std::chrono::minutes(5));
  FileOutbox outbox(dir);
  DeliveryWorker worker(wo, queue_.get(), &outbox, &breaker, &clock_, &jitter);
  ASSERT_TRUE(worker.RunOnce().ok());
  st = service_->GetStatus(r.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, "delivered");
  ASSERT_TRUE(st->endpoints[0].job);
  ASSERT_EQ(st->endpoints[0].job->resource_ids.size(), 1u);
  EXPECT_EQ(st->endpoints[0].job->resource_ids[0],
            "file:" + FileOutbox::FileName(r.id));
  std::ifstream delivered(dir + "/" + FileOutbox::FileName(r.id));
  std::string text((std::istreambuf_iterator<char>(delivered)), {});
  EXPECT_EQ(PayloadErrors(text), "");

  // A second submission that never gets through is dead-lettered.
  SubmitResult dead = MustAccept(VcfRequest());
  WorkerOptions once = wo;
  once.max_attempts = 1;
  DeliveryWorker giving_up(once, queue_.get(), &missing, &breaker, &clock_,
                           &jitter);
  ASSERT_TRUE(giving_up.RunOnce().ok());
  st = service_->GetStatus(dead.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, "dead-lettered");
  ASSERT_TRUE(st->endpoints[0].job);
  EXPECT_EQ(st->endpoints[0].job->dead_letter_id, "outbox/" + dead.id);
  EXPECT_FALSE(st->endpoints[0].job->last_reason.empty());
  std::filesystem::remove_all(dir);
}

TEST_F(SubmissionServiceTest, RedisDownIsUnavailableAndNothingIsLost) {
  SubmitResult before = MustAccept(VcfRequest());
  redis_->Kill();
  Result<SubmitResult> r = service_->Submit(VcfRequest());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  Result<SubmissionStatus> st = service_->GetStatus(before.id);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(redis_->Restart());
  st = service_->GetStatus(before.id);
  if (!st.ok()) {
    // The queue's pooled connection, closed by the restart, fails once
    // (retryable); the store retries on a new connection by itself.
    EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
    EXPECT_EQ(st.error().message().find("submission store"), std::string::npos);
    st = service_->GetStatus(before.id);
  }
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(st->state, "queued");
  MustAccept(VcfRequest());
}

TEST_F(SubmissionServiceTest, UnknownIdIsNotFound) {
  for (std::string_view id : {"sub-404", "", "../x", "a b"}) {
    Result<SubmissionStatus> st = service_->GetStatus(id);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), ErrorCode::kNotFound) << id;
  }
}

}  // namespace
}  // namespace genogate::gateway

// The audit trail as the HTTP API fills it, on a real Redis: every
// submission (POST /submissions, POST /fhir; accepted, resent, rejected with
// 422, refused with 400 or 415) and every admin request (endpoints with their
// check, queues, dead letters listed, shown, replayed, discarded, an unknown
// one) leaves exactly one AuditEvent with who, what, when, outcome, source
// address, request id, submission, lab, endpoint and the patient only as a
// pseudonym. An event that cannot be stored turns the answer into 503.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fhir/codec.h"
#include "gateway/api/api_routes.h"
#include "gateway/api/api_test_util.h"
#include "gateway/api/endpoint_checker.h"
#include "gateway/queue/queue_test_util.h"
#include "gateway/security/audit.h"
#include "gateway/submission/submission_service.h"
#include "gateway/submission/submission_test_util.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;
using testing::MakeRedisQueue;
using testing::SampleLabJson;
using testing::SampleVcf;
using testing::SharedValidationEnv;
using testing::TestApi;
using testing::UniquePrefix;

const std::string kKey = "audit-actions-test-key-0123456789abcdef";
// The patient of examples/lab-result.json.
const std::string kMrnSystem = "urn:oid:2.16.840.1.113883.3.999.1";
const std::string kMrn = "MRN-000123";

std::string PseudonymOf(const std::string& system, const std::string& value) {
  Result<Pseudonymizer> p = Pseudonymizer::Create(kKey);
  EXPECT_TRUE(p.ok());
  return p->Pseudonym(system, value);
}

// The facts of one stored AuditEvent.
struct Event {
  std::string json;
  std::string action;  // subtype code
  std::string outcome;
  std::string outcome_text;
  std::string recorded;
  std::string who;
  std::vector<std::string> roles;
  std::string request_id;
  std::string address;
  std::string submission;
  std::string operation;
  std::string patient;
  std::string endpoint;
  std::multimap<std::string, std::string> details;
};

std::string Get(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return "";
  auto m = v.FindMember(name);
  return m != v.MemberEnd() && m->value.IsString() ? m->value.GetString() : "";
}

Event ParseEvent(const std::string& json) {
  Event e;
  e.json = json;
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_TRUE(d.IsObject()) << json;
  if (!d.IsObject()) return e;
  EXPECT_EQ(Get(d, "resourceType"), "AuditEvent");
  e.action = Get(d["subtype"][0], "code");
  e.outcome = Get(d, "outcome");
  e.outcome_text = Get(d, "outcomeDesc");
  e.recorded = Get(d, "recorded");
  const rapidjson::Value& agent = d["agent"][0];
  e.who = Get(agent["who"]["identifier"], "value");
  if (agent.HasMember("role")) {
    for (const rapidjson::Value& r : agent["role"].GetArray()) {
      e.roles.push_back(Get(r["coding"][0], "code"));
    }
  }
  e.request_id = Get(agent, "altId");
  if (agent.HasMember("network")) {
    e.address = Get(agent["network"], "address");
  }
  if (d.HasMember("entity")) {
    for (const rapidjson::Value& en : d["entity"].GetArray()) {
      std::string system, value;
      if (en.HasMember("what")) {
        system = Get(en["what"]["identifier"], "system");
        value = Get(en["what"]["identifier"], "value");
      }
      if (system == "urn:genogate:pseudonym:hmac-sha256") e.patient = value;
      if (system == "urn:genogate:endpoint") e.endpoint = value;
      if (Get(en["role"], "code") == "20") {
        e.submission = value;
        e.operation = Get(en, "description");
        if (en.HasMember("detail")) {
          for (const rapidjson::Value& dt : en["detail"].GetArray()) {
            e.details.emplace(Get(dt, "type"), Get(dt, "valueString"));
          }
        }
      }
    }
  }
  return e;
}

std::string Detail(const Event& e, const std::string& key) {
  auto it = e.details.find(key);
  return it == e.details.end() ? "" : it->second;
}

// Fails Record while `fail` is set, else records into `inner`.
class SwitchableSink final : public AuditSink {
 public:
  explicit SwitchableSink(AuditSink* inner) : inner_(inner) {}
  Status Record(const AuditRecord& r) override {
    if (fail) return Error(ErrorCode::kUnavailable, "audit store down");
    return inner_->Record(r);
  }
  std::atomic<bool> fail{false};

 private:
  AuditSink* inner_;
};

class FakeChecker final : public EndpointChecker {
 public:
  const std::vector<EndpointInfo>& endpoints() const override {
    return endpoints_;
  }
  Result<EndpointCheckResult> Check(std::string_view) override {
    EndpointCheckResult r;
    r.ok = true;
    r.fhir_version = "4.0.1";
    return r;
  }

 private:
  std::vector<EndpointInfo> endpoints_ = {
      {"ehr", "https://ehr.test/fhir", "fhir"}};
};

class AuditActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisServer::Options ro;
    ro.appendfsync = "always";
    redis_ = RedisServer::Start(ro);
    ASSERT_NE(redis_, nullptr);
    queue_ = MakeRedisQueue(*redis_, QueueOptions{}, &clock_);
    ASSERT_NE(queue_, nullptr);
    auto store = RedisSubmissionStore::Open(
        *RedisOptions::FromUrl(redis_->url()), UniquePrefix());
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    AuditLogOptions ao;
    ao.redis = *RedisOptions::FromUrl(redis_->url());
    Result<Pseudonymizer> p = Pseudonymizer::Create(kKey);
    ASSERT_TRUE(p.ok());
    auto log = AuditLog::Open(ao, std::move(p).value());
    ASSERT_TRUE(log.ok()) << log.error().ToString();
    log_ = std::move(log).value();
    sink_ = std::make_unique<SwitchableSink>(log_.get());
    SubmissionServiceOptions so;
    so.endpoints = {"ehr"};
    so.audit = sink_.get();
    auto service = DefaultSubmissionService::Create(
        so, SharedValidationEnv().validator.get(), queue_.get(), store_.get(),
        &clock_);
    ASSERT_TRUE(service.ok());
    service_ = std::move(service).value();
    ApiServices services;
    services.submissions = service_.get();
    services.validator = SharedValidationEnv().validator.get();
    services.packages = SharedValidationEnv().packages.get();
    services.queue = queue_.get();
    services.endpoints = &checker_;
    services.audit = sink_.get();
    services.clock = &clock_;
    ApiOptions options;
    options.started = "2026-11-29T12:00:00Z";
    api_ = std::make_unique<TestApi>(ApiRoutes(services, options));
    api_->set_peer("198.51.100.7:51000", "req-1");
  }

  std::vector<Event> Events() {
    Result<std::string> nd =
        log_->ReadNdjson(Timestamp::min(), Timestamp::max(), 1000);
    EXPECT_TRUE(nd.ok());
    std::vector<Event> out;
    size_t start = 0;
    while (nd.ok() && start < nd->size()) {
      size_t nl = nd->find('\n', start);
      out.push_back(ParseEvent(nd->substr(start, nl - start)));
      start = nl + 1;
    }
    return out;
  }

  HttpResponse Post(const std::string& target, const std::string& body,
                    const std::string& type, const std::string& key = "",
                    const std::string& caller = "acme-uploader") {
    std::vector<std::pair<std::string, std::string>> h = {
        {"Content-Type", type}};
    if (!key.empty()) h.emplace_back("Idempotency-Key", key);
    return api_->Call("POST", target, body, h, caller, {"lab"});
  }

  HttpResponse Admin(const std::string& method, const std::string& target) {
    return api_->Call(method, target, "", {}, "ops", {"admin"});
  }

  // A dead letter of `endpoint` holding the example patient's Bundle.
  std::string MakeDeadLetter(const std::string& job_id) {
    Result<ConvertResult> c = service_->Convert(
        {SubmissionFormat::kLabJson, SampleLabJson(), {}, "", ""});
    EXPECT_TRUE(c.ok() && c->bundle);
    Job job;
    job.id = job_id;
    job.report_key = "k|" + job_id;
    job.payload = *fhir::WriteJson(*c->bundle);
    job.metadata["lab"] = "acme";
    EXPECT_TRUE(queue_->Enqueue("ehr", job).ok());
    Result<std::vector<Job>> claimed = queue_->Claim("ehr", "w", 1);
    EXPECT_TRUE(claimed.ok() && claimed->size() == 1);
    EXPECT_TRUE(
        queue_->DeadLetter((*claimed)[0], "rejected: HTTP 422", "").ok());
    return MakeDeadLetterId("ehr", job_id);
  }

  FakeClock clock_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisQueue> queue_;
  std::unique_ptr<RedisSubmissionStore> store_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<SwitchableSink> sink_;
  std::unique_ptr<DefaultSubmissionService> service_;
  FakeChecker checker_;
  std::unique_ptr<TestApi> api_;
};

TEST_F(AuditActionsTest, EverySubmissionLeavesExactlyOneEvent) {
  const std::string patient = PseudonymOf(kMrnSystem, kMrn);
  api_->set_caller_lab("acme");

  // 1. Accepted (with an Idempotency-Key).
  HttpResponse a =
      Post("/submissions", SampleLabJson(), "application/json", "key-1");
  ASSERT_EQ(a.status, 202) << a.body;
  const std::string id =
      std::string(a.Header("Location")).substr(sizeof("/submissions/") - 1);
  // 2. Resent: a duplicate, audited again.
  api_->set_peer("198.51.100.7:51001", "req-2");
  ASSERT_EQ(Post("/submissions", SampleLabJson(), "application/json", "key-1")
                .Header("Location"),
            a.Header("Location"));
  // 3. A ready transaction Bundle through POST /fhir.
  Result<ConvertResult> c = service_->Convert(
      {SubmissionFormat::kLabJson, SampleLabJson(), {}, "", ""});
  ASSERT_TRUE(c.ok() && c->bundle);
  const std::string bundle = *fhir::WriteJson(*c->bundle);
  api_->set_peer("[2001:db8::9]:443", "req-3");
  ASSERT_EQ(Post("/fhir", bundle, "application/fhir+json").status, 202);
  // 4. Rejected (422): the Bundle's Patient has an impossible birth date.
  std::string bad = bundle;
  bad.replace(bad.find("\"birthDate\":\"1980-04-12\""), 24,
              "\"birthDate\":\"1980-02-30\"");
  api_->set_peer("198.51.100.7:51002", "req-4");
  ASSERT_EQ(Post("/fhir", bad, "application/fhir+json").status, 422);
  // 5. Refused by the service (400): a VCF without patient or accession.
  api_->set_peer("198.51.100.7:51003", "req-5");
  ASSERT_EQ(Post("/submissions", SampleVcf(), "text/x-vcf").status, 400);
  // 6. Refused by the handler before the service (415).
  api_->set_peer("198.51.100.7:51004", "req-6");
  ASSERT_EQ(Post("/submissions", SampleVcf(), "text/plain").status, 415);

  std::vector<Event> ev = Events();
  ASSERT_EQ(ev.size(), 6u);
  for (const Event& e : ev) {
    EXPECT_EQ(e.who, "acme-uploader");
    EXPECT_EQ(e.roles, std::vector<std::string>{"lab"});
    EXPECT_EQ(Detail(e, "lab"), "acme");
    EXPECT_EQ(e.json.find(kMrn), std::string::npos) << e.json;
    EXPECT_EQ(e.recorded, FormatInstant(clock_.Now()));
  }
  EXPECT_EQ(ev[0].action, "submission");
  EXPECT_EQ(ev[0].outcome, "0");
  EXPECT_EQ(ev[0].submission, id);
  EXPECT_EQ(ev[0].patient, patient);
  EXPECT_EQ(ev[0].address, "198.51.100.7");
  EXPECT_EQ(ev[0].request_id, "req-1");
  EXPECT_EQ(ev[0].operation, "POST /submissions");
  EXPECT_EQ(Detail(ev[0], "endpoint"), "ehr");
  EXPECT_EQ(Detail(ev[0], "format"), "labjson");

  EXPECT_EQ(ev[1].action, "submission");
  EXPECT_EQ(ev[1].outcome, "0");
  EXPECT_EQ(ev[1].submission, id);
  EXPECT_EQ(ev[1].request_id, "req-2");
  EXPECT_NE(ev[1].outcome_text.find("duplicate"), std::string::npos);

  EXPECT_EQ(ev[2].action, "submission");
  EXPECT_EQ(ev[2].outcome, "0");
  EXPECT_EQ(ev[2].operation, "POST /fhir");
  EXPECT_EQ(ev[2].address, "2001:db8::9");
  EXPECT_EQ(ev[2].patient, patient);
  EXPECT_EQ(Detail(ev[2], "format"), "fhir-json");
  EXPECT_FALSE(ev[2].submission.empty());
  EXPECT_NE(ev[2].submission, id);

  EXPECT_EQ(ev[3].action, "validation-failure");
  EXPECT_EQ(ev[3].outcome, "4");
  EXPECT_TRUE(ev[3].submission.empty());  // nothing was stored
  EXPECT_EQ(ev[3].patient, patient);
  EXPECT_EQ(ev[3].request_id, "req-4");

  EXPECT_EQ(ev[4].action, "submission");
  EXPECT_EQ(ev[4].outcome, "4");
  EXPECT_NE(ev[4].outcome_text.find("invalid"), std::string::npos)
      << ev[4].outcome_text;

  EXPECT_EQ(ev[5].action, "submission");
  EXPECT_EQ(ev[5].outcome, "4");
  EXPECT_EQ(ev[5].outcome_text, "refused: HTTP 415");
  EXPECT_EQ(ev[5].request_id, "req-6");

  // The queued jobs name their lab, the Provenance author at delivery.
  Result<std::vector<Job>> jobs = queue_->Claim("ehr", "w", 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  for (const Job& j : *jobs) EXPECT_EQ(j.metadata.at("lab"), "acme");
}

TEST_F(AuditActionsTest, EveryAdminRequestLeavesExactlyOneEvent) {
  const std::string patient = PseudonymOf(kMrnSystem, kMrn);
  const std::string dead = MakeDeadLetter("job-1");
  const size_t before = Events().size();
  ASSERT_EQ(before, 0u);

  EXPECT_EQ(Admin("GET", "/admin/endpoints?check=true").status, 200);
  EXPECT_EQ(Admin("GET", "/admin/queues").status, 200);
  EXPECT_EQ(Admin("GET", "/admin/dead-letters?endpoint=ehr").status, 200);
  HttpResponse shown = Admin(
      "GET", "/admin/" + std::string("dead-letters/") + dead + "?payload=true");
  EXPECT_EQ(shown.status, 200);
  EXPECT_NE(shown.body.find(kMrn), std::string::npos);  // admins see PHI
  EXPECT_EQ(Admin("POST", "/admin/dead-letters/" + dead + "/replay").status,
            200);
  // Dead-letter it again, then discard it.
  Result<std::vector<Job>> again = queue_->Claim("ehr", "w", 1);
  ASSERT_TRUE(again.ok() && again->size() == 1);
  ASSERT_TRUE(queue_->DeadLetter((*again)[0], "rejected: HTTP 422", "").ok());
  EXPECT_EQ(Admin("DELETE", "/admin/dead-letters/" + dead).status, 200);
  EXPECT_EQ(Admin("GET", "/admin/dead-letters/ehr/no-such-job").status, 404);

  std::vector<Event> ev = Events();
  ASSERT_EQ(ev.size(), 7u);
  for (const Event& e : ev) {
    EXPECT_EQ(e.who, "ops");
    EXPECT_EQ(e.roles, std::vector<std::string>{"admin"});
    EXPECT_EQ(e.address, "198.51.100.7");
    EXPECT_EQ(e.request_id, "req-1");
    EXPECT_EQ(e.json.find(kMrn), std::string::npos) << e.json;
  }
  EXPECT_EQ(ev[0].action, "admin");
  EXPECT_EQ(ev[0].operation, "GET /admin/endpoints");
  EXPECT_EQ(Detail(ev[0], "check"), "true");
  EXPECT_EQ(ev[0].outcome, "0");
  EXPECT_EQ(ev[1].operation, "GET /admin/queues");
  EXPECT_EQ(ev[2].operation, "GET /admin/dead-letters");
  EXPECT_EQ(ev[2].endpoint, "ehr");
  EXPECT_EQ(ev[3].operation, "GET /admin/dead-letters/{endpoint}/{job}");
  EXPECT_EQ(ev[3].submission, "job-1");
  EXPECT_EQ(ev[3].endpoint, "ehr");
  EXPECT_EQ(ev[3].patient, patient);
  EXPECT_EQ(Detail(ev[3], "payload"), "shown");
  EXPECT_EQ(ev[4].action, "replay");
  EXPECT_EQ(ev[4].operation,
            "POST /admin/dead-letters/{endpoint}/{job}/replay");
  EXPECT_EQ(ev[4].outcome, "0");
  EXPECT_EQ(ev[4].submission, "job-1");
  EXPECT_EQ(ev[4].patient, patient);
  EXPECT_EQ(ev[5].action, "admin");
  EXPECT_EQ(ev[5].operation, "DELETE /admin/dead-letters/{endpoint}/{job}");
  EXPECT_EQ(ev[5].outcome, "0");
  EXPECT_EQ(ev[5].patient, patient);
  EXPECT_EQ(ev[6].outcome, "4");  // 404
  EXPECT_EQ(ev[6].outcome_text, "HTTP 404");
  EXPECT_TRUE(ev[6].patient.empty());
}

TEST_F(AuditActionsTest, AnEventThatCannotBeStoredTurnsSuccessInto503) {
  sink_->fail = true;
  HttpResponse r =
      Post("/submissions", SampleLabJson(), "application/json", "key-9");
  EXPECT_EQ(r.status, 503) << r.body;
  // The submission was queued before the audit append failed; it stays.
  EXPECT_EQ(queue_->Stats("ehr")->ready, 1);
  EXPECT_EQ(Admin("GET", "/admin/queues").status, 503);
  const std::string dead = MakeDeadLetter("job-2");
  HttpResponse shown =
      Admin("GET", "/admin/dead-letters/" + dead + "?payload=true");
  EXPECT_EQ(shown.status, 503);
  EXPECT_EQ(shown.body.find(kMrn), std::string::npos);  // nothing disclosed
  EXPECT_TRUE(Events().empty());

  // The resend with the same key is answered (a duplicate) and audited.
  sink_->fail = false;
  HttpResponse again =
      Post("/submissions", SampleLabJson(), "application/json", "key-9");
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(queue_->Stats("ehr")->ready, 1);
  std::vector<Event> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, "submission");
  EXPECT_NE(ev[0].outcome_text.find("duplicate"), std::string::npos);
}

TEST_F(AuditActionsTest, RedisDownIsCountedAndReported) {
  std::vector<std::string> reported;
  log_->set_failure_hook([&](const AuditRecord& r, const Error& e) {
    reported.push_back(std::string(AuditActionName(r.action)) + " " +
                       std::string(ErrorCodeName(e.code())));
  });
  redis_->Kill();
  AuditRecord r;
  r.action = AuditAction::kDelivery;
  r.when = clock_.Now();
  EXPECT_FALSE(log_->Record(r).ok());
  EXPECT_EQ(log_->failures(), 1);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].substr(0, 9), "delivery ");
}

}  // namespace
}  // namespace genogate::gateway

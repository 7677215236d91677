// Delivery and the audit trail, on a real Redis queue and audit stream:
// every job sent (or dead-lettered unsent) leaves exactly one "delivery"
// AuditEvent by genogate (delivered, failed and retried, dead-lettered),
// and a submission's bundle goes out with a Provenance naming the lab as
// author and genogate as transmitter that genogate's validator accepts.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/operation_outcome.h"
#include "gateway/delivery/worker.h"
#include "gateway/queue/queue_test_util.h"
#include "gateway/security/audit.h"
#include "gateway/submission/submission_service.h"
#include "gateway/submission/submission_test_util.h"
#include "testing/redis_server.h"
#include "testing/validation_env.h"

namespace genogate::gateway {
namespace {

using genogate::testing::ErrorsOf;
using genogate::testing::RedisServer;
using testing::MakeRedisQueue;
using testing::SampleLabJson;
using testing::SharedValidationEnv;

const std::string kKey = "worker-audit-test-key-0123456789abcdef";
const std::string kMrn = "MRN-000123";

// Answers each Deliver with the next scripted outcome; keeps what was sent.
class ScriptedTarget final : public DeliveryTarget {
 public:
  TransactionOutcome Deliver(std::string_view job_id,
                             std::string_view bundle) override {
    sent.emplace_back(job_id, std::string(bundle));
    TransactionOutcome out = script.front();
    script.pop_front();
    return out;
  }
  Status Probe() override { return Status::Ok(); }
  bool RefreshAuth() override { return false; }

  std::deque<TransactionOutcome> script;
  std::vector<std::pair<std::string, std::string>> sent;
};

TransactionOutcome Ok(std::vector<std::string> ids) {
  TransactionOutcome o;
  o.http_status = 200;
  o.resource_ids = std::move(ids);
  return o;
}

TransactionOutcome Failed(ErrorCode code, int status) {
  TransactionOutcome o;
  o.http_status = status;
  o.error = Error(code, "HTTP " + std::to_string(status));
  return o;
}

std::string Str(const rapidjson::Value& v, const char* name) {
  auto m = v.FindMember(name);
  return m != v.MemberEnd() && m->value.IsString() ? m->value.GetString() : "";
}

class WorkerAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisServer::Options ro;
    ro.appendfsync = "always";
    redis_ = RedisServer::Start(ro);
    ASSERT_NE(redis_, nullptr);
    queue_ = MakeRedisQueue(*redis_, QueueOptions{}, &clock_);
    ASSERT_NE(queue_, nullptr);
    AuditLogOptions ao;
    ao.redis = *RedisOptions::FromUrl(redis_->url());
    Result<Pseudonymizer> p = Pseudonymizer::Create(kKey);
    ASSERT_TRUE(p.ok());
    auto log = AuditLog::Open(ao, std::move(p).value());
    ASSERT_TRUE(log.ok());
    log_ = std::move(log).value();
    SubmissionServiceOptions so;
    so.endpoints = {"ehr"};
    auto service = DefaultSubmissionService::Create(
        so, SharedValidationEnv().validator.get(), queue_.get(), &store_,
        &clock_);
    ASSERT_TRUE(service.ok());
    service_ = std::move(service).value();
    WorkerOptions wo;
    wo.endpoint = "ehr";
    wo.max_bundle_bytes = 400'000;
    wo.software = "genogate test";
    wo.audit = log_.get();
    breaker_ =
        std::make_unique<CircuitBreaker>(CircuitBreakerOptions{}, &clock_);
    worker_ = std::make_unique<DeliveryWorker>(
        wo, queue_.get(), &target_, breaker_.get(), &clock_, &jitter_);
  }

  // Submits the example lab JSON (accession replaced) as lab "acme".
  std::string Submit(const std::string& accession) {
    SubmissionRequest r;
    r.format = SubmissionFormat::kLabJson;
    r.body = SampleLabJson();
    r.body.replace(r.body.find("ACC-2024-0042"), 13, accession);
    r.caller = "acme-uploader";
    r.audit.lab = "acme";
    Result<SubmitResult> s = service_->Submit(std::move(r));
    EXPECT_TRUE(s.ok() && s->accepted);
    return s.ok() ? s->id : "";
  }

  std::vector<rapidjson::Document> Events() {
    std::vector<rapidjson::Document> out;
    Result<size_t> n = log_->ReadRange(
        Timestamp::min(), Timestamp::max(), 100, [&](std::string_view json) {
          out.emplace_back();
          out.back().Parse(json.data(), json.size());
          EXPECT_EQ(json.find(kMrn), std::string_view::npos) << json;
          return true;
        });
    EXPECT_TRUE(n.ok());
    return out;
  }

  FakeClock clock_;
  FixedJitter jitter_{0.0};
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisQueue> queue_;
  std::unique_ptr<AuditLog> log_;
  MemorySubmissionStore store_;
  std::unique_ptr<DefaultSubmissionService> service_;
  ScriptedTarget target_;
  std::unique_ptr<CircuitBreaker> breaker_;
  std::unique_ptr<DeliveryWorker> worker_;
};

TEST_F(WorkerAuditTest, EachDeliveryOutcomeLeavesOneEventAndAProvenance) {
  const std::string a = Submit("ACC-A-1");
  const std::string b = Submit("ACC-B-2");
  // A job without a lab (e.g. enqueued by an older version): no Provenance.
  Result<ConvertResult> c = service_->Convert(
      {SubmissionFormat::kLabJson, SampleLabJson(), {}, "", ""});
  ASSERT_TRUE(c.ok() && c->bundle);
  const std::string plain = *fhir::WriteJson(*c->bundle);
  Job no_lab;
  no_lab.id = "job-no-lab";
  no_lab.report_key = "k|c";
  no_lab.payload = plain;
  ASSERT_TRUE(queue_->Enqueue("ehr", no_lab).ok());
  // Too large for the endpoint: dead-lettered without being sent.
  Job big = no_lab;
  big.id = "job-big";
  big.report_key = "k|d";
  big.payload = plain;
  big.payload.insert(big.payload.size() - 1,
                     ",\"x\":\"" + std::string(400'000, 'x') + "\"");
  ASSERT_TRUE(queue_->Enqueue("ehr", big).ok());

  target_.script = {Failed(ErrorCode::kUnavailable, 503),
                    Failed(ErrorCode::kInvalidInput, 422),
                    Ok({"DiagnosticReport/7"}),
                    Ok({"DiagnosticReport/9", "Patient/3"})};
  ASSERT_TRUE(worker_->RunOnce().ok());  // a: retry, b: dead, c: ok, big
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(worker_->RunOnce().ok());  // a again: delivered
  ASSERT_EQ(target_.sent.size(), 4u);
  EXPECT_TRUE(target_.script.empty());

  std::vector<rapidjson::Document> ev = Events();
  ASSERT_EQ(ev.size(), 5u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {a, "8"}, {b, "12"}, {"job-no-lab", "0"}, {"job-big", "12"}, {a, "0"}};
  Result<Pseudonymizer> p = Pseudonymizer::Create(kKey);
  const std::string patient =
      p->Pseudonym("urn:oid:2.16.840.1.113883.3.999.1", kMrn);
  for (size_t i = 0; i < ev.size(); ++i) {
    const rapidjson::Value& e = ev[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(Str(e["subtype"][0], "code"), "delivery");
    EXPECT_EQ(Str(e["type"], "code"), "110106");  // DICOM Export
    EXPECT_EQ(Str(e, "outcome"), expected[i].second);
    // Who: genogate itself, no caller roles.
    EXPECT_EQ(Str(e["agent"][0]["who"]["identifier"], "value"), "genogate");
    EXPECT_FALSE(e["agent"][0].HasMember("role"));
    std::string submission, endpoint, pseudonym, lab, provenance, ehr_ids;
    for (const rapidjson::Value& en : e["entity"].GetArray()) {
      std::string system = Str(en["what"]["identifier"], "system");
      std::string value = Str(en["what"]["identifier"], "value");
      if (system == "urn:genogate:submission") submission = value;
      if (system == "urn:genogate:endpoint") endpoint = value;
      if (system == "urn:genogate:pseudonym:hmac-sha256") pseudonym = value;
      if (!en.HasMember("detail")) continue;
      for (const rapidjson::Value& d : en["detail"].GetArray()) {
        if (Str(d, "type") == "lab") lab = Str(d, "valueString");
        if (Str(d, "type") == "provenance") {
          provenance = Str(d, "valueString");
        }
        if (Str(d, "type") == "ehr-id") {
          ehr_ids += Str(d, "valueString") + ";";
        }
      }
    }
    EXPECT_EQ(submission, expected[i].first);
    EXPECT_EQ(endpoint, "ehr");
    EXPECT_EQ(pseudonym, patient);
    if (expected[i].first == a || expected[i].first == b) {
      EXPECT_EQ(lab, "acme");
      EXPECT_EQ(provenance, "added");
    }
    if (expected[i].first == "job-no-lab") {
      EXPECT_EQ(provenance, "not added (the job names no lab)");
      EXPECT_EQ(ehr_ids, "DiagnosticReport/7;");
    }
    if (i == 4) {
      EXPECT_EQ(ehr_ids, "DiagnosticReport/9;Patient/3;");
    }
  }

  // What went out: the lab-less job as queued; a's bundle with one
  // Provenance (lab author, genogate transmitter) that validates.
  EXPECT_EQ(target_.sent[2].first, "job-no-lab");
  EXPECT_EQ(target_.sent[2].second, plain);
  ASSERT_EQ(target_.sent[3].first, a);
  const std::string& sent = target_.sent[3].second;
  rapidjson::Document bundle;
  bundle.Parse(sent.c_str());
  ASSERT_TRUE(bundle.IsObject());
  const rapidjson::Value& entries = bundle["entry"];
  const rapidjson::Value& prov = entries[entries.Size() - 1]["resource"];
  EXPECT_EQ(Str(prov, "resourceType"), "Provenance");
  EXPECT_EQ(prov["target"].Size(), entries.Size() - 1);
  EXPECT_EQ(Str(prov, "recorded"), FormatInstant(clock_.Now()));
  EXPECT_EQ(Str(prov["agent"][0]["type"]["coding"][0], "code"), "author");
  EXPECT_EQ(Str(prov["agent"][0]["who"]["identifier"], "value"), "acme");
  EXPECT_EQ(Str(prov["agent"][1]["type"]["coding"][0], "code"), "assembler");
  EXPECT_EQ(Str(prov["agent"][1]["role"][0], "text"), "transmitter");
  EXPECT_EQ(Str(prov["agent"][1]["who"], "display"), "genogate test");
  EXPECT_EQ(Str(prov["entity"][0]["what"]["identifier"], "value"), a);
  const fhir::Schema& schema = SharedValidationEnv().validator->schema();
  Result<fhir::Document> doc = fhir::ParseJson(sent, &schema);
  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  IssueList errors = ErrorsOf(SharedValidationEnv().validator->Validate(
      doc->root, conformance::ValidationOptions{}));
  EXPECT_TRUE(errors.empty()) << fhir::OperationOutcomeJson(errors);
  // One Provenance per send, also on the attempt that failed.
  for (const auto& [job, text] : target_.sent) {
    const std::string type = "\"resourceType\":\"Provenance\"";
    size_t first = text.find(type);
    bool with_lab = job == a || job == b;
    EXPECT_EQ(first != std::string::npos, with_lab) << job;
    if (with_lab) {
      EXPECT_EQ(first, text.rfind(type)) << job;
    }
  }
}

}  // namespace
}  // namespace genogate::gateway

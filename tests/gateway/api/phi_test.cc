// PHI check: results for a patient with a distinctive name and identifiers
// go through the HTTP handlers (accepted and rejected, every input format)
// onto a real Redis; no answer, status, error message, OperationOutcome,
// audit event or anything Redis holds in clear contains them.
#include <gtest/gtest.h>

#include "fhir/codec.h"
#include "gateway/api/api_routes.h"
#include "gateway/api/api_test_util.h"
#include "gateway/queue/queue_test_util.h"
#include "gateway/security/audit.h"
#include "gateway/submission/submission_service.h"
#include "gateway/submission/submission_test_util.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;
using testing::MakeRedisQueue;
using testing::SampleHl7;
using testing::SampleLabJson;
using testing::SampleVcf;
using testing::SharedValidationEnv;
using testing::TestApi;
using testing::UniquePrefix;

// Distinctive values that must never leave the payload.
const std::vector<std::string>& Phi() {
  static const std::vector<std::string> phi = {
      "Zebulon",      "Quixotesque", "MRN-ZQ-4412987", "ACC-ZQ-77120",
      "SPEC-ZQ-5501", "1961-02-23",  "1961-02-30"};
  return phi;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

void ExpectNoPhi(std::string_view what, std::string_view text) {
  for (const std::string& p : Phi()) {
    EXPECT_EQ(text.find(p), std::string_view::npos)
        << what << " contains " << p << ":\n"
        << text.substr(0, 2000);
  }
}

// Everything Redis holds, as text: key names, hash fields and values,
// strings, sets, sorted sets and stream entries.
std::string DumpRedis(const RedisServer& server) {
  Result<RedisOptions> ro = RedisOptions::FromUrl(server.url());
  EXPECT_TRUE(ro.ok());
  auto client = RedisClient::Connect(*ro);
  EXPECT_TRUE(client.ok());
  std::string out;
  auto flatten = [&](const RedisReply& r, auto&& self) -> void {
    out += r.str;
    out += std::to_string(r.integer);
    out += '\n';
    for (const RedisReply& e : r.elements) self(e, self);
  };
  Result<RedisReply> keys = (*client)->Command({"KEYS", "*"});
  EXPECT_TRUE(keys.ok());
  EXPECT_GT(keys->elements.size(), 5u);
  for (const RedisReply& k : keys->elements) {
    out += "KEY " + k.str + "\n";
    std::string type = (*client)->Command({"TYPE", k.str})->str;
    std::vector<std::string> cmd;
    if (type == "hash") cmd = {"HGETALL", k.str};
    if (type == "string") cmd = {"GET", k.str};
    if (type == "set") cmd = {"SMEMBERS", k.str};
    if (type == "zset") cmd = {"ZRANGE", k.str, "0", "-1", "WITHSCORES"};
    if (type == "stream") cmd = {"XRANGE", k.str, "-", "+"};
    if (type == "list") cmd = {"LRANGE", k.str, "0", "-1"};
    EXPECT_FALSE(cmd.empty()) << type;
    if (cmd.empty()) continue;
    Result<RedisReply> v = (*client)->Command(cmd);
    EXPECT_TRUE(v.ok());
    if (v.ok()) flatten(*v, flatten);
  }
  return out;
}

TEST(PhiTest, NothingLeaksThroughAnswersStatusOrRedis) {
  auto redis = RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  FakeClock clock;
  auto queue = MakeRedisQueue(*redis, QueueOptions{}, &clock);
  ASSERT_NE(queue, nullptr);
  auto store = RedisSubmissionStore::Open(*RedisOptions::FromUrl(redis->url()),
                                          UniquePrefix());
  ASSERT_TRUE(store.ok());
  const std::string audit_key = "phi-test-audit-key-0123456789abcdef";
  AuditLogOptions ao;
  ao.redis = *RedisOptions::FromUrl(redis->url());
  auto audit = AuditLog::Open(ao, *Pseudonymizer::Create(audit_key));
  ASSERT_TRUE(audit.ok());
  SubmissionServiceOptions so;
  so.endpoints = {"ehr"};
  so.audit = audit->get();
  auto service = DefaultSubmissionService::Create(
      so, SharedValidationEnv().validator.get(), queue.get(), store->get(),
      &clock);
  ASSERT_TRUE(service.ok());
  ApiServices services;
  services.submissions = service->get();
  services.validator = SharedValidationEnv().validator.get();
  services.packages = SharedValidationEnv().packages.get();
  services.queue = queue.get();
  services.audit = audit->get();
  ApiOptions options;
  options.started = "2026-11-29T12:00:00Z";
  TestApi api(ApiRoutes(services, options));
  api.set_peer("203.0.113.5:40000", "phi-req");

  std::vector<HttpResponse> answers;
  auto post = [&](std::string target, std::string body, std::string type,
                  std::string key = "") {
    std::vector<std::pair<std::string, std::string>> h = {
        {"Content-Type", type}};
    if (!key.empty()) h.emplace_back("Idempotency-Key", key);
    answers.push_back(api.Call("POST", target, body, h));
    return answers.back();
  };

  // Lab JSON with the distinctive patient.
  std::string lab = SampleLabJson();
  lab = Replace(lab, "MRN-000123", "MRN-ZQ-4412987");
  lab = Replace(lab, "Jane Example", "Zebulon Quixotesque");
  lab = Replace(lab, "1980-04-12", "1961-02-23");
  lab = Replace(lab, "ACC-2024-0042", "ACC-ZQ-77120");
  lab = Replace(lab, "SP-77", "SPEC-ZQ-5501");
  EXPECT_EQ(post("/submissions", lab, "application/json", "ZQ-key").status,
            202);
  // Resent with the same key.
  EXPECT_EQ(post("/submissions", lab, "application/json", "ZQ-key").status,
            202);
  // VCF with the identifiers as parameters.
  EXPECT_EQ(post("/submissions?patient=urn:oid:1.2%7CMRN-ZQ-4412987"
                 "&accession=urn:oid:1.3%7CACC-ZQ-77120&specimen=SPEC-ZQ-5501",
                 SampleVcf(), "text/x-vcf")
                .status,
            202);
  // HL7 v2 with the patient in PID.
  std::string hl7 = SampleHl7();
  hl7 = Replace(hl7, "MRN12345", "MRN-ZQ-4412987");
  hl7 = Replace(hl7, "Doe^Jane^Q", "Quixotesque^Zebulon");
  hl7 = Replace(hl7, "19800215", "19610223");
  EXPECT_EQ(post("/submissions", hl7, "x-application/hl7-v2+er7").status, 202);

  // Rejected: a FHIR Bundle whose Patient has an impossible birth date and
  // whose lab JSON twin has a broken variant; a bad parameter value.
  Result<ConvertResult> c =
      (*service)->Convert({SubmissionFormat::kLabJson, lab, {}, "", ""});
  ASSERT_TRUE(c.ok() && c->bundle);
  std::string bundle = *fhir::WriteJson(*c->bundle);
  bundle = Replace(bundle, "\"birthDate\":\"1961-02-23\"",
                   "\"birthDate\":\"1961-02-30\"");
  HttpResponse bad_date = post("/fhir", bundle, "application/fhir+json");
  EXPECT_EQ(bad_date.status, 422) << bad_date.body;
  EXPECT_NE(bad_date.body.find("birthDate"), std::string::npos);
  post("/submissions?_format=xml",
       Replace(bundle, "\"type\":\"transaction\"", "\"type\":\"Zebulon\""),
       "application/fhir+json");
  EXPECT_EQ(answers.back().status, 422);
  std::string broken_lab = Replace(lab, "\"zygosity\"", "\"zygosityX\"");
  EXPECT_EQ(post("/submissions", broken_lab, "application/json").status, 422);
  EXPECT_EQ(post("/submissions?build=Zebulon", lab, "application/json").status,
            400);
  EXPECT_EQ(post("/fhir/$validate", bundle, "application/fhir+json").status,
            200);
  EXPECT_EQ(
      post("/fhir/"
           "$convert?patient=x%7CMRN-ZQ-4412987&accession=y%7CACC-ZQ-77120",
           Replace(SampleVcf(), "#CHROM", "#CHROMX"), "text/x-vcf")
          .status,
      422);

  for (const HttpResponse& a : answers) {
    ExpectNoPhi("answer " + std::to_string(a.status), a.body);
    for (const auto& [k, v] : a.headers) ExpectNoPhi("header " + k, v);
    std::string_view loc = a.Header("Location");
    if (!loc.empty()) {
      HttpResponse st = api.Call("GET", std::string(loc));
      EXPECT_EQ(st.status, 200);
      ExpectNoPhi("status", st.body);
    }
  }
  ExpectNoPhi("Redis", DumpRedis(*redis));

  // The payload does reach the queue (encrypted), so the check above was
  // not vacuous.
  std::vector<Job> jobs = *queue->Claim("ehr", "w", 10);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_NE(jobs[0].payload.find("Quixotesque"), std::string::npos);

  // Admin actions on a dead letter of that patient are audited too.
  ASSERT_TRUE(queue->DeadLetter(jobs[0], "rejected: HTTP 422", "").ok());
  const std::string dead = "/admin/dead-letters/ehr/" + jobs[0].id;
  HttpResponse shown = api.Call("GET", dead + "?payload=true");
  EXPECT_NE(shown.body.find("Quixotesque"), std::string::npos);
  EXPECT_EQ(api.Call("POST", dead + "/replay").status, 200);

  // The audit trail names the patient only by pseudonym.
  Result<std::string> trail =
      (*audit)->ReadNdjson(Timestamp::min(), Timestamp::max(), 1000);
  ASSERT_TRUE(trail.ok());
  ExpectNoPhi("audit trail", *trail);
  ExpectNoPhi("Redis after admin", DumpRedis(*redis));
  size_t events = std::count(trail->begin(), trail->end(), '\n');
  EXPECT_EQ(events, answers.size() - 2 + 2);  // not $validate, $convert
  const std::string pseudonym = Pseudonymizer::Create(audit_key)->Pseudonym(
      "urn:oid:1.2", "MRN-ZQ-4412987");
  EXPECT_NE(trail->find(pseudonym), std::string::npos);
}

}  // namespace
}  // namespace genogate::gateway

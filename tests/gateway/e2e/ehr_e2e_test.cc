// End-to-end tests against a real FHIR server: the HAPI FHIR JPA test EHR
// started by scripts/e2e-ehr.sh (GENOGATE_TEST_EHR_URL), a real redis-server
// for the queue, and the Beast HTTP client. Skipped only when
// GENOGATE_TEST_EHR_URL is unset; the stopped-endpoint test needs no EHR.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <thread>
#include <tuple>

#include "gateway/delivery/target.h"
#include "gateway/delivery/worker.h"
#include "gateway/http/test_peers.h"
#include "gateway/queue/queue_test_util.h"
#include "mappers/convert.h"
#include "testing/json_equal.h"
#include "testing/redis_server.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"

namespace genogate::gateway {
namespace {

using namespace std::chrono_literals;
using genogate::testing::RedisServer;

std::string EhrUrl() {
  const char* url = std::getenv("GENOGATE_TEST_EHR_URL");
  return url == nullptr ? "" : url;
}

#define REQUIRE_EHR()                                                \
  if (EhrUrl().empty()) {                                            \
    GTEST_SKIP() << "GENOGATE_TEST_EHR_URL is not set (run through " \
                    "scripts/e2e-ehr.sh)";                           \
  }

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

// A unique suffix per test run and call.
std::string RunId() {
  static int n = 0;
  return std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::system_clock::now().time_since_epoch() /
                        1ms) +
         "-" + std::to_string(++n);
}

// The IG's oncology report example with every identifier made unique for
// this run, an identifier added where a resource has none, and every entry
// a conditional create on its identifier (as genogate's bundles are).
struct TestBundle {
  std::string json;
  // Per entry: resource type and "system|value" of its identifier.
  std::vector<std::pair<std::string, std::string>> keys;
  std::string report_key;  // the DiagnosticReport's identifier
};

TestBundle MakeBundle(const std::string& run) {
  std::string text = genogate::testing::ReadTestFile(
      genogate::testing::GenomicsPackageDir() +
      "/example/Bundle-bundle-oncology-report-example.json");
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError());
  auto& a = doc.GetAllocator();
  TestBundle out;
  int i = 0;
  for (auto& entry : doc["entry"].GetArray()) {
    rapidjson::Value& res = entry["resource"];
    std::string type = res["resourceType"].GetString();
    if (!res.HasMember("identifier")) {
      rapidjson::Value ids(rapidjson::kArrayType);
      rapidjson::Value id(rapidjson::kObjectType);
      id.AddMember("system", "urn:genogate:e2e", a);
      id.AddMember("value", rapidjson::Value("entry-" + std::to_string(i), a),
                   a);
      ids.PushBack(id, a);
      res.AddMember("identifier", ids, a);
    }
    rapidjson::Value& first = res["identifier"][0];
    std::string value = std::string(first["value"].GetString()) + "-" + run;
    first["value"].SetString(value.c_str(), a);
    std::string key = std::string(first["system"].GetString()) + "|" + value;
    rapidjson::Value& req = entry["request"];
    if (req.HasMember("ifNoneExist")) req.RemoveMember("ifNoneExist");
    req.AddMember("ifNoneExist", rapidjson::Value("identifier=" + key, a), a);
    out.keys.emplace_back(type, key);
    if (type == "DiagnosticReport") out.report_key = key;
    ++i;
  }
  out.json = ToJson(doc);
  return out;
}

std::unique_ptr<DeliveryTarget> EhrTarget() {
  Result<Endpoint> e = EndpointFromUrl(EhrUrl());
  EXPECT_TRUE(e.ok());
  Result<std::unique_ptr<DeliveryTarget>> t = MakeTarget(*e);
  EXPECT_TRUE(t.ok()) << t.error().ToString();
  return std::move(t).value();
}

std::vector<std::string> SearchAll(const FhirClient& client,
                                   const std::string& type,
                                   const std::string& query) {
  std::vector<std::string> out;
  Status s = client.Search(type, query, [&](std::string_view json) {
    out.emplace_back(json);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return out;
}

// Replaces every "reference" string found in `refs` (urn:uuid -> Type/id).
void RewriteReferences(rapidjson::Value& v,
                       const std::map<std::string, std::string>& refs,
                       rapidjson::Document::AllocatorType& a) {
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) {
      if (std::string_view(m.name.GetString()) == "reference" &&
          m.value.IsString()) {
        auto it = refs.find(m.value.GetString());
        if (it != refs.end()) m.value.SetString(it->second.c_str(), a);
      } else {
        RewriteReferences(m.value, refs, a);
      }
    }
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) RewriteReferences(e, refs, a);
  }
}

class EhrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_EHR();
    target_ = EhrTarget();
    ASSERT_NE(target_, nullptr);
    client_ = &static_cast<FhirTarget*>(target_.get())->client();
  }
  std::unique_ptr<DeliveryTarget> target_;
  const FhirClient* client_ = nullptr;
};

TEST_F(EhrTest, EhrMetadataIsR4) {
  Result<std::string> m = client_->Metadata();
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_TRUE(target_->Probe().ok());
}

TEST_F(EhrTest, EhrPushThenPullBackBySearch) {
  TestBundle b = MakeBundle(RunId());
  TransactionOutcome out = target_->Deliver("job-1", b.json);
  ASSERT_TRUE(out.ok()) << out.error->ToString() << "\n"
                        << OperationOutcomeText(out.operation_outcome_json);
  ASSERT_EQ(out.resource_ids.size(), b.keys.size());

  // What the EHR should hold: each resource with its references resolved.
  rapidjson::Document sent;
  sent.Parse(b.json.c_str());
  std::map<std::string, std::string> refs;
  auto entries = sent["entry"].GetArray();
  for (size_t i = 0; i < entries.Size(); ++i) {
    refs[entries[i]["fullUrl"].GetString()] = out.resource_ids[i];
  }
  for (size_t i = 0; i < entries.Size(); ++i) {
    const auto& [type, key] = b.keys[i];
    std::vector<std::string> found =
        SearchAll(*client_, type, "identifier=" + key);
    ASSERT_EQ(found.size(), 1u) << type << " " << key;
    rapidjson::Document got;
    got.Parse(found[0].c_str());
    EXPECT_EQ(type + "/" + got["id"].GetString(), out.resource_ids[i]);
    got.RemoveMember("id");
    got.RemoveMember("meta");
    rapidjson::Value expected(entries[i]["resource"], sent.GetAllocator());
    RewriteReferences(expected, refs, sent.GetAllocator());
    expected.RemoveMember("id");
    expected.RemoveMember("meta");
    EXPECT_EQ(genogate::testing::JsonDifference(ToJson(expected), ToJson(got)),
              "")
        << type << " " << out.resource_ids[i];
  }
  // The report found through its patient, paging one result at a time.
  std::string patient;
  for (size_t i = 0; i < b.keys.size(); ++i) {
    if (b.keys[i].first == "Patient") patient = out.resource_ids[i];
  }
  std::vector<std::string> obs =
      SearchAll(*client_, "Observation", "subject=" + patient + "&_count=5");
  EXPECT_EQ(obs.size(), 12u);  // three pages
  Result<std::vector<std::string>> pats = client_->FindPatientsByIdentifier(
      b.keys[1].second.substr(0, b.keys[1].second.find('|')),
      b.keys[1].second.substr(b.keys[1].second.find('|') + 1));
  ASSERT_TRUE(pats.ok());
  EXPECT_EQ(*pats, std::vector<std::string>{patient});
}

TEST_F(EhrTest, EhrSameBundleTwiceLeavesOneReport) {
  TestBundle b = MakeBundle(RunId());
  TransactionOutcome first = target_->Deliver("job-1", b.json);
  ASSERT_TRUE(first.ok()) << first.error->ToString();
  TransactionOutcome second = target_->Deliver("job-1", b.json);
  ASSERT_TRUE(second.ok()) << second.error->ToString();
  EXPECT_EQ(first.resource_ids, second.resource_ids);
  EXPECT_EQ(
      SearchAll(*client_, "DiagnosticReport", "identifier=" + b.report_key)
          .size(),
      1u);
  for (const auto& [type, key] : b.keys) {
    EXPECT_EQ(SearchAll(*client_, type, "identifier=" + key).size(), 1u)
        << type;
  }
}

TEST_F(EhrTest, EhrInvalidBundleThroughQueueIsDeadLetteredWithOutcome) {
  auto redis = RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  auto queue = testing::MakeRedisQueue(*redis, {}, nullptr);
  ASSERT_NE(queue, nullptr);
  TestBundle good = MakeBundle(RunId());
  TestBundle bad = MakeBundle(RunId());
  rapidjson::Document doc;
  doc.Parse(bad.json.c_str());
  doc["entry"][3]["resource"]["status"].SetString("finished");
  bad.json = ToJson(doc);
  for (auto [id, b] : {std::pair{"good", &good}, std::pair{"bad", &bad}}) {
    Job job;
    job.id = id;
    job.report_key = b->report_key;
    job.payload = b->json;
    ASSERT_TRUE(queue->Enqueue("hapi", job).ok());
  }
  CircuitBreaker breaker({}, SystemClock::Get());
  RandomJitter jitter;
  WorkerOptions o;
  o.endpoint = "hapi";
  DeliveryWorker worker(o, queue.get(), target_.get(), &breaker,
                        SystemClock::Get(), &jitter);
  Result<int> n = worker.RunOnce();
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(*n, 2);
  Result<JobStatus> gs = queue->GetStatus("hapi", "good");
  ASSERT_TRUE(gs.ok());
  EXPECT_EQ(gs->state, JobState::kDelivered);
  EXPECT_EQ(gs->resource_ids.size(), good.keys.size());
  Result<JobStatus> bs = queue->GetStatus("hapi", "bad");
  ASSERT_TRUE(bs.ok());
  EXPECT_EQ(bs->state, JobState::kDeadLettered);
  Result<DeadLetter> dl = queue->GetDead(bs->dead_letter_id);
  ASSERT_TRUE(dl.ok());
  EXPECT_NE(dl->reason.find("HTTP 400"), std::string::npos) << dl->reason;
  EXPECT_EQ(dl->reason.find("finished"), std::string::npos) << dl->reason;
  EXPECT_EQ(dl->attempts, 1);
  rapidjson::Document oo;
  oo.Parse(dl->operation_outcome.c_str());
  ASSERT_FALSE(oo.HasParseError());
  EXPECT_STREQ(oo["resourceType"].GetString(), "OperationOutcome");
  EXPECT_STREQ(oo["issue"][0]["severity"].GetString(), "error");
  EXPECT_NE(OperationOutcomeText(dl->operation_outcome).find("finished"),
            std::string::npos);
  // Nothing of the bad bundle reached the EHR (transactions are atomic).
  EXPECT_TRUE(
      SearchAll(*client_, "DiagnosticReport", "identifier=" + bad.report_key)
          .empty());
}

// A peer in front of the EHR: forwards every request to it, or answers 503
// while `down` is set (the EHR as a retrying worker sees it).
class FlakyProxy {
 public:
  explicit FlakyProxy(const std::string& ehr_base) {
    Result<Url> u = ParseUrl(ehr_base);
    EXPECT_TRUE(u.ok());
    origin_ = u->Origin();
    Result<std::unique_ptr<HttpClient>> http = NewHttpClient({});
    EXPECT_TRUE(http.ok());
    http_ = std::move(http).value();
    server_ = std::make_unique<testing::TestHttpServer>(
        [this](const std::string& head, const std::string& body) {
          std::string line = head.substr(0, head.find("\r\n"));
          size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
          HttpRequest req;
          req.method = line.substr(0, sp1);
          req.url = origin_ + line.substr(sp1 + 1, sp2 - sp1 - 1);
          req.headers = {{"Content-Type", "application/fhir+json"},
                         {"Accept", "application/fhir+json"}};
          req.body = body;
          {
            std::lock_guard<std::mutex> lock(mu_);
            sent_.push_back(req.method + " " + (down_ ? "503" : "fwd") + " " +
                            Conclusion(body));
            if (down_) return testing::TestHttpServer::Response(503, "");
          }
          Result<HttpResponse> r = http_->Send(req);
          if (!r.ok()) return std::string();
          return testing::TestHttpServer::Response(
              r->status, r->body, "Content-Type: application/fhir+json\r\n");
        });
  }
  std::string url() const { return server_->url() + "/fhir"; }
  void SetDown(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    down_ = down;
  }
  // "METHOD 503|fwd <the report's conclusion>" per request.
  std::vector<std::string> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  static std::string Conclusion(const std::string& body) {
    size_t p = body.find("\"conclusion\":\"");
    if (p == std::string::npos) return "";
    p += 14;
    return body.substr(p, body.find('"', p) - p);
  }

 private:
  std::string origin_;
  std::unique_ptr<HttpClient> http_;
  std::mutex mu_;
  bool down_ = false;
  std::vector<std::string> sent_;
  std::unique_ptr<testing::TestHttpServer> server_;
};

// A report as a lab corrects it: the Patient a conditional create, the
// DiagnosticReport a conditional update (PUT Type?identifier), so whichever
// version arrives last is what the EHR shows.
std::string VersionedReport(const std::string& run, int version) {
  return R"({"resourceType":"Bundle","type":"transaction","entry":[
{"fullUrl":"urn:uuid:6f1e1c2a-0000-4000-8000-000000000001",
 "resource":{"resourceType":"Patient","identifier":[{"system":"urn:genogate:e2e","value":"pat-)" +
         run + R"("}]},
 "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:genogate:e2e|pat-)" +
         run + R"("}},
{"fullUrl":"urn:uuid:6f1e1c2a-0000-4000-8000-000000000002",
 "resource":{"resourceType":"DiagnosticReport","identifier":[{"system":"urn:genogate:e2e","value":"rep-)" +
         run + R"("}],"status":")" +
         (version == 1 ? "preliminary" : "amended") +
         R"(","code":{"coding":[{"system":"http://loinc.org","code":"51969-4"}]},
  "subject":{"reference":"urn:uuid:6f1e1c2a-0000-4000-8000-000000000001"},
  "conclusion":"version )" +
         std::to_string(version) + R"("},
 "request":{"method":"PUT","url":"DiagnosticReport?identifier=urn:genogate:e2e|rep-)" +
         run + R"("}}]})";
}

TEST_F(EhrTest, EhrNewerVersionIsNeverOverwrittenByAnOlderRetry) {
  auto redis = RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  FakeClock clock(std::chrono::system_clock::now());
  auto queue = testing::MakeRedisQueue(*redis, {}, &clock);
  ASSERT_NE(queue, nullptr);
  FlakyProxy proxy(EhrUrl());
  Result<Endpoint> e = EndpointFromUrl(proxy.url());
  ASSERT_TRUE(e.ok());
  Result<std::unique_ptr<DeliveryTarget>> target = MakeTarget(*e);
  ASSERT_TRUE(target.ok());
  const std::string run = RunId();
  const std::string report = "urn:genogate:e2e|rep-" + run;
  auto job = [&](int version) {
    Job j;
    j.id = "rep-" + run + "-v" + std::to_string(version);
    j.report_key = report;
    j.report_version = version;
    j.payload = VersionedReport(run, version);
    return j;
  };
  CircuitBreaker breaker({}, &clock);
  FixedJitter jitter(1.0);
  WorkerOptions o;
  o.endpoint = "ehr";
  o.backoff_base = 10s;
  DeliveryWorker worker(o, queue.get(), target->get(), &breaker, &clock,
                        &jitter);

  // v1 meets an EHR answering 503: it waits 10 s for a retry.
  proxy.SetDown(true);
  ASSERT_TRUE(queue->Enqueue("ehr", job(1)).ok());
  ASSERT_EQ(*worker.RunOnce(), 1);
  EXPECT_EQ(queue->GetStatus("ehr", job(1).id)->state, JobState::kRetrying);
  // The lab sends the amended v2; the EHR is back; v2 is delivered first.
  proxy.SetDown(false);
  Result<EnqueueResult> v2 = queue->Enqueue("ehr", job(2));
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->outcome, EnqueueOutcome::kEnqueued);
  ASSERT_EQ(*worker.RunOnce(), 1);
  EXPECT_EQ(queue->GetStatus("ehr", job(2).id)->state, JobState::kDelivered);
  // v1's retry falls due: it is superseded, never sent again.
  clock.Advance(11s);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(worker.RunOnce().ok());
  Result<JobStatus> s1 = queue->GetStatus("ehr", job(1).id);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->state, JobState::kSuperseded);
  EXPECT_NE(s1->last_reason.find("superseded by version 2"), std::string::npos)
      << s1->last_reason;
  EXPECT_EQ(proxy.sent(), (std::vector<std::string>{"POST 503 version 1",
                                                    "POST fwd version 2"}));
  Result<QueueStats> qs = queue->Stats("ehr");
  EXPECT_EQ(qs->ready + qs->in_flight + qs->delayed + qs->dead, 0);
  // An old version enqueued late (a lab resending) is recorded as
  // superseded at once.
  Job late = job(1);
  late.id += "-resent";
  Result<EnqueueResult> r = queue->Enqueue("ehr", late);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, EnqueueOutcome::kSuperseded);

  // The EHR holds one report, with v2's content.
  std::vector<std::string> found =
      SearchAll(*client_, "DiagnosticReport", "identifier=" + report);
  ASSERT_EQ(found.size(), 1u);
  rapidjson::Document d;
  d.Parse(found[0].c_str());
  EXPECT_STREQ(d["conclusion"].GetString(), "version 2");
  EXPECT_STREQ(d["status"].GetString(), "amended");
  // Control: had v1 been sent now, it would have overwritten v2 (the
  // bundle is a conditional update), which is what the queue prevented.
  TransactionOutcome old = target_->Deliver("control", job(1).payload);
  ASSERT_TRUE(old.ok()) << old.error->ToString();
  found = SearchAll(*client_, "DiagnosticReport", "identifier=" + report);
  ASSERT_EQ(found.size(), 1u);
  d.Parse(found[0].c_str());
  EXPECT_STREQ(d["conclusion"].GetString(), "version 1");
}

// Writes the builder's JSON entries as one transaction Bundle (as
// `genogate convert` does).
class BundleText : public mappers::JsonEntrySink {
 public:
  Status BeginEntry(const EntryHead& head) override {
    text_ += text_.empty() ? R"({"resourceType":"Bundle","type":"transaction",)"
                             R"("entry":[)"
                           : ",";
    request_ = R"(,"request":{"method":")" + std::string(head.method) +
               R"(","url":")" + std::string(head.url) + "\"";
    if (!head.if_none_exist.empty()) {
      request_ +=
          R"(,"ifNoneExist":")" + std::string(head.if_none_exist) + "\"";
    }
    request_ += "}}";
    text_ +=
        R"({"fullUrl":")" + std::string(head.full_url) + R"(","resource":)";
    return Status::Ok();
  }
  Status ResourceText(std::string_view json) override {
    text_ += json;
    return Status::Ok();
  }
  Status EndEntry() override {
    text_ += request_;
    return Status::Ok();
  }
  std::string Take() { return std::move(text_) + "]}"; }

 private:
  std::string text_, request_;
};

// The example lab result (examples/lab-result.json) with this run's patient
// and accession, mapped by genogate's builder; `edit` changes the lab JSON
// first. Returns the Bundle and the report's queue key.
std::pair<std::string, std::string> LabReportBundle(
    const std::string& run,
    const std::function<void(std::string&)>& edit = nullptr) {
  std::string lab = genogate::testing::ReadTestFile(
      genogate::testing::SourceDir() + "/examples/lab-result.json");
  auto replace = [&lab](const std::string& from, const std::string& to) {
    size_t p = lab.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    if (p != std::string::npos) lab.replace(p, from.size(), to);
  };
  replace("MRN-000123", "MRN-" + run);
  replace("ACC-2024-0042", "ACC-" + run);
  replace("SP-77", "SP-" + run);
  if (edit) edit(lab);
  mappers::ConvertOptions o;
  o.format = mappers::InputFormat::kLabJson;
  BundleText sink;
  Result<mappers::ConvertReport> r = mappers::ConvertBytesToJson(
      lab, o, genogate::testing::SharedValidationEnv().validator->schema(),
      &sink);
  EXPECT_TRUE(r.ok()) << r.error().message();
  if (!r.ok()) return {};
  EXPECT_TRUE(r->ok()) << r->issues.ToText();
  EXPECT_EQ(r->report_keys.size(), 1u);
  return {sink.Take(), r->report_keys.empty() ? "" : r->report_keys[0]};
}

// A lab sends a final report, then amends it (new status and conclusion, one
// variant reclassified): the EHR ends with one DiagnosticReport and one set
// of Observations, carrying the amended content (genogate's bundles update
// everything but the Patient), and an older version enqueued afterwards is
// superseded, never sent.
TEST_F(EhrTest, EhrAmendedReportReplacesTheFinalOne) {
  auto redis = RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  auto queue = testing::MakeRedisQueue(*redis, {}, nullptr);
  ASSERT_NE(queue, nullptr);
  const std::string run = RunId();
  std::string final_bundle, report_key, amended_bundle, amended_key;
  std::tie(final_bundle, report_key) = LabReportBundle(run);
  std::tie(amended_bundle, amended_key) =
      LabReportBundle(run, [](std::string& lab) {
        for (auto [from, to] :
             {std::pair{"\"status\": \"final\"", "\"status\": \"amended\""},
              std::pair{"One pathogenic BRCA1 variant identified.",
                        "Amended: BRCA2 variant reclassified."},
              std::pair{"{\"significance\": \"benign\"}",
                        "{\"significance\": \"likely-benign\"}"}}) {
          size_t p = lab.find(from);
          ASSERT_NE(p, std::string::npos) << from;
          lab.replace(p, std::string_view(from).size(), to);
        }
      });
  ASSERT_FALSE(final_bundle.empty());
  ASSERT_FALSE(amended_bundle.empty());
  ASSERT_EQ(report_key, amended_key);
  ASSERT_NE(final_bundle, amended_bundle);
  auto job = [&](int version, const std::string& payload) {
    Job j;
    j.id = "lab-" + run + "-v" + std::to_string(version);
    j.report_key = report_key;
    j.report_version = version;
    j.payload = payload;
    return j;
  };
  CircuitBreaker breaker({}, SystemClock::Get());
  RandomJitter jitter;
  WorkerOptions o;
  o.endpoint = "ehr";
  DeliveryWorker worker(o, queue.get(), target_.get(), &breaker,
                        SystemClock::Get(), &jitter);
  const std::string accession =
      "identifier=urn:oid:2.16.840.1.113883.3.999.2|ACC-" + run;
  auto reports = [&] {
    return SearchAll(*client_, "DiagnosticReport", accession);
  };
  auto observations = [&](const std::string& report_json) {
    rapidjson::Document d;
    d.Parse(report_json.c_str());
    std::string subject = d["subject"]["reference"].GetString();
    return SearchAll(*client_, "Observation", "subject=" + subject);
  };

  ASSERT_TRUE(queue->Enqueue("ehr", job(1, final_bundle)).ok());
  ASSERT_EQ(*worker.RunOnce(), 1);
  ASSERT_EQ(queue->GetStatus("ehr", job(1, "").id)->state,
            JobState::kDelivered);
  std::vector<std::string> found = reports();
  ASSERT_EQ(found.size(), 1u);
  rapidjson::Document d;
  d.Parse(found[0].c_str());
  EXPECT_STREQ(d["status"].GetString(), "final");
  const std::string report_id = d["id"].GetString();
  const size_t observation_count = observations(found[0]).size();
  EXPECT_GE(observation_count, 6u);  // 2 variants, 2 implications, 2 csq.

  ASSERT_TRUE(queue->Enqueue("ehr", job(2, amended_bundle)).ok());
  ASSERT_EQ(*worker.RunOnce(), 1);
  ASSERT_EQ(queue->GetStatus("ehr", job(2, "").id)->state,
            JobState::kDelivered);
  found = reports();
  ASSERT_EQ(found.size(), 1u);
  d.Parse(found[0].c_str());
  EXPECT_EQ(d["id"].GetString(), report_id);  // updated, not created anew
  EXPECT_STREQ(d["status"].GetString(), "amended");
  EXPECT_STREQ(d["conclusion"].GetString(),
               "Amended: BRCA2 variant reclassified.");
  std::vector<std::string> obs = observations(found[0]);
  EXPECT_EQ(obs.size(), observation_count);
  int likely_benign = 0, benign = 0;
  for (const std::string& ob : obs) {
    likely_benign += ob.find("\"Likely benign\"") != std::string::npos;
    benign += ob.find("\"Benign\"") != std::string::npos;
  }
  EXPECT_EQ(likely_benign, 1);
  EXPECT_EQ(benign, 0);
  EXPECT_EQ(SearchAll(*client_, "Patient",
                      "identifier=urn:oid:2.16.840.1.113883.3.999.1|MRN-" + run)
                .size(),
            1u);

  // The final version resent late is superseded, and the EHR keeps the
  // amended report.
  Job late = job(1, final_bundle);
  late.id += "-resent";
  Result<EnqueueResult> r = queue->Enqueue("ehr", late);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, EnqueueOutcome::kSuperseded);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(worker.RunOnce().ok());
  found = reports();
  ASSERT_EQ(found.size(), 1u);
  d.Parse(found[0].c_str());
  EXPECT_STREQ(d["status"].GetString(), "amended");
}

// Needs no EHR: an endpoint on a loopback port where nothing listens.
TEST(EhrStoppedEndpointTest, EhrRetriesWithBackoffAndOpensCircuit) {
  auto redis = RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  FakeClock clock;
  auto queue = testing::MakeRedisQueue(*redis, {}, &clock);
  ASSERT_NE(queue, nullptr);
  Result<Endpoint> e = EndpointFromUrl(
      "http://127.0.0.1:" + std::to_string(testing::FreePort()) + "/fhir");
  ASSERT_TRUE(e.ok());
  Result<std::unique_ptr<DeliveryTarget>> target = MakeTarget(*e);
  ASSERT_TRUE(target.ok());
  for (int i = 0; i < 3; ++i) {
    Job job;
    job.id = "job-" + std::to_string(i);
    job.report_key = job.id;
    job.payload = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\"}";
    ASSERT_TRUE(queue->Enqueue("down", job).ok());
  }
  CircuitBreakerOptions bo;
  bo.failure_threshold = 3;
  bo.cool_down = 60s;
  CircuitBreaker breaker(bo, &clock);
  FixedJitter jitter(1.0);  // the full back-off, to check it exactly
  WorkerOptions o;
  o.endpoint = "down";
  o.batch = 1;
  o.backoff_base = 1s;
  DeliveryWorker worker(o, queue.get(), target->get(), &breaker, &clock,
                        &jitter);
  // job-0 fails: retry in 1 s; then 2 s after its second attempt.
  ASSERT_EQ(*worker.RunOnce(), 1);
  Result<JobStatus> s = queue->GetStatus("down", "job-0");
  EXPECT_EQ(s->state, JobState::kRetrying);
  EXPECT_EQ(s->attempts, 1);
  EXPECT_EQ(s->next_attempt, clock.Now() + 1s);
  EXPECT_NE(s->last_reason.find("unavailable"), std::string::npos);
  ASSERT_EQ(*worker.RunOnce(), 1);  // job-1
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);
  clock.Advance(1s);
  ASSERT_EQ(*worker.RunOnce(), 1);  // job-2 (or job-0 again): third failure
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kOpen);
  // Open: retries fall due but nothing is claimed or sent.
  clock.Advance(10s);
  EXPECT_EQ(*worker.RunOnce(), 0);
  EXPECT_EQ(*worker.RunOnce(), 0);
  EXPECT_EQ(worker.stats().skipped_open, 2);
  Result<QueueStats> st = queue->Stats("down");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ready + st->delayed, 3);
  EXPECT_EQ(st->in_flight, 0);
  // After the cool-down the probe (GET metadata) fails too: open again.
  clock.Advance(60s);
  EXPECT_EQ(*worker.RunOnce(), 0);
  EXPECT_EQ(worker.stats().probes, 1);
  EXPECT_EQ(breaker.times_opened(), 2);
  // The attempts so far: each job's status says retrying, none delivered.
  int attempts = 0;
  for (int i = 0; i < 3; ++i) {
    Result<JobStatus> js = queue->GetStatus("down", "job-" + std::to_string(i));
    ASSERT_TRUE(js.ok());
    EXPECT_NE(js->state, JobState::kDelivered);
    attempts += js->attempts;
  }
  EXPECT_EQ(attempts, 3);
}

}  // namespace
}  // namespace genogate::gateway

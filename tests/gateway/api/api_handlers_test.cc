// The API route handlers over MemoryQueue + MemorySubmissionStore and the
// real FHIR definitions: every route, JSON and XML, every error path.
#include <gtest/gtest.h>

#include "fhir/codec.h"
#include "gateway/api/api_routes.h"
#include "gateway/api/api_test_util.h"
#include "gateway/api/endpoint_checker.h"
#include "gateway/queue/memory_queue.h"
#include "gateway/submission/submission_service.h"
#include "gateway/submission/submission_test_util.h"

namespace genogate::gateway {
namespace {

using testing::MalformedVcf;
using testing::ParseJsonBody;
using testing::PayloadErrors;
using testing::SampleHl7;
using testing::SampleLabJson;
using testing::SampleVcf;
using testing::SharedValidationEnv;
using testing::TestApi;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kVcfQuery =
    "?patient=urn:oid:1.2.3%7CP-100&accession=urn:oid:1.2.4%7CACC-100&lab=Lab";

// FHIR XML with this root element (after an optional XML declaration).
bool IsXml(const std::string& body, const std::string& root) {
  size_t start = body.starts_with("<?xml") ? body.find("?>") + 2 : 0;
  while (start < body.size() && (body[start] == '\n' || body[start] == ' ')) {
    ++start;
  }
  return body.compare(start, root.size() + 1, "<" + root) == 0 &&
         body.find("xmlns=\"http://hl7.org/fhir\"") != std::string::npos;
}

class FakeChecker final : public EndpointChecker {
 public:
  FakeChecker() {
    infos_ = {{"ehr-a", "https://ehr.example.org/fhir", "fhir"},
              {"outbox", "file:///var/outbox", "file"}};
  }
  const std::vector<EndpointInfo>& endpoints() const override { return infos_; }
  Result<EndpointCheckResult> Check(std::string_view name) override {
    ++checks;
    EndpointCheckResult r;
    r.ok = name == "outbox";
    if (!r.ok) r.error = "unavailable: connection refused";
    return r;
  }
  int checks = 0;

 private:
  std::vector<EndpointInfo> infos_;
};

class ApiHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SubmissionServiceOptions o;
    o.endpoints = {"ehr-a", "outbox"};
    auto s = DefaultSubmissionService::Create(
        o, SharedValidationEnv().validator.get(), &queue_, &store_, &clock_,
        &ids_);
    ASSERT_TRUE(s.ok());
    service_ = std::move(s).value();
    MakeApi();
  }

  void MakeApi() {
    ApiServices services;
    services.submissions = service_.get();
    services.validator = SharedValidationEnv().validator.get();
    services.packages = SharedValidationEnv().packages.get();
    services.queue = &queue_;
    services.endpoints = &checker_;
    ApiOptions options;
    options.started = "2026-11-29T12:00:00Z";
    options.software_version = "0.1.0";
    api_ = std::make_unique<TestApi>(ApiRoutes(services, options));
  }

  HttpResponse Post(std::string target, std::string body,
                    std::string content_type, Headers extra = {}) {
    extra.emplace_back("Content-Type", std::move(content_type));
    return api_->Call("POST", std::move(target), std::move(body),
                      std::move(extra));
  }

  std::string FhirBundleJson() {
    Result<ConvertResult> c = service_->Convert(
        {SubmissionFormat::kLabJson, SampleLabJson(), {}, "", ""});
    EXPECT_TRUE(c.ok() && c->bundle);
    return *fhir::WriteJson(*c->bundle);
  }

  // The first issue's details.text / expression of an OperationOutcome.
  static std::string Issues(const HttpResponse& r) {
    rapidjson::Document d = ParseJsonBody(r.body);
    if (d.HasParseError() || !d.HasMember("issue")) return "<not an OO>";
    std::string out;
    for (const auto& i : d["issue"].GetArray()) {
      out += i["details"]["text"].GetString();
      if (i.HasMember("expression")) {
        out += std::string(" @") + i["expression"][0].GetString();
      }
      out += "\n";
    }
    return out;
  }

  int64_t Ready(const std::string& endpoint) {
    return queue_.Stats(endpoint)->ready;
  }

  FakeClock clock_;
  SequentialIdGenerator ids_{"sub-"};
  MemoryQueue queue_{QueueOptions{}, &clock_};
  MemorySubmissionStore store_;
  FakeChecker checker_;
  std::unique_ptr<DefaultSubmissionService> service_;
  std::unique_ptr<TestApi> api_;
};

TEST_F(ApiHandlersTest, EveryContentTypeIsAcceptedWithLocation) {
  const std::string fhir_json = FhirBundleJson();
  Result<fhir::Document> doc =
      fhir::ParseJson(fhir_json, &SharedValidationEnv().validator->schema());
  ASSERT_TRUE(doc.ok());
  const std::string fhir_xml = *fhir::WriteXml(doc->root);
  struct Case {
    std::string query, body, type;
  };
  for (const Case& c : std::vector<Case>{
           {std::string(kVcfQuery), SampleVcf(), "text/x-vcf"},
           {"", SampleHl7(), "x-application/hl7-v2+er7"},
           {"", SampleLabJson(), "application/json; charset=utf-8"},
           {"", fhir_json, "application/fhir+json"},
           {"", fhir_xml, "Application/FHIR+XML"}}) {
    SCOPED_TRACE(c.type);
    HttpResponse r = Post("/submissions" + c.query, c.body, c.type);
    ASSERT_EQ(r.status, 202) << r.body;
    rapidjson::Document d = ParseJsonBody(r.body);
    ASSERT_FALSE(d.HasParseError());
    std::string id = d["id"].GetString();
    EXPECT_EQ(r.Header("Location"), "/submissions/" + id);
    EXPECT_FALSE(d["duplicate"].GetBool());
    EXPECT_EQ(d["endpoints"].Size(), 2u);

    HttpResponse st = api_->Call("GET", std::string(r.Header("Location")));
    ASSERT_EQ(st.status, 200) << st.body;
    EXPECT_EQ(st.Header("Content-Type"), "application/json; charset=utf-8");
    rapidjson::Document s = ParseJsonBody(st.body);
    EXPECT_EQ(std::string(s["state"].GetString()), "queued");
    EXPECT_EQ(s["stages"].Size(), 4u);
    EXPECT_EQ(std::string(s["stages"][3]["stage"].GetString()), "queued");
    EXPECT_EQ(std::string(s["endpoints"][0]["state"].GetString()), "queued");
  }
  EXPECT_EQ(Ready("ehr-a"), 5);
  // The FHIR JSON and XML Bundles are the same report: the queue hands
  // out the second after the first is done.
  size_t seen = 0;
  for (int round = 0; round < 3 && seen < 5; ++round) {
    Result<std::vector<Job>> jobs = queue_.Claim("outbox", "t", 10);
    ASSERT_TRUE(jobs.ok());
    for (const Job& j : *jobs) {
      EXPECT_EQ(PayloadErrors(j.payload), "") << j.id;
      ASSERT_TRUE(queue_.Ack(j).ok());
    }
    seen += jobs->size();
    clock_.Advance(std::chrono::seconds(3));
    ASSERT_TRUE(queue_.PromoteDue(clock_.Now()).ok());
  }
  EXPECT_EQ(seen, 5u);
}

TEST_F(ApiHandlersTest, AcceptXmlGivesAnOperationOutcome) {
  HttpResponse r =
      Post("/submissions?_format=xml", SampleLabJson(), "application/json");
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(r.Header("Content-Type"), "application/fhir+xml; charset=utf-8");
  EXPECT_TRUE(IsXml(r.body, "OperationOutcome")) << r.body;
  EXPECT_NE(r.body.find("accepted as submission sub-1"), std::string::npos);
  EXPECT_EQ(r.Header("Location"), "/submissions/sub-1");
}

TEST_F(ApiHandlersTest, IdempotencyKeyHeader) {
  Headers key = {{"Idempotency-Key", "batch-1"}};
  HttpResponse a =
      Post("/submissions", SampleLabJson(), "application/json", key);
  HttpResponse b =
      Post("/submissions", SampleLabJson(), "application/json", key);
  ASSERT_EQ(a.status, 202);
  ASSERT_EQ(b.status, 202);
  EXPECT_EQ(a.Header("Location"), b.Header("Location"));
  EXPECT_TRUE(ParseJsonBody(b.body)["duplicate"].GetBool());
  EXPECT_EQ(Ready("ehr-a"), 1);
  HttpResponse c =
      Post("/submissions", SampleHl7(), "x-application/hl7-v2+er7", key);
  EXPECT_EQ(c.status, 409) << c.body;
  EXPECT_EQ(Ready("ehr-a"), 1);
}

TEST_F(ApiHandlersTest, UnsupportedMediaTypeIs415InTheNegotiatedFormat) {
  HttpResponse r = Post("/submissions", "x", "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_NE(Issues(r).find("Content-Type must be"), std::string::npos);
  r = Post("/submissions", "x", "text/csv",
           {{"Accept", "application/fhir+xml"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(IsXml(r.body, "OperationOutcome")) << r.body;
  EXPECT_EQ(Post("/fhir", SampleVcf(), "text/x-vcf").status, 415);
  EXPECT_EQ(
      Post("/fhir/$convert", FhirBundleJson(), "application/fhir+json").status,
      415);
  EXPECT_EQ(Ready("ehr-a"), 0);
}

TEST_F(ApiHandlersTest, BadParametersAre400) {
  HttpResponse r =
      Post("/submissions?acession=x", SampleLabJson(), "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Issues(r).find("unknown parameter 'acession'"), std::string::npos);
  r = Post("/submissions", SampleVcf(), "text/x-vcf");  // no patient
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Issues(r).find("patient"), std::string::npos);
  r = Post("/submissions?_format=yaml", SampleLabJson(), "application/json");
  EXPECT_EQ(r.status, 400);
  r = Post("/submissions?build=hg19", SampleLabJson(), "application/json",
           {{"Accept", "application/xml"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(IsXml(r.body, "OperationOutcome"));
  EXPECT_EQ(Ready("ehr-a"), 0);
}

TEST_F(ApiHandlersTest, MappingAndValidationErrorsAre422WithTheirLocation) {
  uint32_t line = 0;
  std::string vcf = MalformedVcf(&line);
  HttpResponse r =
      Post("/submissions" + std::string(kVcfQuery), vcf, "text/x-vcf");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(Issues(r).find("line " + std::to_string(line) + ", column 2 (POS)"),
            std::string::npos);
  EXPECT_NE(r.body.find("operationoutcome-issue-line\",\"valueInteger\":" +
                        std::to_string(line)),
            std::string::npos);
  // The same in XML.
  r = Post("/submissions" + std::string(kVcfQuery) + "&_format=xml", vcf,
           "text/x-vcf");
  ASSERT_EQ(r.status, 422);
  EXPECT_NE(
      r.body.find("<valueInteger value=\"" + std::to_string(line) + "\"/>"),
      std::string::npos)
      << r.body;

  // HL7 v2: the HL7 location.
  std::string hl7 = SampleHl7();
  size_t at = hl7.find("OBX|9|NR|");
  ASSERT_NE(at, std::string::npos);
  hl7.replace(at, 9, "OBX|9|NM|");
  size_t value = hl7.find("43057062^43057062");
  ASSERT_NE(value, std::string::npos);
  r = Post("/submissions", hl7, "x-application/hl7-v2+er7");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(Issues(r).find("OBX"), std::string::npos) << Issues(r);

  // Lab JSON: the JSON pointer.
  std::string lab = SampleLabJson();
  at = lab.find("\"accession\"");
  lab.replace(at, 11, "\"accessionX\"");
  r = Post("/submissions", lab, "application/json");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(Issues(r).find("/report/accessionX"), std::string::npos)
      << Issues(r);

  // FHIR: the FHIRPath.
  std::string bundle = FhirBundleJson();
  at = bundle.find("\"status\":\"final\"");
  bundle.replace(at, 16, "\"status\":\"bogus\"");
  r = Post("/fhir", bundle, "application/fhir+json");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(Issues(r).find(".status"), std::string::npos) << Issues(r);
  EXPECT_NE(Issues(r).find("@Bundle.entry["), std::string::npos);
  EXPECT_EQ(Ready("ehr-a"), 0);
}

TEST_F(ApiHandlersTest, UnavailableStoreIs503WithRetryAfter) {
  store_.SetUnavailable(true);
  HttpResponse r = Post("/submissions", SampleLabJson(), "application/json");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("Retry-After"), "5");
  EXPECT_EQ(api_->Call("GET", "/submissions/sub-1").status, 503);
  store_.SetUnavailable(false);
  EXPECT_EQ(Ready("ehr-a"), 0);
}

TEST_F(ApiHandlersTest, UnknownSubmissionIs404) {
  HttpResponse r = api_->Call("GET", "/submissions/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(Issues(r).find("no such submission"), std::string::npos);
  r = api_->Call("GET", "/submissions/nope?_format=xml");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(IsXml(r.body, "OperationOutcome"));
  EXPECT_EQ(api_->Call("GET", "/submissions/a%20b").status, 404);
  // Wrong method on a known path (answered by the router).
  EXPECT_EQ(api_->Call("PUT", "/submissions/x").status, 405);
}

TEST_F(ApiHandlersTest, LabsSeeOnlyTheirOwnSubmissions) {
  HttpResponse r =
      api_->Call("POST", "/submissions", SampleLabJson(),
                 {{"Content-Type", "application/json"}}, "lab-a", {"lab"});
  ASSERT_EQ(r.status, 202);
  std::string loc(r.Header("Location"));
  EXPECT_EQ(api_->Call("GET", loc, "", {}, "lab-a", {"lab"}).status, 200);
  // Another lab gets exactly the answer for an unknown id (no probing).
  HttpResponse other = api_->Call("GET", loc, "", {}, "lab-b", {"lab"});
  HttpResponse unknown =
      api_->Call("GET", "/submissions/sub-999", "", {}, "lab-b", {"lab"});
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, unknown.body);
  EXPECT_EQ(api_->Call("GET", loc, "", {}, "ops", {"admin"}).status, 200);
  // Neither an auditor nor a registry reader reads submissions.
  EXPECT_EQ(api_->Call("GET", loc, "", {}, "dpo", {"auditor"}).status, 403);
  EXPECT_EQ(api_->Call("GET", loc, "", {}, "reg", {"registry"}).status, 403);
  // Admin routes need the admin role.
  HttpResponse denied =
      api_->Call("GET", "/admin/queues", "", {}, "lab-a", {"lab"});
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(Issues(denied).find("'admin' role"), std::string::npos);
  EXPECT_EQ(api_->Call("GET", "/admin/queues", "", {}, "ops", {"admin"}).status,
            200);
}

// Deny by default: a request that reached a handler without roles (no
// AccessControl in front, or a route it left open) is refused.
TEST_F(ApiHandlersTest, RequestsWithoutRolesAreRefused) {
  const Headers json = {{"Content-Type", "application/json"}};
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{
           {"POST", "/submissions"},
           {"POST", "/fhir"},
           {"POST", "/fhir/$convert"},
           {"POST", "/fhir/$validate"},
           {"GET", "/submissions/sub-1"},
           {"GET", "/admin/queues"},
           {"GET", "/admin/endpoints"},
           {"GET", "/admin/dead-letters"}}) {
    HttpResponse r = api_->Call(method, target, SampleLabJson(), json, "", {});
    EXPECT_EQ(r.status, 403) << method << " " << target;
  }
  EXPECT_EQ(api_->Call("GET", "/fhir/metadata", "", {}, "", {}).status, 200);
  EXPECT_TRUE(queue_.AllStats()->empty());
}

TEST_F(ApiHandlersTest, ALabSubmitsOnlyUnderItsOwnLabId) {
  const Headers json = {{"Content-Type", "application/json"}};
  HttpResponse r = api_->Call("POST", "/submissions?lab=lab-b", SampleLabJson(),
                              json, "lab-a", {"lab"});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(Issues(r).find("own lab id"), std::string::npos);
  r = api_->Call("POST", "/fhir/$convert?lab=lab-b", SampleLabJson(), json,
                 "lab-a", {"lab"});
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(queue_.AllStats()->empty());
  // An admin does not submit; an auditor neither.
  EXPECT_EQ(api_->Call("POST", "/submissions", SampleLabJson(), json, "ops",
                       {"admin"})
                .status,
            403);
  EXPECT_EQ(api_->Call("POST", "/submissions", SampleLabJson(), json, "dpo",
                       {"auditor"})
                .status,
            403);
  r = api_->Call("POST", "/submissions?lab=lab-a", SampleLabJson(), json,
                 "lab-a", {"lab"});
  ASSERT_EQ(r.status, 202) << r.body;
  Result<SubmissionRecord> rec = store_.Get("sub-1");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->lab, "lab-a");
  EXPECT_EQ(rec->caller, "lab-a");
}

TEST_F(ApiHandlersTest, AFhirBundleNamingAnotherLabAsPerformerIsRefused) {
  const std::string bundle = FhirBundleJson();
  const std::string performer = "\"performer\":[{";
  ASSERT_NE(bundle.find(performer), std::string::npos);
  auto with_performer_id = [&](const std::string& value) {
    std::string b = bundle;
    b.replace(b.find(performer), performer.size(),
              performer +
                  "\"identifier\":{\"system\":\"urn:oid:2.16.840.1."
                  "113883.4.7\",\"value\":\"" +
                  value + "\"},");
    return b;
  };
  const Headers fhir = {{"Content-Type", "application/fhir+json"}};
  HttpResponse r = api_->Call("POST", "/fhir", with_performer_id("lab-b"), fhir,
                              "lab-a", {"lab"});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(Issues(r).find("another organisation"), std::string::npos);
  r = api_->Call("POST", "/submissions", with_performer_id("lab-b"), fhir,
                 "lab-a", {"lab"});
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(queue_.AllStats()->empty());
  // Its own lab id as the performer's identifier, or no identifier at all.
  r = api_->Call("POST", "/fhir", with_performer_id("lab-a"), fhir, "lab-a",
                 {"lab"});
  EXPECT_EQ(r.status, 202) << r.body;
  r = api_->Call("POST", "/fhir", bundle, fhir, "lab-a", {"lab"});
  EXPECT_EQ(r.status, 202) << r.body;
  // The local mode (no lab id) is not checked.
  r = api_->Call("POST", "/fhir", with_performer_id("lab-b"), fhir);
  EXPECT_EQ(r.status, 202) << r.body;
}

TEST_F(ApiHandlersTest, MetadataIsAValidCapabilityStatementInBothFormats) {
  HttpResponse r = api_->Call("GET", "/fhir/metadata");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "application/fhir+json; charset=utf-8");
  EXPECT_EQ(PayloadErrors(r.body), "");
  EXPECT_NE(r.body.find("http://hl7.org/fhir/uv/genomics-reporting/"
                        "StructureDefinition/variant"),
            std::string::npos);
  HttpResponse x = api_->Call(
      "GET", "/fhir/metadata", "",
      {{"Accept", "application/fhir+xml;q=0.9, application/fhir+json;q=0.5"}});
  ASSERT_EQ(x.status, 200);
  EXPECT_TRUE(IsXml(x.body, "CapabilityStatement")) << x.body.substr(0, 80);
  EXPECT_EQ(PayloadErrors(x.body), "");
  EXPECT_EQ(api_->Call("GET", "/fhir/metadata?_format=application/fhir+xml")
                .Header("Content-Type"),
            "application/fhir+xml; charset=utf-8");
}

TEST_F(ApiHandlersTest, ValidateResourceOrParameters) {
  const std::string patient =
      R"({"resourceType":"Patient","gender":"unknown-gender"})";
  HttpResponse r = Post("/fhir/$validate", patient, "application/fhir+json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(Issues(r).find("@Patient.gender"), std::string::npos) << Issues(r);

  const std::string ok = R"({"resourceType":"Patient","gender":"female"})";
  r = Post("/fhir/Patient/$validate", ok, "application/fhir+json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("\"severity\":\"error\""), std::string::npos) << r.body;

  // A profile the resource does not meet, as a parameter.
  const std::string variant =
      "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant";
  r = Post("/fhir/$validate?profile=" + variant, ok, "application/fhir+json");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"severity\":\"error\""), std::string::npos);

  // Parameters with resource and profile, in XML, answered in XML.
  const std::string params =
      "<Parameters xmlns=\"http://hl7.org/fhir\"><parameter><name "
      "value=\"resource\"/><resource><Patient><gender "
      "value=\"female\"/></Patient></resource></parameter><parameter><name "
      "value=\"profile\"/><valueUri value=\"" +
      variant + "\"/></parameter></Parameters>";
  r = Post("/fhir/$validate", params, "application/fhir+xml",
           {{"Accept", "application/fhir+xml"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(IsXml(r.body, "OperationOutcome"));
  EXPECT_NE(r.body.find("<severity value=\"error\"/>"), std::string::npos);

  // Errors: wrong type in the path, unknown type, not FHIR, no resource.
  EXPECT_EQ(
      Post("/fhir/Observation/$validate", ok, "application/fhir+json").status,
      400);
  EXPECT_EQ(
      Post("/fhir/Nonsense/$validate", ok, "application/fhir+json").status,
      404);
  EXPECT_EQ(
      Post("/fhir/$validate", "{not json", "application/fhir+json").status,
      400);
  EXPECT_EQ(Post("/fhir/$validate", R"({"resourceType":"Parameters"})",
                 "application/fhir+json")
                .status,
            400);
}

TEST_F(ApiHandlersTest, ConvertReturnsTheBundleWithoutQueueing) {
  HttpResponse r = Post("/fhir/$convert" + std::string(kVcfQuery), SampleVcf(),
                        "text/x-vcf");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(PayloadErrors(r.body), "");
  EXPECT_NE(r.body.find("\"type\":\"transaction\""), std::string::npos);
  r = Post("/fhir/$convert?_format=xml", SampleHl7(),
           "x-application/hl7-v2+er7");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(IsXml(r.body, "Bundle")) << r.body.substr(0, 80);
  EXPECT_EQ(PayloadErrors(r.body), "");
  uint32_t line = 0;
  r = Post("/fhir/$convert" + std::string(kVcfQuery), MalformedVcf(&line),
           "text/x-vcf");
  EXPECT_EQ(r.status, 422);
  EXPECT_TRUE(queue_.AllStats()->empty());
}

// The performer as an Organization entry of the Bundle (by fullUrl).
TEST_F(ApiHandlersTest, APerformerOrganizationInTheBundleMustBeTheCallersLab) {
  const std::string bundle = FhirBundleJson();
  const std::string entries = "\"entry\":[";
  const std::string performer = "\"performer\":[{";
  ASSERT_NE(bundle.find(entries), std::string::npos);
  ASSERT_NE(bundle.find(performer), std::string::npos);
  auto with_org = [&](const std::string& ids) {
    std::string b = bundle;
    b.replace(b.find(performer), performer.size(),
              performer +
                  "\"reference\":\"urn:uuid:0b9c7a51-7e1f-4c1e-9d3c-"
                  "0c6f5f0a1b2c\",");
    b.replace(b.find(entries), entries.size(),
              entries +
                  "{\"fullUrl\":\"urn:uuid:0b9c7a51-7e1f-4c1e-9d3c-"
                  "0c6f5f0a1b2c\",\"resource\":{\"resourceType\":"
                  "\"Organization\",\"identifier\":[" +
                  ids +
                  "],\"name\":\"A lab\"},\"request\":{\"method\":"
                  "\"POST\",\"url\":\"Organization\"}},");
    return b;
  };
  const std::string clia = "{\"system\":\"urn:clia\",\"value\":\"05D0000001\"}";
  const Headers fhir = {{"Content-Type", "application/fhir+json"}};
  HttpResponse r =
      api_->Call("POST", "/fhir", with_org(clia), fhir, "lab-a", {"lab"});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_TRUE(queue_.AllStats()->empty());
  // One of its identifiers is the caller's lab id: accepted.
  r = api_->Call("POST", "/fhir",
                 with_org(clia + ",{\"system\":\"urn:genogate:lab\","
                                 "\"value\":\"lab-a\"}"),
                 fhir, "lab-a", {"lab"});
  EXPECT_EQ(r.status, 202) << r.body;
}

// A lab's reports are ordered only against its own: another lab sending
// the same accession with an older version is not superseded by it (and a
// newer one would not supersede it).
TEST_F(ApiHandlersTest, ReportOrderingIsScopedToTheLab) {
  const Headers json = {{"Content-Type", "application/json"}};
  auto submit = [&](const std::string& lab, int version) {
    HttpResponse r =
        api_->Call("POST", "/submissions?version=" + std::to_string(version),
                   SampleLabJson(), json, lab, {"lab"});
    EXPECT_EQ(r.status, 202) << r.body;
    HttpResponse st = api_->Call("GET", std::string(r.Header("Location")), "",
                                 {}, lab, {"lab"});
    return std::string(ParseJsonBody(st.body)["state"].GetString());
  };
  EXPECT_EQ(submit("lab-a", 5), "queued");
  EXPECT_EQ(submit("lab-b", 1), "queued");
  // Within one lab an older version is superseded at once.
  EXPECT_EQ(submit("lab-a", 4), "superseded");
}

TEST_F(ApiHandlersTest, TransactionPostedToFhirBaseIsASubmission) {
  HttpResponse r = Post("/fhir", FhirBundleJson(), "application/fhir+json");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.Header("Location"), "/submissions/sub-1");
  EXPECT_EQ(r.Header("Content-Type"), "application/fhir+json; charset=utf-8");
  EXPECT_NE(Issues(r).find("accepted as submission sub-1"), std::string::npos);
  EXPECT_EQ(Ready("outbox"), 1);
  r = Post("/fhir?patient=a%7Cb", FhirBundleJson(), "application/fhir+json");
  EXPECT_EQ(r.status, 400);
}

TEST_F(ApiHandlersTest, AdminEndpointsQueuesAndDeadLetters) {
  HttpResponse r = api_->Call("GET", "/admin/endpoints");
  ASSERT_EQ(r.status, 200);
  rapidjson::Document d = ParseJsonBody(r.body);
  ASSERT_EQ(d["endpoints"].Size(), 2u);
  EXPECT_FALSE(d["endpoints"][0].HasMember("check"));
  EXPECT_EQ(checker_.checks, 0);
  r = api_->Call("GET", "/admin/endpoints?check=true");
  d = ParseJsonBody(r.body);
  EXPECT_FALSE(d["endpoints"][0]["check"]["ok"].GetBool());
  EXPECT_TRUE(d["endpoints"][1]["check"]["ok"].GetBool());
  EXPECT_EQ(checker_.checks, 2);
  EXPECT_EQ(api_->Call("GET", "/admin/endpoints?check=perhaps").status, 400);

  ASSERT_EQ(Post("/submissions", SampleLabJson(), "application/json").status,
            202);
  ASSERT_EQ(
      Post("/submissions", SampleHl7(), "x-application/hl7-v2+er7").status,
      202);
  r = api_->Call("GET", "/admin/queues");
  d = ParseJsonBody(r.body);
  ASSERT_EQ(d["queues"].Size(), 2u);
  EXPECT_EQ(std::string(d["queues"][0]["endpoint"].GetString()), "ehr-a");
  EXPECT_EQ(d["queues"][0]["ready"].GetInt64(), 2);

  // Dead-letter sub-1 on ehr-a.
  std::vector<Job> jobs = *queue_.Claim("ehr-a", "w", 10);
  ASSERT_EQ(jobs.size(), 2u);
  ASSERT_TRUE(queue_
                  .DeadLetter(jobs[0], "rejected: HTTP 400",
                              R"({"resourceType":"OperationOutcome"})")
                  .ok());
  r = api_->Call("GET", "/admin/dead-letters?endpoint=ehr-a");
  ASSERT_EQ(r.status, 200);
  d = ParseJsonBody(r.body);
  ASSERT_EQ(d["deadLetters"].Size(), 1u);
  std::string id = d["deadLetters"][0]["id"].GetString();
  EXPECT_EQ(id, "ehr-a/" + jobs[0].id);
  EXPECT_FALSE(d["deadLetters"][0].HasMember("payload"));
  EXPECT_EQ(ParseJsonBody(
                api_->Call("GET", "/admin/dead-letters").body)["deadLetters"]
                .Size(),
            1u);

  r = api_->Call("GET", "/admin/dead-letters/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  d = ParseJsonBody(r.body);
  EXPECT_EQ(std::string(d["reason"].GetString()), "rejected: HTTP 400");
  EXPECT_FALSE(d.HasMember("payload"));
  r = api_->Call("GET",
                 "/admin/dead-letters/ehr-a%2F" + jobs[0].id + "?payload=true");
  ASSERT_EQ(r.status, 200);
  d = ParseJsonBody(r.body);
  EXPECT_EQ(std::string(d["payload"]["resourceType"].GetString()), "Bundle");
  EXPECT_EQ(std::string(d["operationOutcome"]["resourceType"].GetString()),
            "OperationOutcome");

  // The submission's status says so.
  d = ParseJsonBody(api_->Call("GET", "/submissions/" + jobs[0].id).body);
  EXPECT_EQ(std::string(d["state"].GetString()), "dead-lettered");
  EXPECT_EQ(std::string(d["endpoints"][0]["deadLetterId"].GetString()), id);

  // Replay puts it back; discard removes it.
  r = api_->Call("POST", "/admin/dead-letters/" + id + "/replay");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(queue_.Stats("ehr-a")->ready, 1);
  EXPECT_EQ(queue_.Stats("ehr-a")->dead, 0);
  jobs = *queue_.Claim("ehr-a", "w", 10);
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_TRUE(queue_.DeadLetter(jobs[0], "rejected: HTTP 422", "").ok());
  r = api_->Call("DELETE", "/admin/dead-letters/" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(api_->Call("GET", "/admin/dead-letters/" + id).status, 404);
  EXPECT_EQ(api_->Call("POST", "/admin/dead-letters/" + id + "/replay").status,
            404);
  EXPECT_EQ(api_->Call("GET", "/admin/dead-letters/garbage").status, 404);
  EXPECT_EQ(api_->Call("GET", "/admin/dead-letters?limit=x").status, 400);
}

}  // namespace
}  // namespace genogate::gateway

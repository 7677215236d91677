// Every API route over HTTP: the real HttpServer with the API's routes, the
// operations routes and the back-pressure monitor on a loopback port, a
// real redis-server behind the queue and the status store, real delivery
// workers (a file:// outbox and a scripted EHR that rejects every
// transaction, so that dead letters happen for real), and a real HTTP
// client (genogate's Beast HttpClient; raw sockets where a case needs
// exact bytes: slow clients, connection limits). Both formats where FHIR,
// and every error path, each answered with an OperationOutcome.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include "fhir/codec.h"
#include "gateway/api/api_routes.h"
#include "gateway/api/wire_client.h"
#include "gateway/http/test_peers.h"
#include "gateway/queue/queue_metrics.h"
#include "gateway/queue/queue_monitor.h"
#include "gateway/queue/queue_test_util.h"
#include "gateway/security/access_control.h"
#include "gateway/server/health.h"
#include "gateway/server/http_server.h"
#include "gateway/submission/metered_submission_service.h"
#include "gateway/submission/submission_service.h"
#include "gateway/submission/submission_test_util.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;
using testing::MakeRedisQueue;
using testing::MalformedVcf;
using testing::SampleHl7;
using testing::SampleLabJson;
using testing::SampleVcf;
using testing::SharedValidationEnv;
using testing::UniquePrefix;
using testing::WireClient;
using testing::WireHeaders;
using testing::WireResponse;

constexpr std::string_view kPatientValue = "P-WIRE-4711";
constexpr std::string_view kVcfQuery =
    "?patient=urn:oid:1.2.3%7CP-WIRE-4711&accession=urn:oid:1.2.4%7CACC-W1"
    "&lab=Wire%20Lab&build=GRCh37&source-class=germline&specimen=urn:oid:1.2."
    "5%7CSP-1&sample=SAMPLE1";
constexpr int kRetryAfter = 7;

std::string Gzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

rapidjson::Document Json(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  return d;
}

// The issues' "code: details.text" lines of a JSON OperationOutcome, or
// "<not an OperationOutcome>".
std::string OutcomeText(const WireResponse& r) {
  rapidjson::Document d = Json(r.body);
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("resourceType") ||
      std::string_view(d["resourceType"].GetString()) != "OperationOutcome" ||
      !d.HasMember("issue") || d["issue"].Empty()) {
    return "<not an OperationOutcome>";
  }
  std::string out;
  for (const auto& i : d["issue"].GetArray()) {
    out += i["code"].GetString();
    out += ": ";
    if (i.HasMember("details")) out += i["details"]["text"].GetString();
    out += "\n";
  }
  return out;
}

bool IsJsonOutcome(const WireResponse& r) {
  return r.Header("Content-Type").starts_with("application/fhir+json") &&
         OutcomeText(r) != "<not an OperationOutcome>";
}

// FHIR XML with this root element.
bool IsXml(const WireResponse& r, const std::string& root) {
  const std::string& b = r.body;
  size_t start = b.starts_with("<?xml") ? b.find("?>") + 2 : 0;
  while (start < b.size() && (b[start] == '\n' || b[start] == ' ')) ++start;
  return r.Header("Content-Type").starts_with("application/fhir+xml") &&
         b.compare(start, root.size() + 1, "<" + root) == 0 &&
         b.find("xmlns=\"http://hl7.org/fhir\"") != std::string::npos;
}

// The value of the first sample line of `metrics` that starts with
// `series` (name and labels, exactly as rendered); -1 if none.
double Sample(const std::string& metrics, const std::string& series) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(series + " ")) {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// Polls `f` until true or 30 s have passed (no timing is asserted: the
// deadline only ends a hung test).
template <typename F>
bool Eventually(F f) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

class HttpRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(/*high_water_mark=*/10'000); }

  void Start(int64_t high_water_mark) {
    redis_ = RedisServer::Start();
    ASSERT_NE(redis_, nullptr);
    std::string dir =
        (std::filesystem::temp_directory_path() / "gg-routes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    outbox_ = dir;
    // The EHR: answers metadata, rejects every transaction with 400.
    ehr_ = std::make_unique<testing::TestHttpServer>(
        [this](const std::string& head, const std::string&) {
          if (head.starts_with("GET /fhir/metadata")) {
            return testing::TestHttpServer::Response(
                200,
                R"({"resourceType":"CapabilityStatement","fhirVersion":)"
                R"("4.0.1","software":{"name":"Wire EHR","version":"1"}})",
                "Content-Type: application/fhir+json\r\n");
          }
          ++ehr_posts_;
          return testing::TestHttpServer::Response(
              400,
              R"({"resourceType":"OperationOutcome","issue":[{"severity":)"
              R"("error","code":"business-rule"}]})",
              "Content-Type: application/fhir+json\r\n");
        });

    queue_ = MakeRedisQueue(*redis_, QueueOptions{}, nullptr);
    ASSERT_NE(queue_, nullptr);
    Result<RedisOptions> redis_options = RedisOptions::FromUrl(redis_->url());
    ASSERT_TRUE(redis_options.ok());
    auto store = RedisSubmissionStore::Open(*redis_options, UniquePrefix());
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    SubmissionServiceOptions so;
    so.endpoints = {"outbox", "ehr"};
    auto service = DefaultSubmissionService::Create(
        so, SharedValidationEnv().validator.get(), queue_.get(), store_.get());
    ASSERT_TRUE(service.ok()) << service.error().ToString();
    service_ = std::move(service).value();
    metered_ =
        std::make_unique<MeteredSubmissionService>(service_.get(), &metrics_);

    std::optional<testing::DeliverySide> side = testing::StartDeliverySide(
        {"outbox=file://" + outbox_, "ehr=" + ehr_->url() + "/fhir"},
        queue_.get(), &metrics_);
    ASSERT_TRUE(side.has_value());
    delivery_ = std::move(*side);
    AddQueueMetrics(&metrics_, queue_.get());
    monitor_ = std::make_unique<QueueMonitor>(
        queue_.get(),
        QueueMonitorOptions{high_water_mark, std::chrono::milliseconds(20)});

    auto router = std::make_shared<Router>();
    ASSERT_TRUE(
        AddOperationsRoutes(router.get(), &metrics_,
                            {RedisPingCheck(*redis_options),
                             {"definitions", [] { return Status::Ok(); }}})
            .ok());
    ApiServices services;
    services.submissions = metered_.get();
    services.validator = SharedValidationEnv().validator.get();
    services.packages = SharedValidationEnv().packages.get();
    services.queue = queue_.get();
    services.endpoints = delivery_.checker;
    ApiOptions options;
    options.started = "2026-11-29T12:00:00Z";
    options.software_version = "0.1.0";
    options.retry_after = std::chrono::seconds(kRetryAfter);
    for (ApiRoute& r : ApiRoutes(services, options)) {
      ASSERT_TRUE(router
                      ->Add(r.method, r.pattern, r.name, std::move(r.handler),
                            {.shed_when_overloaded = r.shed_when_overloaded})
                      .ok());
    }

    HttpServerOptions o;
    o.port = 0;
    o.max_connections = 16;
    o.max_body_bytes = 256 * 1024;
    o.body_limits = {{"text/x-vcf", 1024 * 1024}};
    o.header_timeout = std::chrono::milliseconds(3000);
    o.body_timeout = std::chrono::milliseconds(3000);
    o.retry_after_seconds = kRetryAfter;
    o.overloaded = [m = monitor_.get()] { return m->overloaded(); };
    // As `genogate serve` on loopback without authentication: the access
    // control's local mode fills caller "local" and every role.
    auto access = std::make_shared<AccessControl>(nullptr, DefaultRouteRules());
    o.authenticate = [access](
                         std::string_view route,
                         HttpRequest* request) -> std::optional<HttpResponse> {
      if (route == "healthz" || route == "readyz" || route == "metrics") {
        return std::nullopt;
      }
      AccessControl::Decision d = access->Check(request);
      if (d.allowed) return std::nullopt;
      return std::move(d.response);
    };
    logger_ = std::make_unique<Logger>(
        LogLevel::kDebug, [this](std::string_view line) {
          std::lock_guard<std::mutex> lock(log_mu_);
          logs_.append(line);
        });
    auto server = HttpServer::Start(o, router, &metrics_, logger_.get());
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    server_ = std::move(server).value();
    client_ = std::make_unique<WireClient>(server_->port());
  }

  void TearDown() override {
    if (server_) server_->Stop(std::chrono::milliseconds(0));
    server_.reset();
    if (monitor_) monitor_->Stop();
    if (delivery_.stop) delivery_.stop();
    delivery_ = {};
    if (!outbox_.empty()) std::filesystem::remove_all(outbox_);
  }

  WireResponse Post(const std::string& target, std::string body,
                    const std::string& content_type, WireHeaders extra = {}) {
    extra.emplace_back("Content-Type", content_type);
    return client_->Send("POST", target, std::move(body), std::move(extra));
  }
  WireResponse Get(const std::string& target, WireHeaders extra = {}) {
    return client_->Send("GET", target, "", std::move(extra));
  }

  // Sends raw bytes on a new connection; everything read until the server
  // closes it (or 30 s pass).
  std::string Exchange(const std::string& bytes) {
    int fd = testing::ConnectLoopback(server_->port());
    if (fd < 0) return "";
    testing::WriteAll(fd, bytes);
    std::string out;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 30'000) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  std::string Metrics() { return Get("/metrics").body; }
  std::string Logs() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return logs_;
  }

  // No job was ever enqueued (AllStats lists every endpoint enqueued to).
  bool NothingEverQueued() {
    Result<std::vector<QueueStats>> s = queue_->AllStats();
    return s.ok() && s->empty();
  }

  // A ready FHIR transaction Bundle (JSON) of the example lab result.
  std::string FhirBundleJson() {
    Result<ConvertResult> c = service_->Convert(
        {SubmissionFormat::kLabJson, SampleLabJson(), {}, "", ""});
    EXPECT_TRUE(c.ok() && c->bundle);
    return *fhir::WriteJson(*c->bundle);
  }
  std::string FhirBundleXml() {
    Result<fhir::Document> doc = fhir::ParseJson(
        FhirBundleJson(), &SharedValidationEnv().validator->schema());
    EXPECT_TRUE(doc.ok());
    return *fhir::WriteXml(doc->root);
  }

  // The submission's status once `endpoint` reached `state`.
  rapidjson::Document WaitForEndpointState(const std::string& location,
                                           const std::string& endpoint,
                                           const std::string& state) {
    rapidjson::Document d;
    Eventually([&] {
      WireResponse st = Get(location);
      if (st.status != 200) return false;
      d = Json(st.body);
      for (const auto& e : d["endpoints"].GetArray()) {
        if (endpoint == e["endpoint"].GetString() &&
            state == e["state"].GetString()) {
          return true;
        }
      }
      return false;
    });
    return d;
  }

  std::unique_ptr<RedisServer> redis_;
  std::string outbox_;
  std::atomic<int> ehr_posts_{0};
  std::unique_ptr<testing::TestHttpServer> ehr_;
  MetricsRegistry metrics_;
  std::unique_ptr<RedisQueue> queue_;
  std::unique_ptr<RedisSubmissionStore> store_;
  std::unique_ptr<DefaultSubmissionService> service_;
  std::unique_ptr<MeteredSubmissionService> metered_;
  testing::DeliverySide delivery_;
  std::unique_ptr<QueueMonitor> monitor_;
  std::mutex log_mu_;
  std::string logs_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<WireClient> client_;
};

// --- POST /submissions, GET /submissions/{id} ------------------------------

TEST_F(HttpRoutesTest, EveryContentTypeIsAcceptedAndFollowedToDelivery) {
  const std::string vcf_target = "/submissions" + std::string(kVcfQuery);
  struct Case {
    std::string name, target, body, type;
    WireHeaders headers;
  };
  std::vector<Case> cases = {
      {"vcf", vcf_target, SampleVcf(), "text/x-vcf", {}},
      {"vcf+gzip",
       vcf_target,
       Gzip(SampleVcf()),
       "text/x-vcf",
       {{"Content-Encoding", "gzip"}}},
      {"hl7v2", "/submissions", SampleHl7(), "x-application/hl7-v2+er7", {}},
      {"labjson",
       "/submissions",
       SampleLabJson(),
       "application/json; charset=utf-8",
       {}},
      {"fhir-json",
       "/submissions",
       FhirBundleJson(),
       "application/fhir+json",
       {}},
      {"fhir-xml", "/submissions", FhirBundleXml(), "application/fhir+xml", {}},
  };
  // One after the other: several cases are versions of one report (same
  // accession), and a newer version supersedes an older one still queued.
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WireResponse r = Post(c.target, c.body, c.type, c.headers);
    ASSERT_EQ(r.status, 202) << r.error << r.body;
    EXPECT_TRUE(r.Header("Content-Type").starts_with("application/json"));
    rapidjson::Document d = Json(r.body);
    ASSERT_TRUE(d.IsObject()) << r.body;
    const std::string id = d["id"].GetString();
    const std::string location = "/submissions/" + id;
    EXPECT_EQ(r.Header("Location"), location);
    EXPECT_EQ(std::string(d["location"].GetString()), location);
    EXPECT_FALSE(d["duplicate"].GetBool());
    ASSERT_EQ(d["endpoints"].Size(), 2u);
    EXPECT_FALSE(r.Header("X-Request-Id").empty());

    // Delivered to the outbox, dead-lettered by the EHR.
    d = WaitForEndpointState(location, "outbox", "delivered");
    ASSERT_TRUE(d.IsObject());
    EXPECT_EQ(std::string(d["format"].GetString()),
              c.name == "vcf+gzip" ? "vcf" : c.name);
    const auto& outbox = d["endpoints"][0];
    EXPECT_EQ(std::string(outbox["endpoint"].GetString()), "outbox");
    ASSERT_EQ(std::string(outbox["state"].GetString()), "delivered");
    EXPECT_TRUE(
        std::string(outbox["resourceIds"][0].GetString()).starts_with("file:"));
    std::vector<std::string> stages;
    for (const auto& st : d["stages"].GetArray()) {
      stages.push_back(st["stage"].GetString());
    }
    EXPECT_EQ(stages, (std::vector<std::string>{"accepted", "mapped",
                                                "validated", "queued"}));
    d = WaitForEndpointState(location, "ehr", "dead-lettered");
    const auto& ehr = d["endpoints"][1];
    ASSERT_EQ(std::string(ehr["state"].GetString()), "dead-lettered");
    EXPECT_NE(std::string(ehr["reason"].GetString()).find("400"),
              std::string::npos);
    EXPECT_EQ(std::string(ehr["deadLetterId"].GetString()), "ehr/" + id);
  }
  // The two VCFs (plain and gzip) carry the query's metadata into the
  // delivered Bundle; the logs carry none of it.
  int with_patient = 0;
  for (const auto& f : std::filesystem::directory_iterator(outbox_)) {
    std::ifstream in(f.path());
    std::stringstream s;
    s << in.rdbuf();
    if (s.str().find(kPatientValue) != std::string::npos &&
        s.str().find("ACC-W1") != std::string::npos &&
        s.str().find("SP-1") != std::string::npos) {
      ++with_patient;
    }
  }
  // Same accession: the gzip VCF is a second version of the same report,
  // delivered to its own file.
  EXPECT_EQ(with_patient, 2);
  const std::string logs = Logs();
  EXPECT_NE(logs.find("\"route\":\"submissions.create\""), std::string::npos);
  EXPECT_EQ(logs.find(kPatientValue), std::string::npos);
  EXPECT_EQ(logs.find("ACC-W1"), std::string::npos);
  EXPECT_EQ(logs.find("SP-1"), std::string::npos);
}

TEST_F(HttpRoutesTest, XmlNegotiatedSubmissionAnswersAnOperationOutcome) {
  WireResponse r = Post("/submissions", SampleLabJson(), "application/json",
                        {{"Accept", "application/fhir+xml"}});
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
  EXPECT_NE(r.body.find("submission-accepted"), std::string::npos);
  EXPECT_TRUE(r.Header("Location").starts_with("/submissions/"));
  r = Post("/submissions?_format=xml", SampleHl7(), "x-application/hl7-v2+er7");
  ASSERT_EQ(r.status, 202);
  EXPECT_TRUE(IsXml(r, "OperationOutcome"));
}

TEST_F(HttpRoutesTest, IdempotencyKeyGivesTheSameSubmission) {
  const WireHeaders key = {{"Idempotency-Key", "wire-batch-1"}};
  WireResponse a =
      Post("/submissions", SampleLabJson(), "application/json", key);
  WireResponse b =
      Post("/submissions", SampleLabJson(), "application/json", key);
  ASSERT_EQ(a.status, 202) << a.body;
  ASSERT_EQ(b.status, 202) << b.body;
  EXPECT_EQ(a.Header("Location"), b.Header("Location"));
  EXPECT_FALSE(Json(a.body)["duplicate"].GetBool());
  EXPECT_TRUE(Json(b.body)["duplicate"].GetBool());
  // (Delivered before the next version of the report comes, which would
  // otherwise supersede it.)
  WaitForEndpointState(std::string(a.Header("Location")), "outbox",
                       "delivered");
  // The same key for another body: 409, nothing new.
  WireResponse c =
      Post("/submissions", SampleHl7(), "x-application/hl7-v2+er7", key);
  EXPECT_EQ(c.status, 409);
  EXPECT_NE(OutcomeText(c).find("conflict: the Idempotency-Key"),
            std::string::npos)
      << c.body;
  // Another key: another submission.
  WireResponse d = Post("/submissions", SampleLabJson(), "application/json",
                        {{"Idempotency-Key", "wire-batch-2"}});
  ASSERT_EQ(d.status, 202);
  EXPECT_NE(d.Header("Location"), a.Header("Location"));
  // One delivery per submission: the outbox holds two files.
  EXPECT_TRUE(Eventually([&] {
    return Sample(Metrics(),
                  "genogate_deliveries_total{endpoint=\"outbox\",outcome="
                  "\"delivered\"}") == 2;
  }));
  const std::string m = Metrics();
  EXPECT_EQ(Sample(m,
                   "genogate_submissions_total{format=\"labjson\",outcome="
                   "\"accepted\"}"),
            2);
  EXPECT_EQ(Sample(m,
                   "genogate_submissions_total{format=\"labjson\",outcome="
                   "\"duplicate\"}"),
            1);
  EXPECT_EQ(Sample(m,
                   "genogate_submissions_total{format=\"hl7v2\",outcome="
                   "\"error\"}"),
            1);
  size_t files = 0;
  for ([[maybe_unused]] const auto& f :
       std::filesystem::directory_iterator(outbox_)) {
    ++files;
  }
  EXPECT_EQ(files, 2u);
}

TEST_F(HttpRoutesTest, UnknownSubmissionIs404InEitherFormat) {
  WireResponse r = Get("/submissions/no-such-id");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(IsJsonOutcome(r)) << r.body;
  EXPECT_NE(OutcomeText(r).find("no such submission"), std::string::npos);
  r = Get("/submissions/no-such-id?_format=xml");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
  r = Get("/submissions/no-such-id", {{"Accept", "application/fhir+xml"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
}

// --- /fhir -------------------------------------------------------------------

TEST_F(HttpRoutesTest, MetadataInJsonAndXmlByAcceptAndFormat) {
  WireResponse r = Get("/fhir/metadata");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "application/fhir+json; charset=utf-8");
  rapidjson::Document d = Json(r.body);
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(std::string(d["resourceType"].GetString()), "CapabilityStatement");
  EXPECT_EQ(testing::PayloadErrors(r.body), "");
  EXPECT_NE(r.body.find("\"name\":\"validate\""), std::string::npos);
  EXPECT_NE(r.body.find("\"name\":\"convert\""), std::string::npos);
  for (const auto& [target, headers] :
       std::vector<std::pair<std::string, WireHeaders>>{
           {"/fhir/metadata", {{"Accept", "application/fhir+xml"}}},
           {"/fhir/metadata", {{"Accept", "application/xml;q=0.9, */*;q=0.1"}}},
           {"/fhir/metadata?_format=xml", {}},
           {"/fhir/metadata?_format=application/fhir%2Bxml", {}},
           // _format wins over Accept.
           {"/fhir/metadata?_format=xml",
            {{"Accept", "application/fhir+json"}}}}) {
    SCOPED_TRACE(target);
    WireResponse x = Get(target, headers);
    ASSERT_EQ(x.status, 200);
    EXPECT_TRUE(IsXml(x, "CapabilityStatement")) << x.body.substr(0, 100);
    EXPECT_EQ(testing::PayloadErrors(x.body), "");
  }
  r = Get("/fhir/metadata?_format=json", {{"Accept", "application/fhir+xml"}});
  EXPECT_EQ(r.Header("Content-Type"), "application/fhir+json; charset=utf-8");
  // HEAD: the GET's headers without a body (raw socket: the client has no
  // HEAD support).
  std::string head = Exchange(
      "HEAD /fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << head;
  EXPECT_NE(head.find("Content-Type: application/fhir+json"),
            std::string::npos);
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
}

TEST_F(HttpRoutesTest, ValidateAtSystemAndTypeLevelWithProfiles) {
  const std::string bad =
      R"({"resourceType":"Patient","gender":"unknown-gender"})";
  const std::string ok = R"({"resourceType":"Patient","gender":"female"})";
  WireResponse r = Post("/fhir/$validate", bad, "application/fhir+json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(IsJsonOutcome(r));
  EXPECT_NE(r.body.find("Patient.gender"), std::string::npos) << r.body;

  r = Post("/fhir/Patient/$validate", ok, "application/fhir+json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(IsJsonOutcome(r));
  EXPECT_EQ(r.body.find("\"severity\":\"error\""), std::string::npos) << r.body;
  // The same answered in XML (by Accept, then by _format).
  r = Post("/fhir/Patient/$validate", ok, "application/fhir+json",
           {{"Accept", "application/fhir+xml"}});
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
  r = Post("/fhir/Patient/$validate?_format=xml", ok, "application/fhir+json");
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;

  // A profile the Patient does not meet: as a query parameter...
  const std::string variant =
      "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant";
  r = Post("/fhir/$validate?profile=" + variant, ok, "application/fhir+json");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"severity\":\"error\""), std::string::npos) << r.body;
  r = Post("/fhir/Patient/$validate?profile=" + variant, ok,
           "application/fhir+json");
  EXPECT_NE(r.body.find("\"severity\":\"error\""), std::string::npos);
  // ...and as a Parameters profile, posted in XML, answered in XML.
  const std::string params =
      "<Parameters xmlns=\"http://hl7.org/fhir\"><parameter><name "
      "value=\"resource\"/><resource><Patient><gender "
      "value=\"female\"/></Patient></resource></parameter><parameter><name "
      "value=\"profile\"/><valueUri value=\"" +
      variant + "\"/></parameter></Parameters>";
  r = Post("/fhir/Patient/$validate", params, "application/fhir+xml",
           {{"Accept", "application/fhir+xml"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(IsXml(r, "OperationOutcome"));
  EXPECT_NE(r.body.find("<severity value=\"error\"/>"), std::string::npos);

  // Errors: wrong type (400), unknown type (404), not FHIR (400), no
  // resource (400), other media type (415); each an OperationOutcome.
  struct Bad {
    std::string target, body, type;
    int status;
  };
  for (const Bad& b : std::vector<Bad>{
           {"/fhir/Observation/$validate", ok, "application/fhir+json", 400},
           {"/fhir/Nonsense/$validate", ok, "application/fhir+json", 404},
           {"/fhir/$validate", "{not json", "application/fhir+json", 400},
           {"/fhir/$validate", "<Patient", "application/fhir+xml", 400},
           {"/fhir/$validate", R"({"resourceType":"Parameters"})",
            "application/fhir+json", 400},
           {"/fhir/$validate", ok, "text/x-vcf", 415}}) {
    SCOPED_TRACE(b.target + " " + b.type);
    WireResponse e = Post(b.target, b.body, b.type);
    EXPECT_EQ(e.status, b.status) << e.body;
    EXPECT_TRUE(IsJsonOutcome(e)) << e.body;
    e = Post(b.target + "?_format=xml", b.body, b.type);
    EXPECT_EQ(e.status, b.status);
    EXPECT_TRUE(IsXml(e, "OperationOutcome")) << e.body;
  }
}

TEST_F(HttpRoutesTest, ConvertReturnsTheBundleAndQueuesNothing) {
  WireResponse r = Post("/fhir/$convert" + std::string(kVcfQuery), SampleVcf(),
                        "text/x-vcf");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/fhir+json; charset=utf-8");
  EXPECT_EQ(testing::PayloadErrors(r.body), "");
  EXPECT_NE(r.body.find("\"type\":\"transaction\""), std::string::npos);
  EXPECT_NE(r.body.find(kPatientValue), std::string::npos);
  r = Post("/fhir/$convert" + std::string(kVcfQuery), Gzip(SampleVcf()),
           "text/x-vcf", {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = Post("/fhir/$convert", SampleHl7(), "x-application/hl7-v2+er7",
           {{"Accept", "application/fhir+xml"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(IsXml(r, "Bundle")) << r.body.substr(0, 100);
  EXPECT_EQ(testing::PayloadErrors(r.body), "");
  r = Post("/fhir/$convert?_format=xml", SampleLabJson(), "application/json");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(IsXml(r, "Bundle"));

  uint32_t line = 0;
  r = Post("/fhir/$convert" + std::string(kVcfQuery), MalformedVcf(&line),
           "text/x-vcf");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(OutcomeText(r).find("line " + std::to_string(line)),
            std::string::npos)
      << r.body;
  r = Post("/fhir/$convert", FhirBundleJson(), "application/fhir+json");
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(IsJsonOutcome(r));
  r = Post("/fhir/$convert?patient=x", SampleVcf(), "text/x-vcf");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(IsJsonOutcome(r));
  EXPECT_TRUE(NothingEverQueued());
}

TEST_F(HttpRoutesTest, TransactionPostedToTheFhirBaseIsASubmission) {
  WireResponse r = Post("/fhir", FhirBundleJson(), "application/fhir+json");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(IsJsonOutcome(r));
  EXPECT_NE(OutcomeText(r).find("informational: accepted as submission"),
            std::string::npos);
  const std::string location(r.Header("Location"));
  ASSERT_TRUE(location.starts_with("/submissions/"));
  rapidjson::Document d = WaitForEndpointState(location, "outbox", "delivered");
  EXPECT_EQ(std::string(d["format"].GetString()), "fhir-json");

  r = Post("/fhir", FhirBundleXml(), "application/fhir+xml",
           {{"Accept", "application/fhir+xml"}});
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(IsXml(r, "OperationOutcome"));
  r = Post("/fhir", FhirBundleXml(), "application/xml");
  EXPECT_EQ(r.status, 202) << r.body;

  r = Post("/fhir", SampleVcf(), "text/x-vcf");
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(IsJsonOutcome(r));
  std::string invalid = FhirBundleJson();
  size_t at = invalid.find("\"status\":\"final\"");
  ASSERT_NE(at, std::string::npos);
  invalid.replace(at, 16, "\"status\":\"bogus\"");
  r = Post("/fhir?_format=xml", invalid, "application/fhir+json");
  EXPECT_EQ(r.status, 422);
  EXPECT_TRUE(IsXml(r, "OperationOutcome"));
  EXPECT_NE(r.body.find("Bundle.entry["), std::string::npos);
}

// --- /admin
// --------------------------------------------------------------------

TEST_F(HttpRoutesTest, AdminEndpointsQueuesAndDeadLetters) {
  WireResponse r = Get("/admin/endpoints");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r.body);
  ASSERT_EQ(d["endpoints"].Size(), 2u);
  EXPECT_EQ(std::string(d["endpoints"][0]["name"].GetString()), "outbox");
  EXPECT_EQ(std::string(d["endpoints"][1]["kind"].GetString()), "fhir");
  EXPECT_FALSE(d["endpoints"][0].HasMember("check"));
  r = Get("/admin/endpoints?check=true");
  ASSERT_EQ(r.status, 200);
  d = Json(r.body);
  EXPECT_TRUE(d["endpoints"][0]["check"]["ok"].GetBool()) << r.body;
  EXPECT_TRUE(d["endpoints"][1]["check"]["ok"].GetBool()) << r.body;
  EXPECT_NE(r.body.find("4.0.1"), std::string::npos);
  r = Get("/admin/endpoints?check=maybe");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(IsJsonOutcome(r));

  // A submission the EHR rejects: dead-lettered there, delivered to the
  // outbox.
  r = Post("/submissions", SampleLabJson(), "application/json");
  ASSERT_EQ(r.status, 202);
  const std::string location(r.Header("Location"));
  const std::string job = location.substr(location.rfind('/') + 1);
  d = WaitForEndpointState(location, "ehr", "dead-lettered");
  const std::string dead_id = d["endpoints"][1]["deadLetterId"].GetString();
  EXPECT_EQ(dead_id, "ehr/" + job);

  r = Get("/admin/queues");
  ASSERT_EQ(r.status, 200);
  d = Json(r.body);
  ASSERT_EQ(d["queues"].Size(), 2u) << r.body;
  EXPECT_EQ(std::string(d["queues"][0]["endpoint"].GetString()), "ehr");
  EXPECT_EQ(d["queues"][0]["dead"].GetInt64(), 1);

  r = Get("/admin/dead-letters");
  ASSERT_EQ(r.status, 200);
  d = Json(r.body);
  ASSERT_EQ(d["deadLetters"].Size(), 1u) << r.body;
  EXPECT_EQ(std::string(d["deadLetters"][0]["id"].GetString()), dead_id);
  EXPECT_EQ(Json(Get("/admin/dead-letters?endpoint=outbox").body)["deadLetters"]
                .Size(),
            0u);
  EXPECT_EQ(Get("/admin/dead-letters?limit=lots").status, 400);

  // Show, with and without the payload, by both id forms.
  r = Get("/admin/dead-letters/ehr/" + job);
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r.body);
  EXPECT_NE(std::string(d["reason"].GetString()).find("400"),
            std::string::npos);
  EXPECT_FALSE(d.HasMember("payload"));
  r = Get("/admin/dead-letters/ehr%2F" + job + "?payload=true");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r.body);
  EXPECT_EQ(std::string(d["payload"]["resourceType"].GetString()), "Bundle");
  EXPECT_EQ(std::string(d["operationOutcome"]["resourceType"].GetString()),
            "OperationOutcome");

  // Replay: the EHR is asked again (and rejects again).
  const int posts = ehr_posts_;
  r = client_->Send("POST", "/admin/dead-letters/ehr/" + job + "/replay");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string(Json(r.body)["state"].GetString()), "queued");
  EXPECT_TRUE(Eventually([&] { return ehr_posts_ > posts; }));
  WaitForEndpointState(location, "ehr", "dead-lettered");

  // Discard: gone.
  r = client_->Send("DELETE", "/admin/dead-letters/ehr/" + job);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string(Json(r.body)["state"].GetString()), "discarded");
  r = Get("/admin/dead-letters/ehr/" + job);
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(IsJsonOutcome(r));
  r = client_->Send("POST", "/admin/dead-letters/ehr/" + job + "/replay", "",
                    {{"Accept", "application/fhir+xml"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(IsXml(r, "OperationOutcome"));
  EXPECT_EQ(Json(Get("/admin/dead-letters").body)["deadLetters"].Size(), 0u);
}

// --- operations
// ------------------------------------------------------------------

TEST_F(HttpRoutesTest, HealthReadinessAndMetrics) {
  WireResponse r = Get("/healthz");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"status\":\"alive\"}");
  r = Get("/readyz");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"redis\":\"ok\""), std::string::npos);
  EXPECT_NE(r.body.find("\"definitions\":\"ok\""), std::string::npos);

  // Traffic for the metrics: an accepted submission (delivered to the
  // outbox, dead-lettered by the EHR) and a rejected one.
  r = Post("/submissions", SampleLabJson(), "application/json");
  ASSERT_EQ(r.status, 202);
  WaitForEndpointState(std::string(r.Header("Location")), "ehr",
                       "dead-lettered");
  WaitForEndpointState(std::string(r.Header("Location")), "outbox",
                       "delivered");
  uint32_t line = 0;
  r = Post("/submissions" + std::string(kVcfQuery), MalformedVcf(&line),
           "text/x-vcf");
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(Get("/nowhere").status, 404);

  r = Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(
      r.Header("Content-Type").starts_with("text/plain; version=0.0.4"));
  const std::string& m = r.body;
  // Requests and latency by route.
  EXPECT_EQ(Sample(m,
                   "genogate_http_requests_total{route=\"submissions.create\","
                   "code=\"2xx\"}"),
            1)
      << m;
  EXPECT_EQ(Sample(m,
                   "genogate_http_requests_total{route=\"submissions.create\","
                   "code=\"4xx\"}"),
            1);
  EXPECT_EQ(Sample(m,
                   "genogate_http_requests_total{route=\"not_found\","
                   "code=\"4xx\"}"),
            1);
  EXPECT_GE(Sample(m,
                   "genogate_http_requests_total{route=\"submissions.get\","
                   "code=\"2xx\"}"),
            1);
  EXPECT_EQ(Sample(m,
                   "genogate_http_request_duration_seconds_count{route="
                   "\"submissions.create\",code=\"2xx\"}"),
            1);
  EXPECT_EQ(Sample(m,
                   "genogate_http_request_duration_seconds_bucket{route="
                   "\"submissions.create\",code=\"2xx\",le=\"+Inf\"}"),
            1);
  // Queue depth per endpoint and state.
  EXPECT_EQ(Sample(m, "genogate_queue_jobs{endpoint=\"ehr\",state=\"dead\"}"),
            1);
  EXPECT_EQ(Sample(m, "genogate_queue_jobs{endpoint=\"ehr\",state=\"ready\"}"),
            0);
  EXPECT_EQ(
      Sample(m, "genogate_queue_jobs{endpoint=\"outbox\",state=\"in_flight\"}"),
      0);
  EXPECT_EQ(
      Sample(m, "genogate_queue_jobs{endpoint=\"outbox\",state=\"delayed\"}"),
      0);
  EXPECT_EQ(Sample(m, "genogate_queue_up"), 1);
  // Deliveries by outcome.
  EXPECT_EQ(Sample(m,
                   "genogate_deliveries_total{endpoint=\"outbox\",outcome="
                   "\"delivered\"}"),
            1);
  EXPECT_EQ(Sample(m,
                   "genogate_deliveries_total{endpoint=\"ehr\",outcome="
                   "\"dead_lettered\"}"),
            1);
  EXPECT_EQ(Sample(m,
                   "genogate_deliveries_total{endpoint=\"ehr\",outcome="
                   "\"delivered\"}"),
            0);
  // Submissions and validation issues by code.
  EXPECT_EQ(Sample(m,
                   "genogate_submissions_total{format=\"vcf\",outcome="
                   "\"rejected\"}"),
            1);
  EXPECT_NE(
      m.find("genogate_validation_issues_total{severity=\"error\",code=\""),
      std::string::npos)
      << m;

  // Redis gone: not ready, the queue unreadable.
  redis_->Kill();
  r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("\"redis\""), std::string::npos);
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Sample(Metrics(), "genogate_queue_up"), 0);
}

// --- error paths
// ------------------------------------------------------------------

TEST_F(HttpRoutesTest, ErrorsAreOperationOutcomesAndQueueNothing) {
  struct Case {
    std::string name, method, target, body;
    WireHeaders headers;
    int status;
    std::string text;  // in the OperationOutcome
  };
  uint32_t line = 0;
  const std::string malformed = MalformedVcf(&line);
  std::string big_vcf = SampleVcf();
  while (big_vcf.size() <= 1024 * 1024)
    big_vcf += "##padding=" + std::string(4096, 'x') + "\n";
  std::vector<Case> cases = {
      // 413: larger than the media type's limit (Content-Length), and a
      // gzip body that inflates beyond it.
      {"413 json",
       "POST",
       "/submissions",
       std::string(300 * 1024, ' '),
       {{"Content-Type", "application/json"}},
       413,
       "too"},
      {"413 gzip bomb",
       "POST",
       "/submissions" + std::string(kVcfQuery),
       Gzip(big_vcf),
       {{"Content-Type", "text/x-vcf"}, {"Content-Encoding", "gzip"}},
       413,
       "too"},
      // 415: media type and content encoding.
      {"415 type",
       "POST",
       "/submissions",
       "a,b",
       {{"Content-Type", "text/csv"}},
       415,
       "Content-Type must be"},
      {"415 encoding",
       "POST",
       "/submissions",
       SampleLabJson(),
       {{"Content-Type", "application/json"}, {"Content-Encoding", "br"}},
       415,
       ""},
      // 406: nothing acceptable.
      {"406",
       "POST",
       "/submissions",
       SampleLabJson(),
       {{"Content-Type", "application/json"}, {"Accept", "text/html"}},
       406,
       "Accept"},
      {"406 metadata",
       "GET",
       "/fhir/metadata",
       "",
       {{"Accept", "image/png, text/plain"}},
       406,
       "Accept"},
      // 400: parameters.
      {"400 unknown",
       "POST",
       "/submissions?acession=x",
       SampleLabJson(),
       {{"Content-Type", "application/json"}},
       400,
       "unknown parameter"},
      {"400 build",
       "POST",
       "/submissions?build=hg19",
       SampleLabJson(),
       {{"Content-Type", "application/json"}},
       400,
       "GRCh37 or GRCh38"},
      {"400 twice",
       "POST",
       "/submissions" + std::string(kVcfQuery) + "&build=GRCh38",
       SampleVcf(),
       {{"Content-Type", "text/x-vcf"}},
       400,
       "more than once"},
      {"400 no patient",
       "POST",
       "/submissions",
       SampleVcf(),
       {{"Content-Type", "text/x-vcf"}},
       400,
       "patient"},
      {"400 _format",
       "POST",
       "/submissions?_format=yaml",
       SampleLabJson(),
       {{"Content-Type", "application/json"}},
       400,
       "_format"},
      {"400 gzip",
       "POST",
       "/submissions",
       "not gzip at all",
       {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}},
       400,
       "gzip"},
      // 431: a head beyond max_header_bytes (16 KiB).
      {"431",
       "GET",
       "/healthz",
       "",
       {{"X-Padding", std::string(20'000, 'p')}},
       431,
       "too large"},
      // 404 / 405 from the router.
      {"404 route", "GET", "/fhir/Patient/123", "", {}, 404, ""},
      {"404 path", "POST", "/submissions/x/y", "", {}, 404, ""},
      {"405", "PUT", "/submissions", "", {}, 405, ""},
      {"405 metadata", "DELETE", "/fhir/metadata", "", {}, 405, ""},
      // 422: mapping errors, with their line.
      {"422",
       "POST",
       "/submissions" + std::string(kVcfQuery),
       malformed,
       {{"Content-Type", "text/x-vcf"}},
       422,
       "line " + std::to_string(line)},
      {"422 hl7",
       "POST",
       "/submissions",
       "MSH|garbage",
       {{"Content-Type", "x-application/hl7-v2+er7"}},
       422,
       ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WireResponse r = client_->Send(c.method, c.target, c.body, c.headers);
    ASSERT_EQ(r.status, c.status) << r.error << r.body;
    EXPECT_TRUE(IsJsonOutcome(r)) << r.body;
    EXPECT_NE(OutcomeText(r).find(c.text), std::string::npos) << r.body;
    if (c.status == 405) {
      EXPECT_FALSE(r.Header("Allow").empty());
    }
  }
  // XML where negotiated, for handler errors.
  WireResponse r =
      Post("/submissions" + std::string(kVcfQuery) + "&_format=xml", malformed,
           "text/x-vcf");
  EXPECT_EQ(r.status, 422);
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
  EXPECT_NE(
      r.body.find("<valueInteger value=\"" + std::to_string(line) + "\"/>"),
      std::string::npos);
  r = Post("/submissions", "x", "text/csv",
           {{"Accept", "application/fhir+xml"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(IsXml(r, "OperationOutcome"));
  // The router's 404 and 405 too (a FHIR client asking for XML).
  r = Get("/fhir/Patient/123", {{"Accept", "application/fhir+xml"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
  EXPECT_NE(r.body.find("<code value=\"not-found\"/>"), std::string::npos);
  EXPECT_EQ(testing::PayloadErrors(r.body), "");
  r = client_->Send("DELETE", "/fhir/metadata?_format=xml");
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
  EXPECT_EQ(testing::PayloadErrors(r.body), "");
  r = Get("/fhir/Patient/123?_format=json",
          {{"Accept", "application/fhir+xml"}});
  EXPECT_TRUE(IsJsonOutcome(r)) << r.body;
  // The server's own early answers too: 413 by Content-Length (_format) and
  // 415 for the content encoding (Accept), before any handler runs.
  r = client_->Send("POST", "/submissions?_format=xml",
                    std::string(300 * 1024, ' '),
                    {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
  EXPECT_EQ(testing::PayloadErrors(r.body), "");
  r = client_->Send("POST", "/submissions", SampleLabJson(),
                    {{"Content-Type", "application/json"},
                     {"Content-Encoding", "br"},
                     {"Accept", "application/fhir+xml"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(IsXml(r, "OperationOutcome")) << r.body;
  EXPECT_TRUE(NothingEverQueued());
  EXPECT_GE(Sample(Metrics(),
                   "genogate_submissions_total{format=\"vcf\",outcome="
                   "\"rejected\"}"),
            1);
}

TEST_F(HttpRoutesTest, SlowClientsGet408) {
  // The head dribbles in: the deadline runs from its first byte.
  int fd = testing::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(testing::WriteAll(fd, "POST /submissions HTTP/1.1\r\n"));
  std::string answer;
  for (int i = 0; i < 200 && answer.empty(); ++i) {
    testing::WriteAll(fd, "X-Slow: 1\r\n");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) answer.assign(buf, static_cast<size_t>(n));
      if (n <= 0) break;
    }
  }
  ::close(fd);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 408")) << answer;
  EXPECT_NE(answer.find("\"resourceType\":\"OperationOutcome\""),
            std::string::npos);

  // The body never completes.
  fd = testing::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(testing::WriteAll(
      fd,
      "POST /submissions HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: 1000\r\n\r\n{\"report\":"));
  answer.clear();
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30'000) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 408")) << answer;
  EXPECT_NE(answer.find("\"resourceType\":\"OperationOutcome\""),
            std::string::npos);
  EXPECT_TRUE(NothingEverQueued());
}

TEST_F(HttpRoutesTest, TooManyConnectionsGet503) {
  // Fill the server up to max_connections (16) with idle connections...
  std::vector<int> fds;
  while (fds.size() < 32 && server_->active_connections() < 16) {
    int fd = testing::ConnectLoopback(server_->port());
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    Eventually([&] { return server_->active_connections() >= fds.size(); });
  }
  ASSERT_EQ(server_->active_connections(), 16u);
  // ...then one more is answered 503 with an OperationOutcome and closed.
  int fd = testing::ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  testing::WriteAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string answer;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  for (int f : fds) ::close(f);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
  EXPECT_NE(answer.find("Retry-After: "), std::string::npos);
  EXPECT_NE(answer.find("\"resourceType\":\"OperationOutcome\""),
            std::string::npos);
  // Once they are gone, the server serves again.
  EXPECT_TRUE(Eventually([&] { return Get("/healthz").status == 200; }));
  EXPECT_GE(Sample(Metrics(),
                   "genogate_http_refused_total{reason=\"connection_limit\"}"),
            1);
}

// Above the queue's high-water mark the routes that enqueue answer 503 +
// Retry-After (before reading the body) and accept nothing; everything else
// is served; below it again, submissions are accepted.
class HttpRoutesOverloadTest : public HttpRoutesTest {
 protected:
  void SetUp() override { Start(/*high_water_mark=*/1); }
};

TEST_F(HttpRoutesOverloadTest, AboveTheHighWaterMarkSubmissionsGet503) {
  // No delivery: what is queued stays ready.
  delivery_.stop();
  for (const char* key : {"a", "b"}) {
    WireResponse r = Post("/submissions", SampleLabJson(), "application/json",
                          {{"Idempotency-Key", key}});
    ASSERT_EQ(r.status, 202) << r.body;
  }
  // Two submissions x two endpoints = 4 ready jobs > 1.
  ASSERT_TRUE(Eventually([&] { return monitor_->depth() == 4; }));
  EXPECT_TRUE(monitor_->overloaded());
  for (const auto& [target, type, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/submissions", "application/json", SampleLabJson()},
           {"/submissions" + std::string(kVcfQuery), "text/x-vcf", SampleVcf()},
           {"/fhir", "application/fhir+json", FhirBundleJson()}}) {
    SCOPED_TRACE(target);
    WireResponse r = Post(target, body, type, {{"Idempotency-Key", "c"}});
    EXPECT_EQ(r.status, 503) << r.error << r.body;
    EXPECT_EQ(r.Header("Retry-After"), std::to_string(kRetryAfter));
    EXPECT_TRUE(IsJsonOutcome(r)) << r.body;
    EXPECT_NE(OutcomeText(r).find("transient"), std::string::npos);
  }
  EXPECT_EQ(queue_->Stats("outbox")->ready, 2);
  // Reads, validation and conversion are still served.
  EXPECT_EQ(Get("/fhir/metadata").status, 200);
  EXPECT_EQ(Get("/admin/queues").status, 200);
  EXPECT_EQ(Post("/fhir/$convert", SampleLabJson(), "application/json").status,
            200);
  EXPECT_GE(
      Sample(Metrics(), "genogate_http_refused_total{reason=\"overloaded\"}"),
      3);

  // Drain the queue: below the mark, accepted again.
  for (const char* endpoint : {"outbox", "ehr"}) {
    Result<std::vector<Job>> jobs = queue_->Claim(endpoint, "drain", 10);
    ASSERT_TRUE(jobs.ok());
    for (const Job& j : *jobs) ASSERT_TRUE(queue_->Ack(j).ok());
  }
  ASSERT_TRUE(Eventually([&] { return !monitor_->overloaded(); }));
  WireResponse r = Post("/submissions", SampleLabJson(), "application/json",
                        {{"Idempotency-Key", "c"}});
  EXPECT_EQ(r.status, 202) << r.body;
}

}  // namespace
}  // namespace genogate::gateway

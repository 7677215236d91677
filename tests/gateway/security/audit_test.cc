// AuditEvents: built for every action, valid FHIR R4, pseudonymised, stored
// append-only in a real Redis and read back as NDJSON by time range.
#include "gateway/security/audit.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gateway/security/audit_http.h"
#include "testing/redis_server.h"
#include "testing/validation_env.h"

namespace genogate::gateway {
namespace {

using genogate::testing::ErrorsOf;
using genogate::testing::RedisServer;
using genogate::testing::SharedValidationEnv;

const std::string kKey = "0123456789abcdef0123456789abcdef-audit";
const std::string kPatientSystem = "urn:oid:2.16.840.1.113883.2.1.4.1";
const std::string kPatientValue = "9434765919";

Pseudonymizer MakePseudonymizer(const std::string& key = kKey) {
  Result<Pseudonymizer> p = Pseudonymizer::Create(key);
  EXPECT_TRUE(p.ok());
  return std::move(p).value();
}

std::string HexHmac(const std::string& key, const std::string& msg) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac,
       &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

// One record per action, as the services would fill them.
std::vector<AuditRecord> OnePerAction(Timestamp t0) {
  std::vector<AuditRecord> out;
  AuditRecord sub;
  sub.action = AuditAction::kSubmission;
  sub.when = t0;
  sub.caller = "lab-a-uploader";
  sub.roles = {"lab"};
  sub.source_address = "10.0.0.7:50123";
  sub.request_id = "req-1";
  sub.submission_id = "s-1";
  sub.lab = "lab-a";
  sub.patient_system = kPatientSystem;
  sub.patient_value = kPatientValue;
  sub.outcome_text = "accepted and queued";
  out.push_back(sub);

  AuditRecord invalid = sub;
  invalid.action = AuditAction::kValidationFailure;
  invalid.outcome = AuditOutcome::kMinorFailure;
  invalid.outcome_text = "validation failed: 3 errors";
  invalid.submission_id = "s-2";
  invalid.when = t0 + std::chrono::milliseconds(1);
  out.push_back(invalid);

  AuditRecord delivery;
  delivery.action = AuditAction::kDelivery;
  delivery.when = t0 + std::chrono::milliseconds(2);
  delivery.submission_id = "s-1";
  delivery.lab = "lab-a";
  delivery.endpoint = "ehr-main";
  delivery.patient_system = kPatientSystem;
  delivery.patient_value = kPatientValue;
  delivery.details = {{"ehr-ids", "DiagnosticReport/17"}};
  out.push_back(delivery);

  AuditRecord pull;
  pull.action = AuditAction::kPull;
  pull.when = t0 + std::chrono::milliseconds(3);
  pull.caller = "registry-reader";
  pull.roles = {"registry"};
  pull.source_address = "[2001:db8::5]:443";
  pull.endpoint = "ehr-main";
  pull.patient_system = kPatientSystem;
  pull.patient_value = kPatientValue;
  out.push_back(pull);

  AuditRecord replay;
  replay.action = AuditAction::kReplay;
  replay.when = t0 + std::chrono::milliseconds(4);
  replay.caller = "ops";
  replay.roles = {"admin"};
  replay.source_address = "192.168.1.4";
  replay.submission_id = "s-3";
  replay.endpoint = "ehr-main";
  replay.operation = "POST /admin/dead-letters/{id}/replay";
  out.push_back(replay);

  AuditRecord admin;
  admin.action = AuditAction::kAdmin;
  admin.outcome = AuditOutcome::kSeriousFailure;
  admin.outcome_text = "connectivity check failed";
  admin.when = t0 + std::chrono::milliseconds(5);
  admin.caller = "ops";
  admin.roles = {"admin", "auditor"};
  admin.source_address = "::1";
  admin.operation = "GET /admin/connectivity";
  out.push_back(admin);
  return out;
}

TEST(AuditEventTest, EveryActionBuildsAValidR4AuditEvent) {
  Pseudonymizer p = MakePseudonymizer();
  const std::string expected_pseudonym =
      HexHmac(kKey, std::to_string(kPatientSystem.size()) + ":" +
                        kPatientSystem + kPatientValue);
  struct Want {
    const char* subtype;
    const char* type_code;
    const char* action;
    const char* outcome;
    const char* who;
    const char* address;  // nullptr: no network
  };
  const Want wants[] = {
      {"submission", "110107", "C", "0", "lab-a-uploader", "10.0.0.7"},
      {"validation-failure", "110107", "C", "4", "lab-a-uploader", "10.0.0.7"},
      {"delivery", "110106", "R", "0", "genogate", nullptr},
      {"pull", "110112", "E", "0", "registry-reader", "2001:db8::5"},
      {"replay", "rest", "E", "0", "ops", "192.168.1.4"},
      {"admin", "rest", "E", "8", "ops", "::1"},
  };
  std::vector<AuditRecord> records = OnePerAction(FakeClock().Now());
  ASSERT_EQ(records.size(), std::size(wants));
  for (size_t i = 0; i < records.size(); ++i) {
    std::string json =
        BuildAuditEventJson(records[i], p, "evt-" + std::to_string(i));
    SCOPED_TRACE(json);
    // Never the patient identifier in clear.
    EXPECT_EQ(json.find(kPatientValue), std::string::npos);
    Result<IssueList> issues =
        SharedValidationEnv().validator->ValidateText(json);
    ASSERT_TRUE(issues.ok()) << issues.error().message();
    EXPECT_TRUE(ErrorsOf(*issues).empty()) << ErrorsOf(*issues).ToText();

    rapidjson::Document d;
    d.Parse(json.c_str());
    ASSERT_TRUE(d.IsObject());
    EXPECT_STREQ(d["resourceType"].GetString(), "AuditEvent");
    EXPECT_EQ(std::string(d["id"].GetString()), "evt-" + std::to_string(i));
    EXPECT_STREQ(d["subtype"][0]["code"].GetString(), wants[i].subtype);
    EXPECT_STREQ(d["type"]["code"].GetString(), wants[i].type_code);
    EXPECT_STREQ(d["action"].GetString(), wants[i].action);
    EXPECT_STREQ(d["outcome"].GetString(), wants[i].outcome);
    EXPECT_EQ(std::string(d["recorded"].GetString()),
              FormatInstant(records[i].when));
    const auto& agent = d["agent"][0];
    EXPECT_STREQ(agent["who"]["identifier"]["value"].GetString(), wants[i].who);
    EXPECT_TRUE(agent["requestor"].GetBool());
    if (wants[i].address != nullptr) {
      EXPECT_STREQ(agent["network"]["address"].GetString(), wants[i].address);
      EXPECT_STREQ(agent["network"]["type"].GetString(), "2");
    } else {
      EXPECT_FALSE(agent.HasMember("network"));
    }
    bool has_patient = !records[i].patient_value.empty();
    bool found_patient = false;
    if (d.HasMember("entity")) {
      for (const auto& e : d["entity"].GetArray()) {
        if (std::string(e["role"]["code"].GetString()) == "1") {
          found_patient = true;
          EXPECT_STREQ(e["what"]["identifier"]["system"].GetString(),
                       "urn:genogate:pseudonym:hmac-sha256");
          EXPECT_EQ(std::string(e["what"]["identifier"]["value"].GetString()),
                    expected_pseudonym);
        }
      }
    }
    EXPECT_EQ(found_patient, has_patient);
  }
  // The instant format.
  EXPECT_EQ(FormatInstant(FakeClock().Now() + std::chrono::milliseconds(7)),
            "2026-01-01T00:00:00.007Z");
}

TEST(AuditEventTest, PseudonymsDependOnKeySystemAndValue) {
  Pseudonymizer a = MakePseudonymizer();
  Pseudonymizer b = MakePseudonymizer(kKey + "x");
  EXPECT_EQ(a.Pseudonym("s", "v"), a.Pseudonym("s", "v"));
  EXPECT_NE(a.Pseudonym("s", "v"), b.Pseudonym("s", "v"));
  EXPECT_NE(a.Pseudonym("s", "v"), a.Pseudonym("s2", "v"));
  EXPECT_NE(a.Pseudonym("s|", "v"), a.Pseudonym("s", "|v"));
  EXPECT_EQ(a.Pseudonym("s", "v").size(), 64u);
  EXPECT_FALSE(Pseudonymizer::Create("short").ok());
  // Moves keep the key.
  Pseudonymizer moved = std::move(a);
  EXPECT_EQ(moved.Pseudonym("s", "v"), HexHmac(kKey, "1:sv"));
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisServer::Options o;
    o.appendfsync = "always";
    redis_ = RedisServer::Start(o);
    ASSERT_NE(redis_, nullptr);
    log_ = Open();
    ASSERT_NE(log_, nullptr);
  }
  std::unique_ptr<AuditLog> Open() {
    AuditLogOptions o;
    o.redis = *RedisOptions::FromUrl(redis_->url());
    Result<std::unique_ptr<AuditLog>> log =
        AuditLog::Open(o, MakePseudonymizer());
    EXPECT_TRUE(log.ok()) << log.error().message();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  std::vector<std::string> ReadAll(AuditLog* log) {
    Result<std::string> nd =
        log->ReadNdjson(Timestamp::min(), Timestamp::max(), 5000);
    EXPECT_TRUE(nd.ok()) << nd.error().message();
    std::vector<std::string> lines;
    size_t start = 0;
    while (nd.ok() && start < nd->size()) {
      size_t nl = nd->find('\n', start);
      lines.push_back(nd->substr(start, nl - start));
      start = nl + 1;
    }
    return lines;
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, EachActionLeavesExactlyOneEventAndSurvivesRestart) {
  const Timestamp t0 = FakeClock().Now();
  std::vector<AuditRecord> records = OnePerAction(t0);
  for (const AuditRecord& r : records) ASSERT_TRUE(log_->Record(r).ok());
  std::vector<std::string> lines = ReadAll(log_.get());
  ASSERT_EQ(lines.size(), records.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    rapidjson::Document d;
    d.Parse(lines[i].c_str());
    ASSERT_TRUE(d.IsObject()) << lines[i];
    EXPECT_EQ(std::string(d["subtype"][0]["code"].GetString()),
              AuditActionName(records[i].action));
    EXPECT_EQ(std::string(d["recorded"].GetString()),
              FormatInstant(records[i].when));
    EXPECT_EQ(lines[i].find(kPatientValue), std::string::npos);
  }
  // Ids are unique.
  std::set<std::string> ids;
  for (const std::string& l : lines) {
    rapidjson::Document d;
    d.Parse(l.c_str());
    ids.insert(d["id"].GetString());
  }
  EXPECT_EQ(ids.size(), lines.size());
  // Nothing about the patient in clear anywhere in Redis.
  std::string dump = redis_->Cli({"XRANGE", "genogate:audit", "-", "+"});
  EXPECT_NE(dump.find("AuditEvent"), std::string::npos);
  EXPECT_EQ(dump.find(kPatientValue), std::string::npos);

  // Crash Redis and the gateway; both come back with the same trail.
  redis_->Kill();
  log_.reset();
  ASSERT_TRUE(redis_->Restart());
  log_ = Open();
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(ReadAll(log_.get()), lines);
  AuditRecord more = records[0];
  more.when = t0 + std::chrono::seconds(1);
  ASSERT_TRUE(log_->Record(more).ok());
  EXPECT_EQ(ReadAll(log_.get()).size(), lines.size() + 1);
}

TEST_F(AuditLogTest, ReadsByTimeRangeWithLimits) {
  const Timestamp t0 = FakeClock().Now();
  for (int h = 0; h < 5; ++h) {
    AuditRecord r;
    r.action = AuditAction::kAdmin;
    r.caller = "ops";
    r.operation = "op-" + std::to_string(h);
    r.when = t0 + std::chrono::hours(h);
    ASSERT_TRUE(log_->Record(r).ok());
  }
  auto ops = [&](Timestamp from, Timestamp to, size_t limit) {
    std::vector<std::string> out;
    Result<size_t> n =
        log_->ReadRange(from, to, limit, [&](std::string_view j) {
          rapidjson::Document d;
          d.Parse(j.data(), j.size());
          out.push_back(d["entity"][0]["description"].GetString());
          return true;
        });
    EXPECT_TRUE(n.ok());
    EXPECT_EQ(*n, out.size());
    return out;
  };
  using std::chrono::hours;
  using std::chrono::minutes;
  EXPECT_EQ(ops(t0 + minutes(30), t0 + minutes(150), 100),
            (std::vector<std::string>{"op-1", "op-2"}));
  // Both ends are inclusive.
  EXPECT_EQ(ops(t0 + hours(1), t0 + hours(3), 100),
            (std::vector<std::string>{"op-1", "op-2", "op-3"}));
  EXPECT_EQ(ops(t0, t0 + hours(10), 2),
            (std::vector<std::string>{"op-0", "op-1"}));
  EXPECT_TRUE(ops(t0 + hours(6), t0 + hours(7), 100).empty());
  EXPECT_TRUE(ops(t0 + hours(3), t0 + hours(1), 100).empty());
  // The sink can stop early.
  size_t seen = 0;
  Result<size_t> n =
      log_->ReadRange(t0, t0 + hours(10), 100, [&](std::string_view) {
        ++seen;
        return seen < 3;
      });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
}

TEST_F(AuditLogTest, ManyEventsPageAndAClockBehindStillAppends) {
  const Timestamp t0 = FakeClock().Now();
  for (int i = 0; i < 520; ++i) {
    AuditRecord r;
    r.action = AuditAction::kSubmission;
    r.caller = "lab";
    r.submission_id = "s-" + std::to_string(i);
    r.when = t0 + std::chrono::milliseconds(i / 3);  // several per ms
    ASSERT_TRUE(log_->Record(r).ok());
  }
  EXPECT_EQ(ReadAll(log_.get()).size(), 520u);
  // Another replica whose clock is an hour behind: still stored, in order
  // of storage.
  AuditRecord late;
  late.action = AuditAction::kDelivery;
  late.submission_id = "late";
  late.when = t0 - std::chrono::hours(1);
  ASSERT_TRUE(log_->Record(late).ok());
  std::vector<std::string> all = ReadAll(log_.get());
  ASSERT_EQ(all.size(), 521u);
  EXPECT_NE(all.back().find("\"late\""), std::string::npos);
}

TEST_F(AuditLogTest, RedisDownIsUnavailable) {
  redis_->Kill();
  AuditRecord r;
  r.when = FakeClock().Now();
  Status s = log_->Record(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
}

TEST_F(AuditLogTest, AuditorReadsNdjsonOverHttp) {
  const Timestamp t0 = FakeClock().Now();  // 2026-01-01T00:00:00Z
  for (int h = 0; h < 4; ++h) {
    AuditRecord r;
    r.action = AuditAction::kAdmin;
    r.caller = "ops";
    r.operation = "op-" + std::to_string(h);
    r.when = t0 + std::chrono::hours(24 * h);
    ASSERT_TRUE(log_->Record(r).ok());
  }
  auto get = [&](std::vector<std::pair<std::string, std::string>> query) {
    HttpRequest req;
    req.method = "GET";
    req.path = "/audit";
    req.query = std::move(query);
    return HandleAuditRead(*log_, req);
  };
  auto lines = [](const HttpResponse& r) {
    return std::count(r.body.begin(), r.body.end(), '\n');
  };
  HttpResponse all = get({});
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.Header("Content-Type"), "application/fhir+ndjson");
  EXPECT_EQ(lines(all), 4);
  // Dates cover whole days; instants are exact.
  EXPECT_EQ(lines(get({{"since", "2026-01-02"}, {"until", "2026-01-03"}})), 2);
  EXPECT_EQ(lines(get({{"since", "2026-01-02T00:00:00.001Z"}})), 2);
  EXPECT_EQ(lines(get({{"until", "2026-01-01T23:00:00-01:00"}})), 2);
  EXPECT_EQ(lines(get({{"_count", "3"}})), 3);
  for (const auto& bad : std::vector<std::pair<std::string, std::string>>{
           {"since", "yesterday"},
           {"since", "2026-02-30"},
           {"until", "2026-01-01T10:00:00"},
           {"until", "2026-13-01"},
           {"_count", "0"},
           {"_count", "-1"},
           {"_count", "1000000"}}) {
    HttpResponse r = get({bad});
    EXPECT_EQ(r.status, 400) << bad.first << "=" << bad.second;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
  }
  redis_->Kill();
  HttpResponse down = get({});
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.Header("Retry-After"), "5");
}

TEST(AuditHttpTest, RecordForARequestAndTimes) {
  HttpRequest req;
  req.caller = "lab-a-uploader";
  req.roles = {"lab"};
  req.caller_lab = "lab-a";
  req.remote_address = "[2001:db8::1]:4000";
  req.request_id = "r-9";
  FakeClock clock;
  AuditRecord r = AuditRecordFor(req, AuditAction::kSubmission, clock);
  EXPECT_EQ(r.caller, "lab-a-uploader");
  EXPECT_EQ(r.lab, "lab-a");
  EXPECT_EQ(r.roles, std::vector<std::string>{"lab"});
  EXPECT_EQ(r.source_address, "[2001:db8::1]:4000");
  EXPECT_EQ(r.request_id, "r-9");
  EXPECT_EQ(r.when, clock.Now());
  EXPECT_EQ(ToUnixMillis(*ParseAuditTime("2026-01-01T00:00:00Z", false)),
            ToUnixMillis(clock.Now()));
  EXPECT_EQ(
      ToUnixMillis(*ParseAuditTime("2026-01-01T01:30:00.25+01:30", false)),
      ToUnixMillis(clock.Now()) + 250);
  EXPECT_EQ(ToUnixMillis(*ParseAuditTime("2025-12-31", true)),
            ToUnixMillis(clock.Now()) - 1);
}

TEST(AuditHelpersTest, DescribeSearchKeepsNamesAndPseudonymisesThePatient) {
  AuditRecord r;
  DescribeSearch(
      "Observation?subject:Patient.identifier=urn:oid:1.2%7CMRN%2042&code=x&"
      "_count=10",
      &r);
  EXPECT_EQ(r.operation,
            "GET Observation?subject:Patient.identifier&code&"
            "_count");
  EXPECT_EQ(r.patient_system, "urn:oid:1.2");
  EXPECT_EQ(r.patient_value, "MRN 42");
  AuditRecord plain;
  DescribeSearch("Patient?identifier=abc&name=Smith", &plain);
  EXPECT_EQ(plain.operation, "GET Patient?identifier&name");
  EXPECT_EQ(plain.patient_system, "");
  EXPECT_EQ(plain.patient_value, "abc");
  AuditRecord none;
  DescribeSearch("DiagnosticReport?accession-identifier=A1", &none);
  EXPECT_EQ(none.operation, "GET DiagnosticReport?accession-identifier");
  EXPECT_TRUE(none.patient_value.empty());  // "-identifier" is not ours
  AuditRecord bare;
  DescribeSearch("Patient", &bare);
  EXPECT_EQ(bare.operation, "GET Patient");
}

TEST(AuditHelpersTest, FindPatientIdentifierInABundleOrAPatient) {
  std::string system, value;
  EXPECT_TRUE(FindPatientIdentifier(
      R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":)"
      R"("Specimen","identifier":[{"value":"S1"}]}},{"resource":{)"
      R"("resourceType":"Patient","identifier":[{"system":"urn:x"},)"
      R"({"system":"urn:mrn","value":"P-1"}]}}]})",
      &system, &value));
  EXPECT_EQ(system, "urn:mrn");
  EXPECT_EQ(value, "P-1");
  EXPECT_TRUE(FindPatientIdentifier(
      R"({"resourceType":"Patient","identifier":[{"value":"P-2"}]})", &system,
      &value));
  EXPECT_EQ(system, "");
  EXPECT_EQ(value, "P-2");
  value = "unchanged";
  EXPECT_FALSE(
      FindPatientIdentifier(R"({"resourceType":"Bundle"})", &system, &value));
  EXPECT_FALSE(FindPatientIdentifier("not json", &system, &value));
  EXPECT_EQ(value, "unchanged");
}

TEST(MemoryAuditSinkTest, KeepsRecords) {
  MemoryAuditSink sink;
  AuditRecord r;
  r.submission_id = "s-1";
  ASSERT_TRUE(sink.Record(r).ok());
  ASSERT_EQ(sink.records().size(), 1u);
  EXPECT_EQ(sink.records()[0].submission_id, "s-1");
}

}  // namespace
}  // namespace genogate::gateway

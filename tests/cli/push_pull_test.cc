// `genogate push` and `genogate pull` as a user runs them: the built binary
// against the HAPI test EHR (GENOGATE_TEST_EHR_URL, tests named Ehr*), a
// file:// outbox and a port where nothing listens.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/file.h"
#include "cli/cli_test_util.h"
#include "gateway/http/test_peers.h"
#include "gateway/security/audit.h"
#include "testing/redis_server.h"
#include "testing/test_env.h"

namespace genogate::cli {
namespace {

using testing::CliRun;
using testing::RunGenogate;

std::string Example() {
  return genogate::testing::GenomicsPackageDir() +
         "/example/Bundle-bundle-oncology-report-example.json";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("genogate-cli-" + std::to_string(::getpid())))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CliTest, PushToFileOutbox) {
  CliRun r = RunGenogate("push '" + Example() + "' --to 'file://" + dir_ + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("file:Bundle-bundle-oncology-report-example.json"),
            std::string::npos)
      << r.out;
  Result<std::string> written =
      ReadFile(dir_ + "/Bundle-bundle-oncology-report-example.json");
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, genogate::testing::ReadTestFile(Example()));
}

TEST_F(CliTest, PushToStoppedServerExits2) {
  std::string where =
      "127.0.0.1:" + std::to_string(gateway::testing::FreePort());
  CliRun r =
      RunGenogate("push '" + Example() + "' --to http://" + where + "/fhir");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(where), std::string::npos) << r.out;
}

// With an audit key, a pull leaves one "pull" AuditEvent in the audit
// stream: who, the parameter names, the patient searched for as a pseudonym
// only; when the event cannot be stored nothing is written (exit 2).
TEST_F(CliTest, PullIsAuditedWithThePatientPseudonymised) {
  auto redis = genogate::testing::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  gateway::testing::TestHttpServer ehr([](const std::string&,
                                          const std::string&) {
    return gateway::testing::TestHttpServer::Response(
        200,
        "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":"
        "[{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o1\"}}]}",
        "Content-Type: application/fhir+json\r\n");
  });
  const std::string key = "pull-audit-test-key-0123456789abcdef";
  const std::string key_file = dir_ + "/audit.key";
  ASSERT_TRUE(WriteFileAtomic(key_file, key).ok());
  std::filesystem::permissions(
      key_file,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string query =
      "'Observation?subject:Patient.identifier=urn:oid:1.2%7CPULLMARKER"
      "&code=69548-6'";
  CliRun ok = RunGenogate("pull --from " + ehr.url() + " " + query +
                          " --audit-key-file '" + key_file + "' --redis " +
                          redis->url() + " -o '" + dir_ + "/out.ndjson'");
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/out.ndjson"));
  std::string trail = redis->Cli({"XRANGE", "genogate:audit", "-", "+"});
  EXPECT_NE(trail.find("\"code\":\"pull\""), std::string::npos) << trail;
  EXPECT_NE(trail.find("GET Observation?subject:Patient.identifier&code"),
            std::string::npos)
      << trail;
  EXPECT_NE(trail.find("\"value\":\"cli:"), std::string::npos) << trail;
  EXPECT_NE(trail.find("{\"type\":\"resources\",\"valueString\":\"1\"}"),
            std::string::npos)
      << trail;
  EXPECT_EQ(trail.find("PULLMARKER"), std::string::npos) << trail;
  auto p = gateway::Pseudonymizer::Create(key);
  ASSERT_TRUE(p.ok());
  EXPECT_NE(trail.find(p->Pseudonym("urn:oid:1.2", "PULLMARKER")),
            std::string::npos);

  redis->Kill();
  CliRun refused =
      RunGenogate("pull --from " + ehr.url() + " " + query +
                  " --audit-key-file '" + key_file + "' --redis " +
                  redis->url() + " -o '" + dir_ + "/refused.ndjson'");
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/refused.ndjson"));
}

TEST_F(CliTest, UsageErrors) {
  EXPECT_EQ(RunGenogate("push '" + Example() + "'").exit_code, 2);
  EXPECT_EQ(RunGenogate("push '" + Example() + "' --endpoint x").exit_code, 2);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/gg.yaml",
                              "endpoints:\n  - name: a\n    uri: x\n")
                  .ok());
  CliRun r = RunGenogate("push '" + Example() + "' --endpoint a --config '" +
                         dir_ + "/gg.yaml'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("gg.yaml:3: endpoint 'a'.uri: unknown key"),
            std::string::npos)
      << r.out;
}

class EhrCliTest : public CliTest {
 protected:
  void SetUp() override {
    const char* url = std::getenv("GENOGATE_TEST_EHR_URL");
    if (url == nullptr) {
      GTEST_SKIP() << "GENOGATE_TEST_EHR_URL is not set (run through "
                      "scripts/e2e-ehr.sh)";
    }
    url_ = url;
    CliTest::SetUp();
  }
  std::string url_;
};

TEST_F(EhrCliTest, EhrPushByConfigThenPull) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/gg.yaml",
                              "endpoints:\n  - name: hapi\n    url: " + url_ +
                                  "\n    timeout_ms: 120000\n")
                  .ok());
  CliRun push =
      RunGenogate("push '" + Example() + "' --endpoint hapi --config '" + dir_ +
                  "/gg.yaml'");
  ASSERT_EQ(push.exit_code, 0) << push.out;
  size_t at = push.out.find("DiagnosticReport/");
  ASSERT_NE(at, std::string::npos) << push.out;
  std::string report = push.out.substr(at, push.out.find('\n', at) - at);
  std::string id = report.substr(report.find('/') + 1);
  CliRun pull = RunGenogate("pull hapi --config '" + dir_ + "/gg.yaml' " +
                            "'DiagnosticReport?_id=" + id + "' -o '" + dir_ +
                            "/out.ndjson'");
  ASSERT_EQ(pull.exit_code, 0) << pull.out;
  Result<std::string> nd = ReadFile(dir_ + "/out.ndjson");
  ASSERT_TRUE(nd.ok());
  EXPECT_EQ(std::count(nd->begin(), nd->end(), '\n'), 1);
  EXPECT_NE(nd->find("\"id\":\"" + id + "\""), std::string::npos);
  // --from and stdout.
  CliRun pull2 =
      RunGenogate("pull --from " + url_ + " 'DiagnosticReport?_id=" + id + "'");
  ASSERT_EQ(pull2.exit_code, 0) << pull2.out;
  EXPECT_NE(pull2.out.find("\"resourceType\":\"DiagnosticReport\""),
            std::string::npos);
}

TEST_F(EhrCliTest, EhrRejectedBundleExits1WithOperationOutcome) {
  std::string bad = genogate::testing::ReadTestFile(Example());
  size_t at = bad.find("\"status\":\"final\"");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, 16, "\"status\":\"finished\"");
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/bad.json", bad).ok());
  CliRun r = RunGenogate("push '" + dir_ + "/bad.json' --to " + url_);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("HTTP 400"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OperationOutcome from the server:"), std::string::npos);
  EXPECT_NE(r.out.find("finished"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace genogate::cli

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

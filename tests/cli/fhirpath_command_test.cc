// `genogate fhirpath`: results as JSON, one JSON line per expression with
// --expressions, trace() on standard error, exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cli/cli_test_util.h"
#include "testing/test_env.h"

namespace genogate::cli {
namespace {

using testing::CliRun;

// Runs the genogate binary with `args` (a shell fragment) over the test
// package cache; stderr goes to `err_file` when given.
CliRun Genogate(const std::string& args,
                const std::string& err_file = "/dev/null") {
  setenv("GENOGATE_PACKAGE_CACHE", genogate::testing::PackageCache().c_str(),
         1);
  return testing::RunGenogate(args, "2>\"" + err_file + "\"");
}

std::string TempFile(const std::string& name, const std::string& content) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

constexpr char kPatient[] =
    R"({"resourceType": "Patient", "id": "p1", "active": true,
        "name": [{"family": "Chalmers", "given": ["Peter", "James"]}],
        "birthDate": "1974-12-25"})";

TEST(FhirPathCommand, PrintsTheResultAsJson) {
  std::string in = TempFile("patient.json", kPatient);
  CliRun r = Genogate("fhirpath 'name.given' --input \"" + in + "\"");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "[\"Peter\",\"James\"]\n");
  r = Genogate("fhirpath \"birthDate < @2000-01-01 and active\" --input \"" +
               in + "\"");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "[true]\n");
  r = Genogate("fhirpath 'name[0]' --input \"" + in + "\"");
  EXPECT_EQ(r.out,
            "[{\"family\":\"Chalmers\",\"given\":[\"Peter\",\"James\"]}]\n");
  r = Genogate("fhirpath '1 + 1'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "[2]\n");
}

TEST(FhirPathCommand, SyntaxErrorExitsOne) {
  std::string err = ::testing::TempDir() + "/fhirpath_err.txt";
  CliRun r = Genogate("fhirpath 'name.where('", err);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  std::ifstream e(err);
  std::string msg((std::istreambuf_iterator<char>(e)),
                  std::istreambuf_iterator<char>());
  EXPECT_NE(msg.find("line 1, column 12: expected an expression"),
            std::string::npos)
      << msg;
}

TEST(FhirPathCommand, ExpressionsFileGivesOneLineEach) {
  std::string in = TempFile("patient2.json", kPatient);
  std::string exprs =
      TempFile("exprs.txt", "name.family\n\nname.given.single()\nfoo(\n");
  CliRun r = Genogate("fhirpath --expressions \"" + exprs + "\" --input \"" +
                      in + "\"");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "{\"result\":[\"Chalmers\"]}\n"
            "{\"error\":\"FHIRPath evaluation error at column 12: single() "
            "requires a "
            "single item, found 2\"}\n"
            "{\"error\":\"line 1, column 1: unknown function 'foo'\"}\n");
  std::string json = TempFile("exprs.json", R"j(["id", "active.not()"])j");
  r = Genogate("fhirpath --expressions \"" + json + "\" --input \"" + in +
               "\"");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "{\"result\":[\"p1\"]}\n{\"result\":[false]}\n");
}

TEST(FhirPathCommand, TraceGoesToStandardError) {
  std::string in = TempFile("patient3.json", kPatient);
  std::string err = ::testing::TempDir() + "/fhirpath_trace.txt";
  CliRun r = Genogate(
      "fhirpath \"name.given.trace('g').count()\" --input \"" + in + "\"", err);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "[2]\n");
  std::ifstream e(err);
  std::string msg((std::istreambuf_iterator<char>(e)),
                  std::istreambuf_iterator<char>());
  EXPECT_EQ(msg, "trace: g: [\"Peter\",\"James\"]\n");
}

TEST(FhirPathCommand, UsageErrorExitsTwo) {
  EXPECT_EQ(Genogate("fhirpath").exit_code, 2);
  EXPECT_EQ(Genogate("fhirpath 'id' --input /nonexistent/file.json").exit_code,
            2);
}

}  // namespace
}  // namespace genogate::cli

#include "fhir/operation_outcome.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/json_equal.h"
#include "testing/test_env.h"

namespace genogate::fhir {
namespace {

TEST(OperationOutcomeTest, IssuesBecomeTypedOutcomeWithLocationsAndLines) {
  IssueList issues;
  issues.Add({Severity::kError, "structure", "unknown element 'foo' in Patient",
              "Patient.foo", 4, 2, "unknown-element"});
  issues.Add({Severity::kWarning, "code-invalid", "code not in value set", "",
              0, 0, ""});
  std::string json = OperationOutcomeJson(issues);
  EXPECT_EQ(genogate::testing::JsonDifference(
                R"({"resourceType":"OperationOutcome","issue":[
    {"extension":[
      {"url":"http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line","valueInteger":4},
      {"url":"http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col","valueInteger":2},
      {"url":"http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id","valueString":"unknown-element"}],
     "severity":"error","code":"structure","details":{"text":"unknown element 'foo' in Patient"},
     "expression":["Patient.foo"]},
    {"severity":"warning","code":"code-invalid","details":{"text":"code not in value set"}}]})",
                json),
            "");
  auto set = PackageSet::Open(genogate::testing::DefaultPackageDirs());
  ASSERT_TRUE(set.ok());
  Schema schema(set->get());
  Result<Node> node = OperationOutcomeNode(issues, schema);
  ASSERT_TRUE(node.ok()) << node.error().message();
  EXPECT_EQ(node->type_name(), "OperationOutcome");
  EXPECT_EQ(node->Children("issue").size(), 2u);
  Result<std::string> xml = WriteXml(*node);
  ASSERT_TRUE(xml.ok());
  EXPECT_THAT(*xml,
              ::testing::HasSubstr("<expression value=\"Patient.foo\"/>"));
}

TEST(OperationOutcomeTest, EmptyListSaysNoIssues) {
  std::string json = OperationOutcomeJson(IssueList());
  EXPECT_THAT(json, ::testing::HasSubstr(R"("severity":"information")"));
  EXPECT_THAT(json, ::testing::HasSubstr("No issues found"));
}

TEST(OperationOutcomeTest, FromError) {
  IssueList l = IssuesFromError(Error(ErrorCode::kLimitExceeded, "too big"));
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.issues()[0].severity, Severity::kError);
  EXPECT_EQ(l.issues()[0].code, "limit-exceeded");
  EXPECT_EQ(
      IssuesFromError(Error(ErrorCode::kInternal, "bug")).issues()[0].severity,
      Severity::kFatal);
}

}  // namespace
}  // namespace genogate::fhir

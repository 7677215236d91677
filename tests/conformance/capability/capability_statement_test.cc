// The generated CapabilityStatement is valid R4 and lists what is loaded.
#include "conformance/capability_statement.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>

#include "testing/validation_env.h"

namespace genogate::conformance {
namespace {

using genogate::testing::ErrorsOf;
using genogate::testing::SharedValidationEnv;

TEST(CapabilityStatementTest, ValidAndListsTheIgProfiles) {
  const auto& env = SharedValidationEnv();
  CapabilityOptions o;
  o.date = "2026-11-29T12:00:00Z";
  o.software_version = "0.1.0";
  o.url = "https://gateway.example.org/fhir";
  o.operations = {
      {"validate", "http://hl7.org/fhir/OperationDefinition/Resource-validate",
       true},
      {"convert", "urn:genogate:OperationDefinition:convert", false}};
  Result<std::string> json = CapabilityStatementJson(*env.packages, o);
  ASSERT_TRUE(json.ok());
  Result<IssueList> issues = env.validator->ValidateText(*json);
  ASSERT_TRUE(issues.ok());
  EXPECT_EQ(ErrorsOf(*issues).ToText(), "");

  rapidjson::Document d;
  d.Parse(json->c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["kind"].GetString(), "instance");
  EXPECT_STREQ(d["fhirVersion"].GetString(), "4.0.1");
  const auto& rest = d["rest"][0];
  std::set<std::string> types, observation_profiles;
  for (const auto& r : rest["resource"].GetArray()) {
    types.insert(r["type"].GetString());
    if (std::string(r["type"].GetString()) == "Observation") {
      for (const auto& p : r["supportedProfile"].GetArray()) {
        observation_profiles.insert(p.GetString());
      }
      EXPECT_STREQ(r["operation"][0]["name"].GetString(), "validate");
    }
  }
  for (const char* t :
       {"Bundle", "Observation", "DiagnosticReport", "Procedure"}) {
    EXPECT_TRUE(types.count(t)) << t;
  }
  // Every resource profile of the IG with type Observation, and only those.
  size_t expected = 0;
  for (const fhir::ResourceEntry* e :
       env.packages->EntriesOfType("StructureDefinition")) {
    if (env.packages->packages()[e->package].name ==
            "hl7.fhir.uv.genomics-reporting" &&
        e->derivation == "constraint" && e->kind == "resource" &&
        e->type == "Observation") {
      ++expected;
      EXPECT_TRUE(observation_profiles.count(e->url)) << e->url;
    }
  }
  EXPECT_EQ(observation_profiles.size(), expected);
  EXPECT_TRUE(observation_profiles.count(
      "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
      "variant"));
  EXPECT_STREQ(rest["interaction"][0]["code"].GetString(), "transaction");
  EXPECT_EQ(rest["operation"].Size(), 2u);
}

TEST(CapabilityStatementTest, NeedsADate) {
  Result<std::string> json =
      CapabilityStatementJson(*SharedValidationEnv().packages, {});
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.error().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace genogate::conformance

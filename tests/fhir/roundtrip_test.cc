// Every resource of HL7's R4 examples package round-trips
// JSON -> XML -> JSON to a document equal to the original (decimals by
// their text), and parses with no structure issue.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/resource_files.h"
#include "fhir/schema.h"
#include "testing/json_equal.h"
#include "testing/schema_test.h"
#include "testing/test_env.h"

namespace genogate::fhir {
namespace {

class RoundTripTest : public genogate::testing::SchemaTest {};

void CheckDirectory(const std::string& dir, const Schema& schema,
                    size_t min_files) {
  std::vector<std::string> files = ListResourceFiles(dir, {".json"});
  ASSERT_GE(files.size(), min_files) << dir;
  size_t passed = 0;
  std::vector<std::string> failures;
  for (const std::string& name : files) {
    std::string original = genogate::testing::ReadTestFile(dir + "/" + name);
    auto fail = [&](const std::string& why) {
      if (failures.size() < 40)
        failures.push_back(name + ": " + why);
      else if (failures.size() == 40)
        failures.push_back("...");
    };
    Result<Document> doc = ParseJson(original, &schema);
    if (!doc.ok()) {
      fail("parse JSON: " + doc.error().message());
      continue;
    }
    if (!doc->issues.empty()) {
      fail("JSON issues: " + doc->issues.ToText());
      continue;
    }
    Result<std::string> xml = WriteXml(doc->root, {.pretty = true});
    if (!xml.ok()) {
      fail("write XML: " + xml.error().message());
      continue;
    }
    Result<Document> back = ParseXml(*xml, schema);
    if (!back.ok()) {
      fail("parse XML: " + back.error().message());
      continue;
    }
    if (!back->issues.empty()) {
      fail("XML issues: " + back->issues.ToText());
      continue;
    }
    Result<std::string> json = WriteJson(back->root);
    if (!json.ok()) {
      fail("write JSON: " + json.error().message());
      continue;
    }
    std::string diff = genogate::testing::JsonDifference(original, *json);
    if (!diff.empty()) {
      fail("differs: " + diff);
      continue;
    }
    ++passed;
  }
  std::string report;
  for (const std::string& f : failures) report += f + "\n";
  EXPECT_EQ(passed, files.size()) << "of " << files.size() << " resources in "
                                  << dir << ", these did not round-trip:\n"
                                  << report;
}

TEST_F(RoundTripTest, EveryR4ExampleRoundTripsThroughXml) {
  // 5,306 resources plus package.json = the package's 5,307 files.
  CheckDirectory(genogate::testing::R4ExamplesDir(), *schema_, 5306);
}

TEST_F(RoundTripTest, EveryGenomicsIgExampleRoundTripsThroughXml) {
  CheckDirectory(genogate::testing::GenomicsPackageDir() + "/example", *schema_,
                 204);
}

}  // namespace
}  // namespace genogate::fhir

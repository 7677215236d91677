// Every resource of HL7's R4 examples package round-trips
// JSON -> XML -> JSON to a document equal to the original (decimals by
// their text), and parses with no structure issue.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/json_equal.h"
#include "testing/test_env.h"

namespace genogate::fhir {
namespace {

std::vector<std::string> JsonFiles(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0 &&
        n[0] != '.' && n != "package.json") {
      out.push_back(n);
    }
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

class RoundTripTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto set = PackageSet::Open(genogate::testing::DefaultPackageDirs());
    ASSERT_TRUE(set.ok()) << set.error().message();
    packages_ = std::move(set).value().release();
    schema_ = new Schema(packages_);
  }
  static void TearDownTestSuite() {
    delete schema_;
    delete packages_;
  }
  static PackageSet* packages_;
  static Schema* schema_;
};
PackageSet* RoundTripTest::packages_ = nullptr;
Schema* RoundTripTest::schema_ = nullptr;

void CheckDirectory(const std::string& dir, const Schema& schema,
                    size_t min_files) {
  std::vector<std::string> files = JsonFiles(dir);
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

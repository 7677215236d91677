// PackageSet over a plain folder of conformance resources in FHIR XML:
// indexed like JSON ones, loaded as FHIR JSON, DOCTYPEs refused.
#include "fhir/package.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "testing/test_env.h"

namespace genogate::fhir {
namespace {

class PackageXmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("genogate-package-xml-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::copy(
        genogate::testing::SourceDir() + "/tests/data/validator/national",
        dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<PackageSet> Open() {
    std::vector<std::string> dirs = genogate::testing::DefaultPackageDirs();
    dirs.push_back(dir_.string());
    auto set = PackageSet::Open(dirs);
    EXPECT_TRUE(set.ok()) << set.error().message();
    return set.ok() ? std::move(set).value() : nullptr;
  }

  std::filesystem::path dir_;
};

TEST_F(PackageXmlTest, XmlStructureDefinitionIsIndexedAndLoadedAsJson) {
  auto set = Open();
  ASSERT_NE(set, nullptr);
  const std::string url =
      "http://example.org/fhir/national/StructureDefinition/"
      "national-variant-strict";
  const ResourceEntry* e = set->FindEntry(url);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->resource_type, "StructureDefinition");
  EXPECT_EQ(e->id, "national-variant-strict");
  EXPECT_EQ(e->version, "0.1.0");
  EXPECT_EQ(e->kind, "resource");
  EXPECT_EQ(e->type, "Observation");
  EXPECT_EQ(e->derivation, "constraint");
  std::string err;
  const Json* sd = set->Find(url, &err);
  ASSERT_NE(sd, nullptr) << err;
  EXPECT_STREQ((*sd)["resourceType"].GetString(), "StructureDefinition");
  EXPECT_FALSE((*sd)["abstract"].GetBool());  // a JSON boolean, not text
  const auto& elems = (*sd)["differential"]["element"];
  ASSERT_TRUE(elems.IsArray());  // repeating elements become arrays
  ASSERT_EQ(elems.Size(), 3u);
  EXPECT_STREQ(elems[1]["id"].GetString(), "Observation.status");
  EXPECT_STREQ(elems[1]["fixedCode"].GetString(), "final");
  EXPECT_EQ(elems[2]["min"].GetInt(), 1);  // an integer, not text
  // The XML ValueSet beside it.
  const Json* vs =
      set->Find("http://example.org/fhir/national/ValueSet/genomic-source");
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ((*vs)["compose"]["include"][0]["concept"].Size(), 2u);
  // The index written beside the resources is reused on the next open.
  EXPECT_TRUE(std::filesystem::exists(dir_ / ".genogate-index.json"));
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_NE(again->FindEntry(url), nullptr);
}

TEST_F(PackageXmlTest, XmlWithDoctypeOrNotFhirIsSkipped) {
  std::ofstream(dir_ / "ValueSet-doctype.xml")
      << "<?xml version=\"1.0\"?>\n<!DOCTYPE ValueSet [<!ENTITY a \"x\">]>\n"
         "<ValueSet xmlns=\"http://hl7.org/fhir\"><url "
         "value=\"http://example.org/vs/doctype\"/></ValueSet>";
  std::ofstream(dir_ / "not-fhir.xml")
      << "<ValueSet><url value=\"http://example.org/vs/nons\"/></ValueSet>";
  auto set = Open();
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->FindEntry("http://example.org/vs/doctype"), nullptr);
  EXPECT_EQ(set->FindEntry("http://example.org/vs/nons"), nullptr);
  // The good files of the folder are still there.
  EXPECT_NE(set->FindEntry("http://example.org/fhir/national/ValueSet/"
                           "genomic-source"),
            nullptr);
}

TEST_F(PackageXmlTest, BrokenXmlResourceFailsToLoadWithAReason) {
  // Indexed (the top-level fields are fine), but an unknown element inside
  // makes it unusable as a definition.
  std::ofstream(dir_ / "ValueSet-broken.xml")
      << "<ValueSet xmlns=\"http://hl7.org/fhir\"><url "
         "value=\"http://example.org/vs/broken\"/><status value=\"draft\"/>"
         "<compose><bogus value=\"1\"/></compose></ValueSet>";
  auto set = Open();
  ASSERT_NE(set, nullptr);
  ASSERT_NE(set->FindEntry("http://example.org/vs/broken"), nullptr);
  std::string err;
  EXPECT_EQ(set->Find("http://example.org/vs/broken", &err), nullptr);
  EXPECT_NE(err.find("ValueSet-broken.xml"), std::string::npos) << err;
  EXPECT_NE(err.find("bogus"), std::string::npos) << err;
}

}  // namespace
}  // namespace genogate::fhir

// Lab mapping profiles: the example profile, how command-line values and the
// profile combine, identifiers from the VCF sample name, and errors that
// name file, line and key.
#include "mappers/lab_profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/schema_test.h"
#include "testing/test_env.h"

namespace genogate::mappers {
namespace {

namespace fs = std::filesystem;
using genogate::testing::DataDir;
using genogate::testing::SourceDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(LabProfileTest, ExampleProfileReadsEveryKeyAndItsBedFiles) {
  Result<LabProfile> p =
      LoadLabProfile(SourceDir() + "/examples/lab-profile.yaml");
  ASSERT_TRUE(p.ok()) << p.error().message();
  const ConvertOptions& o = p->options;
  EXPECT_EQ(o.lab, "Example Genomics Lab");
  EXPECT_EQ(o.build, "GRCh38");
  EXPECT_EQ(o.source_class, "germline");
  EXPECT_TRUE(o.pass_only);
  EXPECT_FALSE(o.keep_going);
  EXPECT_EQ(o.patient.system, "urn:oid:2.16.840.1.113883.3.999.1");
  EXPECT_TRUE(o.patient.value.empty());
  EXPECT_TRUE(o.patient_from_sample);
  EXPECT_EQ(o.accession.system, "urn:oid:2.16.840.1.113883.3.999.2");
  EXPECT_TRUE(o.specimen_from_sample);
  ASSERT_TRUE(o.regions.has_value());
  EXPECT_EQ(o.regions->size(), 3u);  // relative to the profile's folder
  ASSERT_TRUE(o.studied.has_value());
  EXPECT_TRUE(o.regions->Overlaps("17", 43057062, 43057063));
}

TEST(LabProfileTest, CommandLineWinsAndTakesTheProfileSystems) {
  Result<LabProfile> p = ParseLabProfile(
      "lab: Lab A\nbuild: GRCh37\nsample: S2\nkeep_going: true\n"
      "patient: {system: 'urn:p', from: sample-name}\n"
      "accession: {system: 'urn:a'}\n",
      "a.yaml", "");
  ASSERT_TRUE(p.ok()) << p.error().message();
  ConvertOptions o;
  o.build = "GRCh38";                      // given: kept
  o.patient = ParseIdentifierText("P-7");  // value without a system
  o.accession = ParseIdentifierText("urn:other|ACC-1");
  ApplyLabProfile(*p, &o);
  EXPECT_EQ(o.build, "GRCh38");
  EXPECT_EQ(o.lab, "Lab A");
  EXPECT_EQ(o.sample, "S2");
  EXPECT_TRUE(o.keep_going);
  EXPECT_EQ(o.patient.system, "urn:p");
  EXPECT_EQ(o.patient.value, "P-7");
  EXPECT_FALSE(o.patient_from_sample);  // a value was given
  EXPECT_EQ(o.accession.system, "urn:other");
  ConvertOptions none;
  ApplyLabProfile(*p, &none);
  EXPECT_TRUE(none.patient_from_sample);
  EXPECT_EQ(none.accession.system, "urn:a");
}

TEST(LabProfileTest, EmptyProfileSetsNothing) {
  Result<LabProfile> p = ParseLabProfile("# nothing yet\n", "e.yaml", "");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->options.lab.empty());
  EXPECT_FALSE(p->options.regions.has_value());
}

struct BadProfile {
  std::string text;
  std::string expected;  // start of the message
};

class LabProfileErrorTest : public ::testing::TestWithParam<BadProfile> {};

TEST_P(LabProfileErrorTest, NamesFileLineAndKey) {
  Result<LabProfile> p =
      ParseLabProfile(GetParam().text, "lab.yaml", DataDir() + "/vcf/bed");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(p.error().message(), StartsWith(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, LabProfileErrorTest,
    ::testing::Values(
        BadProfile{"lab: A\nlabb: B\n", "lab.yaml:2: labb: unknown key"},
        BadProfile{"build: hg19\n", "lab.yaml:1: build: \"hg19\" is not one"},
        BadProfile{"\n\nsource_class: tumour\n",
                   "lab.yaml:3: source_class: \"tumour\" is not one"},
        BadProfile{"pass_only: yes\n",
                   "lab.yaml:1: pass_only: expected true or false"},
        BadProfile{"patient:\n  system: urn:p\n  from: mrn\n",
                   "lab.yaml:3: patient.from: \"mrn\" is not one"},
        BadProfile{"accession: {system: a, from: sample-name}\n",
                   "lab.yaml:1: accession.from: unknown key"},
        BadProfile{"patient: {system: 'a|b'}\n",
                   "lab.yaml:1: patient.system: must not contain '|'"},
        BadProfile{"patient: urn:p\n", "lab.yaml:1: patient: expected a"},
        BadProfile{"lab: [a, b]\n", "lab.yaml:1: lab: expected a string"},
        BadProfile{"- a\n- b\n", "lab.yaml:1: expected a mapping"},
        BadProfile{"lab: A\n  bad: [\n", "lab.yaml:2: "},
        BadProfile{"regions: end_not_integer.bed\n", "lab.yaml:1: regions: "}));

TEST(LabProfileTest, MalformedBedNamesItsLine) {
  Result<LabProfile> p = ParseLabProfile("studied: negative_start.bed\n",
                                         "lab.yaml", DataDir() + "/vcf/bed");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().message(), HasSubstr("negative_start.bed: line "));
}

TEST(LabProfileTest, MissingFilesAreNotFound) {
  Result<LabProfile> p = ParseLabProfile("regions: no-such.bed\n", "lab.yaml",
                                         DataDir() + "/vcf/bed");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(p.error().message(), StartsWith("lab.yaml:1: regions: "));
  Result<LabProfile> q = LoadLabProfile(DataDir() + "/no-such-profile.yaml");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code(), ErrorCode::kNotFound);
}

class LabProfileConvertTest : public genogate::testing::SchemaTest {};

TEST_F(LabProfileConvertTest, PatientAndSpecimenFromTheSampleName) {
  Result<LabProfile> p =
      LoadLabProfile(SourceDir() + "/examples/lab-profile.yaml");
  ASSERT_TRUE(p.ok());
  ConvertOptions o;
  o.accession = ParseIdentifierText("ACC-1");
  ApplyLabProfile(*p, &o);
  std::vector<std::string> patients, specimens;
  Result<ConvertReport> r = ConvertFile(
      SourceDir() + "/examples/panel-grch38-vep.vcf", o, *schema_,
      [&](fhir::Node entry) {
        const fhir::Node* res = entry.Child("resource");
        const fhir::Node* id = res->Child("identifier");
        if (res->resource_type() == "Patient") {
          patients.push_back(std::string(id->ChildValue("system")) + "|" +
                             std::string(id->ChildValue("value")));
        }
        if (res->resource_type() == "Specimen") {
          specimens.push_back(std::string(id->ChildValue("value")));
        }
        return Status::Ok();
      });
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->ok()) << r->issues.ToText();
  EXPECT_EQ(patients,
            std::vector<std::string>{"urn:oid:2.16.840.1.113883.3.999.1|"
                                     "PATIENT1"});
  EXPECT_EQ(specimens, std::vector<std::string>{"PATIENT1"});
  EXPECT_EQ(r->report_keys[0],
            "urn:genogate:lab:example-genomics-lab|"
            "urn:oid:2.16.840.1.113883.3.999.2|ACC-1");
}

TEST_F(LabProfileConvertTest, SampleNameRuleWithoutSamplesIsAnOptionsError) {
  ConvertOptions o;
  o.accession = ParseIdentifierText("a|ACC-1");
  o.patient_from_sample = true;
  o.build = "GRCh38";
  Result<ConvertReport> r = ConvertBytes(
      "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
      "1\t100\t.\tA\tG\t.\tPASS\t.\n",
      o, *schema_, [](fhir::Node) { return Status::Ok(); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(r.error().message(), HasSubstr("no sample column"));
}

}  // namespace
}  // namespace genogate::mappers

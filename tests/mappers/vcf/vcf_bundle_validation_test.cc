// Every bundle produced from the test VCFs validates with no error against
// the R4 base definitions and the Genomics Reporting IG 3.0.0 profiles.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "conformance/validator/validator.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "mappers/common/report_builder.h"
#include "mappers/convert.h"
#include "mappers/lab_profile.h"
#include "mappers/vcf/vcf_mapper.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"
#include "testing/validation_test.h"

namespace genogate::mappers::vcf {
namespace {

class VcfBundleValidationTest : public genogate::testing::ValidationTest<
                                    ::testing::TestWithParam<std::string>> {};

TEST_P(VcfBundleValidationTest, BundleHasNoValidationError) {
  VcfMapOptions options;
  options.patient = {"urn:oid:2.16.840.1.113883.19.5", "P-1001"};
  options.accession = {"urn:oid:2.16.840.1.113883.19.6", "ACC-77"};
  options.lab = "Test Genomics Lab";
  options.source_class = "germline";
  Result<GenomicReportInput> input =
      MapVcfFile(genogate::testing::DataDir() + "/vcf/" + GetParam(), options);
  ASSERT_TRUE(input.ok()) << input.error().message();
  ASSERT_FALSE(input->variants.empty());
  BuildOptions build;
  build.issued = "2026-11-29T10:00:00Z";
  Result<fhir::Node> bundle = BuildReportBundle(*input, build, *schema_);
  ASSERT_TRUE(bundle.ok()) << bundle.error().message();
  const IssueList errors =
      genogate::testing::ErrorsOf(validator_->Validate(*bundle));
  EXPECT_TRUE(errors.empty()) << GetParam() << ":\n" << errors.ToText();
}

INSTANTIATE_TEST_SUITE_P(TestVcfs, VcfBundleValidationTest,
                         ::testing::Values("snv_indel.vcf", "snv_indel.vcf.gz",
                                           "snv_indel.vcf.bgz",
                                           "gzip_named.vcf", "clinvar.vcf",
                                           "vep.vcf", "snpeff.vcf", "sv.vcf",
                                           "../../../examples/"
                                           "panel-grch38-vep.vcf"));

// With the example lab profile: patient and specimen from the sample name,
// regions studied from its BED file, pass-only; converted through the JSON
// path that genogate convert uses, then parsed back and validated.
TEST_F(VcfBundleValidationTest, ExampleLabProfileBundleHasNoValidationError) {
  Result<LabProfile> profile = LoadLabProfile(genogate::testing::SourceDir() +
                                              "/examples/lab-profile.yaml");
  ASSERT_TRUE(profile.ok()) << profile.error().message();
  ConvertOptions o;
  o.accession = ParseIdentifierText("ACC-1");
  ApplyLabProfile(*profile, &o);
  o.build_options.issued = "2026-11-29T10:00:00Z";
  std::string bundle =
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[";
  struct Sink : JsonEntrySink {
    std::string* out;
    bool first = true;
    Status BeginEntry(const EntryHead& h) override {
      *out += std::string(first ? "" : ",") + "{\"fullUrl\":\"" +
              std::string(h.full_url) + "\",\"request\":{\"method\":\"" +
              std::string(h.method) + "\",\"url\":\"" + std::string(h.url) +
              "\"},\"resource\":";
      first = false;
      return Status::Ok();
    }
    Status ResourceText(std::string_view json) override {
      *out += json;
      return Status::Ok();
    }
    Status EndEntry() override {
      *out += "}";
      return Status::Ok();
    }
  } sink;
  sink.out = &bundle;
  Result<ConvertReport> r = ConvertFileToJson(
      genogate::testing::SourceDir() + "/examples/panel-grch38-vep.vcf", o,
      *schema_, &sink);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->ok()) << r->issues.ToText();
  bundle += "]}";
  Result<fhir::Document> doc = fhir::ParseJson(bundle, schema_);
  ASSERT_TRUE(doc.ok()) << doc.error().message();
  EXPECT_THAT(bundle, ::testing::HasSubstr("genomic-study-analysis-regions"));
  const IssueList errors =
      genogate::testing::ErrorsOf(validator_->Validate(doc->root));
  EXPECT_TRUE(errors.empty()) << errors.ToText();
}

}  // namespace
}  // namespace genogate::mappers::vcf

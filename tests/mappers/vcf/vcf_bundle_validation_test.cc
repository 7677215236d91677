// Every bundle produced from the test VCFs validates with no error against
// the R4 base definitions and the Genomics Reporting IG 3.0.0 profiles.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "conformance/validator/validator.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "mappers/common/report_builder.h"
#include "mappers/vcf/vcf_mapper.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"

namespace genogate::mappers::vcf {
namespace {

class VcfBundleValidationTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    const genogate::testing::ValidationEnv& env =
        genogate::testing::SharedValidationEnv();
    packages_ = env.packages.get();
    schema_ = env.schema.get();
    validator_ = env.validator.get();
  }
  static fhir::PackageSet* packages_;
  static fhir::Schema* schema_;
  static conformance::Validator* validator_;
};
fhir::PackageSet* VcfBundleValidationTest::packages_ = nullptr;
fhir::Schema* VcfBundleValidationTest::schema_ = nullptr;
conformance::Validator* VcfBundleValidationTest::validator_ = nullptr;

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
                                           "clinvar.vcf", "vep.vcf",
                                           "snpeff.vcf", "sv.vcf"));

}  // namespace
}  // namespace genogate::mappers::vcf

// HL7 v2 ORU^R01 genetic messages through the shared builder: the bundles
// validate against the IG profiles, and the same variants sent as VCF and
// as v2 give the same Variant components.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "conformance/validator/validator.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "mappers/common/report_builder.h"
#include "mappers/hl7v2/oru_r01.h"
#include "mappers/vcf/vcf_mapper.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"
#include "testing/validation_test.h"

namespace genogate::mappers {
namespace {

class V2BundleTest : public genogate::testing::ValidationTest<> {
 protected:
  static GenomicReportInput ReadV2(const std::string& file) {
    std::string text = genogate::testing::ReadTestFile(
        genogate::testing::DataDir() + "/hl7v2/" + file);
    hl7v2::OruReadResult r = hl7v2::ReadOruR01(text);
    EXPECT_FALSE(r.rejected()) << file;
    EXPECT_FALSE(r.has_errors()) << file;
    EXPECT_EQ(r.reports.size(), 1u) << file;
    return r.reports.empty() ? GenomicReportInput() : r.reports[0].input;
  }

  static fhir::Node Build(const GenomicReportInput& in) {
    BuildOptions options;
    options.issued = "2026-11-29T10:00:00Z";
    Result<fhir::Node> b = BuildReportBundle(in, options, *schema_);
    EXPECT_TRUE(b.ok()) << b.error().message();
    return b.ok() ? std::move(b).value() : fhir::Node();
  }

  // Per variant Observation: LOINC component code -> JSON of its value.
  static std::vector<std::map<std::string, std::multiset<std::string>>>
  VariantComponents(const fhir::Node& bundle) {
    std::vector<std::map<std::string, std::multiset<std::string>>> out;
    for (const fhir::Node* e : bundle.Children("entry")) {
      const fhir::Node* r = e->Child("resource");
      if (!r || r->resource_type() != "Observation") continue;
      const fhir::Node* meta = r->Child("meta");
      if (!meta || meta->ChildValue("profile").find("/variant") ==
                       std::string_view::npos) {
        continue;
      }
      std::map<std::string, std::multiset<std::string>> comps;
      for (const fhir::Node* c : r->Children("component")) {
        const fhir::Node* code = c->Child("code");
        const fhir::Node* coding = code ? code->Child("coding") : nullptr;
        const fhir::Node* value = c->Child("value");
        if (!coding || !value) continue;
        // The value, flattened: type, codings, range bounds, quantity.
        std::string v;
        for (const fhir::Node& k : c->children()) {
          if (k.name() == "value") {
            v += k.type_name();
            v += ":";
            v += k.has_value() ? k.value() : "";
            for (const fhir::Node* cd : k.Children("coding")) {
              v += "[" + std::string(cd->ChildValue("system")) + "|" +
                   std::string(cd->ChildValue("code")) + "|" +
                   std::string(cd->ChildValue("display")) + "]";
            }
            for (const char* q : {"low", "high"}) {
              if (const fhir::Node* b = k.Child(q))
                v += std::string(q) + "=" + std::string(b->ChildValue("value"));
            }
            if (k.type_name() == "Quantity") {
              v += std::string(k.ChildValue("value")) + " " +
                   std::string(k.ChildValue("code"));
            }
          }
        }
        comps[std::string(coding->ChildValue("code"))].insert(v);
      }
      out.push_back(std::move(comps));
    }
    return out;
  }
};

TEST_F(V2BundleTest, MessagesGiveBundlesWithoutValidationErrors) {
  for (const char* file : {"brca1_germline_two_variants.hl7",
                           "somatic_braf_v271.hl7", "cnv_pmp22_v231.hl7"}) {
    fhir::Node bundle = Build(ReadV2(file));
    const IssueList errors =
        genogate::testing::ErrorsOf(validator_->Validate(bundle));
    EXPECT_TRUE(errors.empty()) << file << ":\n" << errors.ToText();
  }
}

TEST_F(V2BundleTest, SameVariantsFromVcfAndV2GiveTheSameComponents) {
  GenomicReportInput v2 = ReadV2("brca1_germline_two_variants.hl7");
  vcf::VcfMapOptions options;
  options.patient = v2.patient;
  options.accession = v2.accession;
  options.lab = v2.lab_name;
  options.source_class = "germline";
  Result<GenomicReportInput> from_vcf = vcf::MapVcfFile(
      genogate::testing::DataDir() + "/hl7v2/same_variants.vcf", options);
  ASSERT_TRUE(from_vcf.ok()) << from_vcf.error().message();

  auto a = VariantComponents(Build(*from_vcf));
  auto b = VariantComponents(Build(v2));
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  // What both inputs state about the variant must come out identical. Each
  // input may carry more (v2: gene, c./p.HGVS, cytoband; VCF: read depth).
  // 48019-4 (change type) is derived differently: the VCF's T>TG is an
  // insertion at the VCF level, while the lab's v2 states the HGVS-normalised
  // duplication; it is excluded.
  const std::set<std::string> must_share = {
      "48000-4", "48002-0", "48013-7", "53034-5", "62374-4", "69547-8",
      "69551-0", "81252-9", "81254-5", "81258-6", "92822-6"};
  for (size_t i = 0; i < 2; ++i) {
    for (const std::string& code : must_share) {
      ASSERT_TRUE(a[i].count(code)) << "VCF variant " << i << " lacks " << code;
      ASSERT_TRUE(b[i].count(code)) << "v2 variant " << i << " lacks " << code;
    }
    for (const auto& [code, values] : a[i]) {
      if (code == "48019-4" || !b[i].count(code)) continue;
      if (code == "81252-9") {
        // The v2 message also names the ClinVar variation; the VCF's ID
        // column has only the dbSNP id, which must match exactly.
        for (const std::string& v : values) {
          EXPECT_TRUE(b[i][code].count(v))
              << "variant " << i << ": v2 lacks " << v;
        }
        continue;
      }
      EXPECT_EQ(values, b[i][code]) << "variant " << i << " component " << code;
    }
  }
}

}  // namespace
}  // namespace genogate::mappers

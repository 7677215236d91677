// The profile validator: every Genomics IG example and (almost) every R4
// example validates without error, and a mutation suite made from the IG
// examples finds each rule's error at the right place.
#include "conformance/validator/validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "conformance/fhirpath/fhirpath.h"
#include "conformance/terminology/terminology.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/resource_files.h"
#include "fhir/schema.h"
#include "testing/test_env.h"

namespace genogate::conformance {
namespace {

using ::testing::HasSubstr;

std::string ValidatorTestText(const std::string& name) {
  return genogate::testing::ReadTestFile(
      genogate::testing::GenomicsPackageDir() + "/example/" + name);
}

std::string Replace(std::string text, const std::string& from,
                    const std::string& to) {
  auto p = text.find(from);
  EXPECT_NE(p, std::string::npos) << "mutation anchor not found: " << from;
  if (p != std::string::npos) text.replace(p, from.size(), to);
  return text;
}

std::string Errors(const IssueList& issues) {
  std::string out;
  for (const Issue& i : issues.issues())
    if (i.severity == Severity::kError || i.severity == Severity::kFatal)
      out += "  [" + i.code + "] " + i.location + ": " + i.message + "\n";
  return out;
}

class ValidatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::vector<std::string> dirs = genogate::testing::DefaultPackageDirs();
    dirs.push_back(genogate::testing::SourceDir() + "/profiles/loinc");
    // A profile derived from the IG variant profile with closed, ordered
    // component slicing, written to a temporary package folder.
    tmp_ = std::filesystem::temp_directory_path() /
           ("genogate-validator-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(tmp_);
    {
      std::string sd = genogate::testing::ReadTestFile(
          genogate::testing::GenomicsPackageDir() +
          "/StructureDefinition-variant.json");
      sd = Replace(sd,
                   "\"url\":\"http://hl7.org/fhir/uv/genomics-reporting/"
                   "StructureDefinition/variant\"",
                   "\"url\":\"http://example.org/StructureDefinition/"
                   "closed-variant\"");
      sd = Replace(sd, "\"id\":\"variant\"", "\"id\":\"closed-variant\"");
      // The component slicing in the snapshot: closed and ordered.
      sd = Replace(sd,
                   "\"description\":\"Slice based on the component.code "
                   "pattern\",\"rules\":\"open\"",
                   "\"description\":\"Slice based on the component.code "
                   "pattern\",\"ordered\":true,\"rules\":\"closed\"");
      // And Observation.status fixed to "final".
      sd = Replace(sd, "{\"id\":\"Observation.status\",",
                   "{\"id\":\"Observation.status\",\"fixedCode\":"
                   "\"final\",");
      std::ofstream(tmp_ / "StructureDefinition-closed-variant.json") << sd;
    }
    // A profile with only a differential (its snapshot is generated) that
    // uses the discriminator kinds and rules the IG does not: pattern with
    // re-slicing, exists with openAtEnd, and type.
    std::ofstream(tmp_ / "StructureDefinition-slicing-variant.json")
        << R"({"resourceType":"StructureDefinition","id":"slicing-variant",
  "url":"http://example.org/StructureDefinition/slicing-variant",
  "name":"SlicingVariant","status":"draft","kind":"resource",
  "abstract":false,"type":"Observation","derivation":"constraint",
  "baseDefinition":"http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant",
  "differential":{"element":[
  {"id":"Observation","path":"Observation"},
  {"id":"Observation.performer","path":"Observation.performer",
   "slicing":{"discriminator":[{"type":"exists","path":"display"}],
              "rules":"openAtEnd"}},
  {"id":"Observation.performer:named","path":"Observation.performer",
   "sliceName":"named","min":0,"max":"*"},
  {"id":"Observation.performer:named.display",
   "path":"Observation.performer.display","min":1},
  {"id":"Observation.effective[x]","path":"Observation.effective[x]",
   "slicing":{"discriminator":[{"type":"type","path":"$this"}],
              "rules":"closed"}},
  {"id":"Observation.effective[x]:effectiveDateTime",
   "path":"Observation.effective[x]","sliceName":"effectiveDateTime",
   "min":0,"max":"1","type":[{"code":"dateTime"}]},
  {"id":"Observation.component:genomic-source-class",
   "path":"Observation.component","sliceName":"genomic-source-class",
   "slicing":{"discriminator":[{"type":"pattern","path":"value"}],
              "rules":"closed"}},
  {"id":"Observation.component:genomic-source-class/somatic",
   "path":"Observation.component","sliceName":"genomic-source-class/somatic",
   "min":0,"max":"1"},
  {"id":"Observation.component:genomic-source-class/somatic.value[x]",
   "path":"Observation.component.value[x]",
   "patternCodeableConcept":{"coding":[{"system":"http://loinc.org",
                                        "code":"LA6684-0"}]}}
  ]}})";
    dirs.push_back(tmp_.string());
    auto set = fhir::PackageSet::Open(dirs);
    ASSERT_TRUE(set.ok()) << set.error().message();
    packages_ = std::move(set).value().release();
    schema_ = new fhir::Schema(packages_);
    validator_ = new Validator(packages_, schema_);
  }
  static void TearDownTestSuite() {
    delete validator_;
    delete schema_;
    delete packages_;
    std::error_code ec;
    std::filesystem::remove_all(tmp_, ec);
  }

  static std::string IgExample(const std::string& name) {
    return genogate::testing::ReadTestFile(
        genogate::testing::GenomicsPackageDir() + "/example/" + name);
  }

  static IssueList Check(const std::string& text,
                         const ValidationOptions& options = {}) {
    Result<IssueList> r = validator_->ValidateText(text, options);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? std::move(r).value() : IssueList();
  }

  // Expects an issue with `code` at exactly `location` (and at least the
  // given severity), and returns it.
  static Issue Expect(const IssueList& issues, const std::string& code,
                      const std::string& location,
                      Severity severity = Severity::kError) {
    for (const Issue& i : issues.issues()) {
      if (i.code == code && i.location == location) {
        EXPECT_EQ(SeverityName(i.severity), SeverityName(severity))
            << i.message;
        return i;
      }
    }
    ADD_FAILURE() << "no [" << code << "] at " << location << "; got:\n"
                  << issues.ToText();
    return {};
  }

  static fhir::PackageSet* packages_;
  static fhir::Schema* schema_;
  static Validator* validator_;
  static std::filesystem::path tmp_;
};
fhir::PackageSet* ValidatorTest::packages_ = nullptr;
fhir::Schema* ValidatorTest::schema_ = nullptr;
Validator* ValidatorTest::validator_ = nullptr;
std::filesystem::path ValidatorTest::tmp_;

// ---------------------------------------------------------------------------
// Example sweeps.

TEST_F(ValidatorTest, EveryGenomicsIgExampleHasNoError) {
  const std::string dir = genogate::testing::GenomicsPackageDir() + "/example";
  std::vector<std::string> files = fhir::ListResourceFiles(dir, {".json"});
  ASSERT_EQ(files.size(), 204u);
  std::string failures;
  size_t infos = 0;
  for (const std::string& f : files) {
    IssueList issues = Check(genogate::testing::ReadTestFile(dir + "/" + f));
    infos += issues.Count(Severity::kInformation);
    std::string e = Errors(issues);
    if (!e.empty()) failures += f + ":\n" + e;
  }
  EXPECT_EQ(failures, "");
  // External codes (HGNC, HGVS, SO, ...) are reported as not checked.
  EXPECT_GT(infos, 100u);
}

// R4 examples that are themselves wrong, with the reason.
const std::map<std::string, std::string>& R4Exceptions() {
  static const auto* m = new std::map<std::string, std::string>{
      {"ActivityDefinition-blood-tubes-supply.json",
       "txt-1/txt-2: the narrative div is empty"},
      {"ActivityDefinition-heart-valve-replacement.json",
       "txt-1: narrative uses markup outside the allowed XHTML subset"},
      {"EventDefinition-example.json",
       "txt-1: narrative uses markup outside the allowed XHTML subset"},
      {"Questionnaire-zika-virus-exposure-assessment.json",
       "txt-1: narrative uses markup outside the allowed XHTML subset"},
      {"Basic-referral.json",
       "modifier extensions with unknown URLs (example.org/do-not-use)"},
      {"Bundle-dataelements.json",
       "duplicate fullUrls (de-Quantity.*), also bdl-7"},
      {"DeviceMetric-example.json",
       "parent references a DeviceDefinition; only Device is allowed"},
      {"DeviceUseStatement-example.json",
       "reasonReference points to a Procedure, not an allowed target"},
      {"MedicationRequest-medrx0301.json",
       "dispenseRequest.performer references a Practitioner (Organization "
       "only)"},
      {"Observation-clinical-gender.json",
       "performer references an Encounter, not an allowed target"},
      {"ImplementationGuide-fhir.json",
       "ImplementationGuide.name and .status (1..1) are missing"},
      {"ig-r4.json", "ImplementationGuide.name and .status are missing"},
      {"Questionnaire-bb.json",
       "que-7: enableWhen with operator 'exists' has a non-boolean answer"},
      {"Questionnaire-qs1.json", "items without linkId (1..1)"},
      {"SearchParameter-codesystem-extensions-CodeSystem-author.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-codesystem-extensions-CodeSystem-effective.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-codesystem-extensions-CodeSystem-end.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-codesystem-extensions-CodeSystem-keyword.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-codesystem-extensions-CodeSystem-workflow.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-valueset-extensions-ValueSet-author.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-valueset-extensions-ValueSet-effective.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-valueset-extensions-ValueSet-end.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-valueset-extensions-ValueSet-keyword.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-valueset-extensions-ValueSet-workflow.json",
       "SearchParameter.base (1..*) missing"},
      {"SearchParameter-questionnaireresponse-extensions-"
       "QuestionnaireResponse-item-subject.json",
       "id longer than the 64 characters an id allows"},
      {"StructureDefinition-Definition.json",
       "sdf-4: logical model, not abstract, without baseDefinition"},
      {"StructureDefinition-Event.json",
       "sdf-4: logical model, not abstract, without baseDefinition"},
      {"StructureDefinition-FiveWs.json",
       "sdf-4: logical model, not abstract, without baseDefinition"},
      {"StructureDefinition-Request.json",
       "sdf-4: logical model, not abstract, without baseDefinition"},
  };
  return *m;
}

TEST_F(ValidatorTest, R4ExamplesHaveNoErrorExceptTheListedOnes) {
  const std::string dir = genogate::testing::R4ExamplesDir();
  std::vector<std::string> files = fhir::ListResourceFiles(dir, {".json"});
  ASSERT_EQ(files.size(), 5306u);
  std::string unexpected;
  std::set<std::string> failed;
  for (const std::string& f : files) {
    IssueList issues = Check(genogate::testing::ReadTestFile(dir + "/" + f));
    if (!issues.HasErrors()) continue;
    failed.insert(f);
    if (!R4Exceptions().count(f))
      unexpected += f + ":\n" + Errors(issues).substr(0, 2000);
  }
  EXPECT_EQ(unexpected, "");
  // Every listed exception still fails (the list stays honest).
  for (const auto& [f, why] : R4Exceptions())
    EXPECT_TRUE(failed.count(f)) << f << " no longer fails (" << why << ")";
  EXPECT_GE((files.size() - failed.size()) * 100, files.size() * 99);
}

// ---------------------------------------------------------------------------
// Mutation suite: one change to an IG example, one expected finding.

constexpr char kEgfr[] = "Observation-EGFR-L858R-var.json";
// Components of the EGFR example: [0] 81252-9, [1] 48005-3 p.HGVS,
// [2] 48019-4, [3] 48004-6 c.HGVS, [4] 48018-6 HGNC gene, [5] 81290-9
// g.HGVS, [6] 48002-0 source class, [7] 81258-6 allele frequency.

std::string Component(const std::string& loinc, const std::string& value) {
  return "{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"" +
         loinc + "\"}]}," + value + "}";
}

// The EGFR example with `component` inserted as component[0].
std::string EgfrWithFirstComponent(const std::string& component) {
  return Replace(ValidatorTestText(kEgfr), "\"component\":[{",
                 "\"component\":[" + component + ",{");
}

TEST_F(ValidatorTest, BaselineEgfrExampleIsClean) {
  IssueList issues = Check(IgExample(kEgfr));
  EXPECT_FALSE(issues.HasErrors()) << issues.ToText();
  // The HGNC gene code cannot be checked locally: information, not error.
  Expect(issues, "code-unchecked", "Observation.component[4].value",
         Severity::kInformation);
}

TEST_F(ValidatorTest, MissingRequiredElement) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"status\":\"final\",", ""));
  Issue i = Expect(issues, "cardinality-min", "Observation");
  EXPECT_THAT(i.message, HasSubstr("Observation.status"));
  EXPECT_EQ(i.type, "required");
}

TEST_F(ValidatorTest, TooManyOfANonRepeatingElementInTheTree) {
  Result<fhir::Document> doc = fhir::ParseJson(IgExample(kEgfr), schema_);
  ASSERT_TRUE(doc.ok());
  fhir::Node copy = *doc->root.Child("code");
  auto& kids = doc->root.mutable_children();
  auto at = std::find_if(kids.begin(), kids.end(), [](const fhir::Node& n) {
    return n.name() == "code";
  });
  kids.insert(at + 1, copy);
  Expect(validator_->Validate(doc->root), "cardinality-max",
         "Observation.code");
}

TEST_F(ValidatorTest, SliceMaxExceeded) {
  IssueList issues = Check(EgfrWithFirstComponent(Component(
      "81258-6",
      "\"valueQuantity\":{\"value\":0.5,\"unit\":\"decimal\",\"system\":"
      "\"http://unitsofmeasure.org\"}")));
  Issue i = Expect(issues, "slice-max", "Observation.component[8]");
  EXPECT_THAT(i.message,
              HasSubstr("slice 'sample-allelic-frequency' has 2 entries but "
                        "max is 1 (profile http://hl7.org/fhir/uv/"
                        "genomics-reporting/StructureDefinition/variant)"));
}

TEST_F(ValidatorTest, CategorySliceMissing) {
  IssueList issues = Check(Replace(
      IgExample(kEgfr),
      ",{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
      "v2-0074\",\"code\":\"GE\"}]}",
      ""));
  Issue i = Expect(issues, "slice-min", "Observation");
  EXPECT_THAT(i.message, HasSubstr("geCategory"));
}

TEST_F(ValidatorTest, PatternOnCodeViolated) {
  IssueList issues = Check(
      Replace(IgExample(kEgfr),
              "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
              "\"69548-6\"}]}",
              "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
              "\"12345-6\"}]}"));
  Expect(issues, "pattern-value", "Observation.code");
}

TEST_F(ValidatorTest, FixedValueViolated) {
  ValidationOptions o;
  o.profiles = {"http://example.org/StructureDefinition/closed-variant"};
  IssueList issues = Check(Replace(IgExample(kEgfr), "\"status\":\"final\"",
                                   "\"status\":\"preliminary\""),
                           o);
  Expect(issues, "fixed-value", "Observation.status");
}

TEST_F(ValidatorTest, RequiredBindingViolated) {
  IssueList issues = Check(Replace(IgExample(kEgfr), "\"code\":\"LA9633-4\"",
                                   "\"code\":\"LA9999-9\""));
  Issue i = Expect(issues, "binding-required", "Observation.value");
  EXPECT_THAT(i.message, HasSubstr("http://loinc.org/vs/LL1971-2"));
  EXPECT_EQ(i.type, "code-invalid");
}

TEST_F(ValidatorTest, ExtensibleBindingViolatedIsAWarning) {
  IssueList issues = Check(Replace(IgExample(kEgfr), "\"code\":\"LA6684-0\"",
                                   "\"code\":\"LA0000-0\""));
  Expect(issues, "binding-extensible", "Observation.component[6].value",
         Severity::kWarning);
  EXPECT_FALSE(issues.HasErrors()) << issues.ToText();
}

TEST_F(ValidatorTest, ExternalCodeSystemIsInformationNeverError) {
  IssueList issues = Check(Replace(IgExample(kEgfr), "\"code\":\"HGNC:3236\"",
                                   "\"code\":\"HGNC:0000000\""));
  Expect(issues, "code-unchecked", "Observation.component[4].value",
         Severity::kInformation);
  EXPECT_FALSE(issues.HasErrors()) << issues.ToText();
}

TEST_F(ValidatorTest, UnknownCodeInLocalCodeSystem) {
  IssueList issues = Check(Replace(IgExample(kEgfr), "\"code\":\"laboratory\"",
                                   "\"code\":\"labx\""));
  Expect(issues, "code-unknown", "Observation.category[0].coding[0].code");
}

TEST_F(ValidatorTest, ImpossibleDate) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"2023-02-01\"", "\"2023-02-30\""));
  Issue i = Expect(issues, "primitive-format", "Observation.effective");
  EXPECT_EQ(i.line, 1u);
  EXPECT_GT(i.column, 1u);
}

TEST_F(ValidatorTest, DateTimeRegex) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"2023-02-01\"", "\"2023-13-01\""));
  Expect(issues, "primitive-format", "Observation.effective");
}

TEST_F(ValidatorTest, IdFormat) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"id\":\"EGFR-L858R-var\"",
                    "\"id\":\"EGFR L858R var\""));
  Expect(issues, "primitive-format", "Observation.id");
}

TEST_F(ValidatorTest, IntegerOutOfRange) {
  IssueList issues =
      Check(R"({"resourceType":"Patient","multipleBirthInteger":3000000000})");
  Expect(issues, "primitive-format", "Patient.multipleBirth");
}

TEST_F(ValidatorTest, InvariantObs6) {
  IssueList issues = Check(Replace(IgExample(kEgfr), "\"method\":",
                                   "\"dataAbsentReason\":{\"text\":\"x\"},"
                                   "\"method\":"));
  Issue i = Expect(issues, "invariant", "Observation");
  EXPECT_THAT(i.message, HasSubstr("obs-6"));
  EXPECT_EQ(i.type, "invariant");
}

TEST_F(ValidatorTest, ChoiceTypeNotAllowedByProfile) {
  // The allelic-state slice allows only CodeableConcept values.
  IssueList issues = Check(EgfrWithFirstComponent(
      Component("53034-5", "\"valueString\":\"heterozygous\"")));
  Expect(issues, "type-not-allowed", "Observation.component[0].value");
}

TEST_F(ValidatorTest, ReferenceTargetTypeNotAllowed) {
  IssueList issues = Check(Replace(
      IgExample(kEgfr), "\"Patient/somaticPatient\"", "\"Medication/x\""));
  Expect(issues, "reference-target", "Observation.subject");
}

TEST_F(ValidatorTest, UnknownExtensionIsAWarning) {
  IssueList issues = Check(Replace(
      IgExample(kEgfr), "\"id\":\"EGFR-L858R-var\",",
      "\"id\":\"EGFR-L858R-var\",\"extension\":[{\"url\":\"http://example.org/"
      "ext/unknown\",\"valueString\":\"x\"}],"));
  Expect(issues, "extension-unknown", "Observation.extension[0]",
         Severity::kWarning);
  EXPECT_FALSE(issues.HasErrors()) << issues.ToText();
}

TEST_F(ValidatorTest, UnknownModifierExtensionIsAnError) {
  IssueList issues = Check(Replace(
      IgExample(kEgfr), "\"id\":\"EGFR-L858R-var\",",
      "\"id\":\"EGFR-L858R-var\",\"modifierExtension\":[{\"url\":\"http://"
      "example.org/ext/unknown\",\"valueString\":\"x\"}],"));
  Expect(issues, "extension-unknown", "Observation.modifierExtension[0]");
}

TEST_F(ValidatorTest, ExtensionValueTypeChecked) {
  IssueList issues = Check(Replace(
      IgExample(kEgfr), "\"status\":\"final\",",
      "\"status\":\"final\",\"_status\":{\"extension\":[{\"url\":\"http://"
      "hl7.org/fhir/StructureDefinition/data-absent-reason\",\"valueString\":"
      "\"x\"}]},"));
  Expect(issues, "type-not-allowed", "Observation.status.extension[0].value");
}

TEST_F(ValidatorTest, ExtensionContextChecked) {
  IssueList issues = Check(Replace(
      IgExample(kEgfr), "\"id\":\"EGFR-L858R-var\",",
      "\"id\":\"EGFR-L858R-var\",\"extension\":[{\"url\":\"http://hl7.org/"
      "fhir/uv/genomics-reporting/StructureDefinition/"
      "genomic-study-analysis-title\",\"valueString\":\"x\"}],"));
  Issue i = Expect(issues, "extension-context", "Observation.extension[0]");
  EXPECT_THAT(i.message, HasSubstr("Procedure"));
}

TEST_F(ValidatorTest, ClosedSlicingRejectsUnknownComponent) {
  ValidationOptions o;
  o.profiles = {"http://example.org/StructureDefinition/closed-variant"};
  IssueList issues = Check(
      EgfrWithFirstComponent(Component("12345-6", "\"valueString\":\"x\"")), o);
  Expect(issues, "slice-closed", "Observation.component[0]");
}

TEST_F(ValidatorTest, OrderedSlicingChecksOrder) {
  ValidationOptions o;
  o.profiles = {"http://example.org/StructureDefinition/closed-variant"};
  // coding-change-type (48019-4) is defined before variation-code
  // (81252-9), which the example lists first.
  Expect(Check(IgExample(kEgfr), o), "slice-order", "Observation.component[2]");
}

// ---- slicing the IG does not use, from a differential-only profile --------

constexpr char kSlicingVariant[] =
    "http://example.org/StructureDefinition/slicing-variant";

TEST_F(ValidatorTest, SlicingVariantBaselineIsClean) {
  ValidationOptions o;
  o.profiles = {kSlicingVariant};
  IssueList issues = Check(IgExample(kEgfr), o);
  EXPECT_FALSE(issues.HasErrors()) << issues.ToText();
}

TEST_F(ValidatorTest, ReslicingWithPatternDiscriminator) {
  // genomic-source-class is re-sliced by a pattern on its value, closed:
  // Somatic matches the re-slice, Germline matches none.
  ValidationOptions o;
  o.profiles = {kSlicingVariant};
  IssueList issues = Check(
      Replace(IgExample(kEgfr), "\"code\":\"LA6684-0\",\"display\":\"Somatic\"",
              "\"code\":\"LA6683-2\",\"display\":\"Germline\""),
      o);
  Expect(issues, "slice-closed", "Observation.component[6]");
}

TEST_F(ValidatorTest, ExistsDiscriminatorWithOpenAtEnd) {
  // performer[0] has no display (matches no slice); a performer with a
  // display after it matches "named", which openAtEnd forbids.
  ValidationOptions o;
  o.profiles = {kSlicingVariant};
  IssueList issues =
      Check(Replace(IgExample(kEgfr),
                    "\"performer\":[{\"reference\":\"Practitioner/"
                    "pathologistPractitioner\"}]",
                    "\"performer\":[{\"reference\":\"Practitioner/"
                    "pathologistPractitioner\"},{\"reference\":\"Practitioner/"
                    "pathologistPractitioner\",\"display\":\"Dr Dolin\"}]"),
            o);
  Expect(issues, "slice-open-at-end", "Observation.performer[1]");
}

TEST_F(ValidatorTest, TypeDiscriminatorClosed) {
  ValidationOptions o;
  o.profiles = {kSlicingVariant};
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"effectiveDateTime\":\"2023-02-01\"",
                    "\"effectivePeriod\":{\"start\":\"2023-02-01\"}"),
            o);
  Expect(issues, "slice-closed", "Observation.effective");
}

TEST_F(ValidatorTest, ChromosomeBindingToShippedLoincList) {
  // LL2938-0 (human chromosomes) is required on the chromosome identifier:
  // a chromosome code is fine, another LOINC answer is an error.
  const std::string chr = Component(
      "48000-4",
      "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\","
      "\"code\":\"LA21262-3\",\"display\":\"Chromosome 9\"}]}");
  IssueList ok = Check(EgfrWithFirstComponent(chr));
  EXPECT_FALSE(ok.HasErrors()) << ok.ToText();
  IssueList bad =
      Check(EgfrWithFirstComponent(Replace(chr, "LA21262-3", "LA6684-0")));
  Expect(bad, "binding-required", "Observation.component[0].value");
}

// ---- structure
// ---------------------------------------------------------------

TEST_F(ValidatorTest, UnknownElement) {
  IssueList issues = Check(Replace(IgExample(kEgfr), "\"status\":\"final\",",
                                   "\"status\":\"final\",\"colour\":\"red\","));
  Expect(issues, "unknown-element", "Observation.colour");
}

TEST_F(ValidatorTest, WrongJsonType) {
  IssueList issues = Check(
      Replace(IgExample(kEgfr), "\"value\":0.066", "\"value\":\"0.066\""));
  Expect(issues, "wrong-json-type", "Observation.component[7].value.value");
}

TEST_F(ValidatorTest, UnderscoreElementMisaligned) {
  // One meta.profile, two entries in _profile.
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"meta\":{",
                    "\"meta\":{\"_profile\":[{\"id\":\"a\"},{\"id\":\"b\"}],"));
  Expect(issues, "underscore-alignment", "Observation.meta.profile");
}

TEST_F(ValidatorTest, UnknownResourceType) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"resourceType\":\"Observation\"",
                    "\"resourceType\":\"Observashun\""));
  EXPECT_TRUE(issues.HasErrors()) << issues.ToText();
  Expect(issues, "unknown-resource-type", "Observashun");
}

// ---- primitive formats
// ---------------------------------------------------------

TEST_F(ValidatorTest, InstantNeedsATimeZone) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"meta\":{",
                    "\"meta\":{\"lastUpdated\":\"2023-02-01T10:00:00\","));
  Expect(issues, "primitive-format", "Observation.meta.lastUpdated");
}

TEST_F(ValidatorTest, TimeOutOfRange) {
  IssueList issues = Check(EgfrWithFirstComponent(
      Component("12345-6", "\"valueTime\":\"25:00:00\"")));
  Expect(issues, "primitive-format", "Observation.component[0].value");
}

TEST_F(ValidatorTest, CodeWithLeadingSpace) {
  IssueList issues = Check(Replace(IgExample(kEgfr), "\"status\":\"final\"",
                                   "\"status\":\" final\""));
  Expect(issues, "primitive-format", "Observation.status");
}

TEST_F(ValidatorTest, UriWithSpace) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"system\":\"http://varnomen.hgvs.org\"",
                    "\"system\":\"http://varnomen hgvs.org\""));
  Expect(issues, "primitive-format",
         "Observation.component[1].value.coding[0].system");
}

TEST_F(ValidatorTest, DecimalFormatInXml) {
  // JSON cannot carry a malformed number; XML can.
  Result<fhir::Document> doc = fhir::ParseJson(IgExample(kEgfr), schema_);
  ASSERT_TRUE(doc.ok());
  Result<std::string> xml = fhir::WriteXml(doc->root);
  ASSERT_TRUE(xml.ok());
  IssueList issues = Check(
      Replace(*xml, "<value value=\"0.066\"/>", "<value value=\"0.0.66\"/>"));
  Expect(issues, "primitive-format", "Observation.component[7].value.value");
}

TEST_F(ValidatorTest, Base64Format) {
  IssueList issues = Check(Replace(
      IgExample(kEgfr), "\"status\":\"final\",",
      "\"status\":\"final\",\"contained\":[{\"resourceType\":\"Binary\","
      "\"id\":\"b\",\"contentType\":\"text/plain\",\"data\":\"not "
      "base64!\"}],"));
  Expect(issues, "primitive-format", "Observation.contained[0].data");
}

// ---- target profiles
// -----------------------------------------------------------

TEST_F(ValidatorTest, ReferenceTargetProfileInsideBundle) {
  // The medication recommendation's reasonReference must be a therapeutic
  // implication; point it at the genotype Observation instead.
  std::string text = Replace(IgExample("Bundle-bundle-pgxexample.json"),
                             "\"reasonReference\":{\"reference\":\"Observation/"
                             "med-impact-pgx-example\"",
                             "\"reasonReference\":{\"reference\":\"Observation/"
                             "genotype-pgx-example\"");
  IssueList issues = Check(text);
  Expect(issues, "reference-target-profile",
         "Bundle.entry[13].resource.reasonReference");
}

TEST_F(ValidatorTest, UnknownDeclaredProfileIsAWarning) {
  IssueList issues = Check(
      Replace(IgExample(kEgfr),
              "\"profile\":[\"http://hl7.org/fhir/uv/genomics-reporting/"
              "StructureDefinition/variant\"]",
              "\"profile\":[\"http://example.org/StructureDefinition/none\"]"));
  Expect(issues, "profile-unknown", "Observation.meta.profile",
         Severity::kWarning);
}

TEST_F(ValidatorTest, UnknownRequestedProfileIsAnError) {
  ValidationOptions o;
  o.profiles = {"http://example.org/StructureDefinition/none"};
  Expect(Check(IgExample(kEgfr), o), "profile-unknown", "Observation");
}

TEST_F(ValidatorTest, RequestedProfileOfAnotherTypeIsAnError) {
  ValidationOptions o;
  o.profiles = {
      "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
      "genomic-report"};
  Expect(Check(IgExample(kEgfr), o), "profile-type-mismatch", "Observation");
}

// ---- genomics rules -------------------------------------------------------

TEST_F(ValidatorTest, GgAlleleFrequencyOutOfRange) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"value\":0.066", "\"value\":1.5"));
  Expect(issues, "gg-allele-frequency", "Observation.component[7].value.value");
}

TEST_F(ValidatorTest, GgHgvsSyntaxCodingChange) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"code\":\"NM_005228.4:c.2573T>G\"",
                    "\"code\":\"NM_005228.4:c.2573T>>G\""));
  Expect(issues, "gg-hgvs-syntax",
         "Observation.component[3].value.coding[0].code");
}

TEST_F(ValidatorTest, GgHgvsSyntaxMissingReferencePrefix) {
  IssueList issues =
      Check(Replace(IgExample(kEgfr), "\"code\":\"NP_005219.2:p.Leu858Arg\"",
                    "\"code\":\"p.Leu858Arg\""));
  Expect(issues, "gg-hgvs-syntax",
         "Observation.component[1].value.coding[0].code");
}

TEST_F(ValidatorTest, GgAlleleCharacters) {
  IssueList issues = Check(
      EgfrWithFirstComponent(Component("69547-8", "\"valueString\":\"AXG\"")));
  Expect(issues, "gg-allele-chars", "Observation.component[0].value");
}

TEST_F(ValidatorTest, GgStartAfterEnd) {
  IssueList issues = Check(EgfrWithFirstComponent(
      Component("81254-5",
                "\"valueRange\":{\"low\":{\"value\":200},\"high\":{\"value\":"
                "100}}")));
  Expect(issues, "gg-start-end", "Observation.component[0].value");
}

TEST_F(ValidatorTest, GgReferenceBuildDisagreesWithAccession) {
  // NC_000007.13 (in the gHGVS) is GRCh37; the component says GRCh38.
  IssueList issues = Check(EgfrWithFirstComponent(Component(
      "62374-4",
      "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\","
      "\"code\":\"LA26806-2\"}]}")));
  Expect(issues, "gg-reference-build", "Observation.component[0]");
}

TEST_F(ValidatorTest, GgTwoReferenceBuilds) {
  std::string b37 = Component(
      "62374-4",
      "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\","
      "\"code\":\"LA14029-5\"}]}");
  std::string b36 = Component(
      "62374-4",
      "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://loinc.org\","
      "\"code\":\"LA14030-3\"}]}");
  IssueList issues = Check(EgfrWithFirstComponent(b37 + "," + b36));
  Expect(issues, "gg-reference-build", "Observation.component[1]");
}

TEST_F(ValidatorTest, GgVariantWithoutDefinition) {
  Result<fhir::Document> doc = fhir::ParseJson(IgExample(kEgfr), schema_);
  ASSERT_TRUE(doc.ok());
  auto& kids = doc->root.mutable_children();
  kids.erase(
      std::remove_if(kids.begin(), kids.end(),
                     [](const fhir::Node& n) {
                       if (n.name() != "component") return false;
                       std::string_view c =
                           n.Child("code")->Child("coding")->ChildValue("code");
                       return c == "81252-9" || c == "48005-3" ||
                              c == "48004-6" || c == "81290-9";
                     }),
      kids.end());
  Expect(validator_->Validate(doc->root), "gg-variant-definition",
         "Observation");
}

TEST_F(ValidatorTest, GgIncompleteVcfComponentsAreAWarning) {
  Result<fhir::Document> doc = fhir::ParseJson(
      EgfrWithFirstComponent(Component("69547-8", "\"valueString\":\"T\"")),
      schema_);
  ASSERT_TRUE(doc.ok());
  auto& kids = doc->root.mutable_children();
  kids.erase(
      std::remove_if(kids.begin(), kids.end(),
                     [](const fhir::Node& n) {
                       if (n.name() != "component") return false;
                       std::string_view c =
                           n.Child("code")->Child("coding")->ChildValue("code");
                       return c == "81252-9" || c == "48005-3" ||
                              c == "48004-6" || c == "81290-9";
                     }),
      kids.end());
  IssueList issues = validator_->Validate(doc->root);
  Expect(issues, "gg-vcf-incomplete", "Observation", Severity::kWarning);
  EXPECT_FALSE(issues.HasErrors()) << issues.ToText();
}

// ---- bundles ---------------------------------------------------------------

std::string Bundle(const std::string& type, const std::string& entries) {
  return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" +
         entries + "]}";
}
std::string ObsEntry(const std::string& full_url, const std::string& subject,
                     bool transaction) {
  return "{\"fullUrl\":\"" + full_url +
         "\",\"resource\":{\"resourceType\":\"Observation\",\"status\":"
         "\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"" +
         subject + "\"}}" +
         (transaction
              ? ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}"
              : "") +
         "}";
}
std::string PatientEntry(const std::string& full_url) {
  return "{\"fullUrl\":\"" + full_url +
         "\",\"resource\":{\"resourceType\":\"Patient\"},\"request\":{"
         "\"method\":\"POST\",\"url\":\"Patient\"}}";
}

TEST_F(ValidatorTest, BundleDuplicateFullUrl) {
  const std::string u = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a";
  IssueList issues = Check(
      Bundle("transaction", PatientEntry(u) + "," + ObsEntry(u, u, true)));
  Expect(issues, "bundle-fullurl-duplicate", "Bundle.entry[1].fullUrl");
}

TEST_F(ValidatorTest, BundleUnresolvedUuidReference) {
  IssueList issues = Check(Bundle(
      "transaction",
      PatientEntry("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a") + "," +
          ObsEntry("urn:uuid:71ebe359-bfdc-4613-8bf2-c5e300945f0a",
                   "urn:uuid:00000000-bfdc-4613-8bf2-c5e300945f0a", true)));
  Expect(issues, "reference-unresolved", "Bundle.entry[1].resource.subject",
         Severity::kError);
}

TEST_F(ValidatorTest, BundleResolvedReferencesAndConditionalInTransaction) {
  IssueList issues = Check(Bundle(
      "transaction",
      PatientEntry("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a") + "," +
          ObsEntry("urn:uuid:71ebe359-bfdc-4613-8bf2-c5e300945f0a",
                   "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", true) +
          "," +
          ObsEntry("urn:uuid:81ebe359-bfdc-4613-8bf2-c5e300945f0a",
                   "Patient?identifier=http://x|1", true)));
  EXPECT_FALSE(issues.HasErrors()) << issues.ToText();
}

TEST_F(ValidatorTest, ConditionalReferenceOutsideTransaction) {
  IssueList issues = Check(Bundle(
      "collection", ObsEntry("urn:uuid:71ebe359-bfdc-4613-8bf2-c5e300945f0a",
                             "Patient?identifier=http://x|1", false)));
  // Only transactions are checked for resolution; a collection is not.
  EXPECT_FALSE(issues.HasErrors()) << issues.ToText();
}

TEST_F(ValidatorTest, BundleEntryResourcesAreValidated) {
  std::string entry = ObsEntry("urn:uuid:71ebe359-bfdc-4613-8bf2-c5e300945f0a",
                               "Patient/1", true);
  entry = Replace(entry, "\"status\":\"final\",", "");
  Expect(Check(Bundle("transaction", entry)), "cardinality-min",
         "Bundle.entry[0].resource");
}

TEST_F(ValidatorTest, IgBundleEntryMutationFoundInsideBundle) {
  std::string text = IgExample("Bundle-bundle-pgxexample.json");
  text = Replace(text, "\"code\":\"LA9633-4\"", "\"code\":\"LA9999-9\"");
  IssueList issues = Check(text);
  bool found = false;
  for (const Issue& i : issues.issues())
    if (i.code == "binding-required" &&
        i.location.rfind("Bundle.entry[", 0) == 0 &&
        i.location.find("].resource.value") != std::string::npos)
      found = true;
  EXPECT_TRUE(found) << issues.ToText();
}

// ---- XML, terminology, API -------------------------------------------------

TEST_F(ValidatorTest, XmlInputGivesTheSameFindingWithXmlPositions) {
  Result<fhir::Document> doc = fhir::ParseJson(
      Replace(IgExample(kEgfr), "\"2023-02-01\"", "\"2023-02-30\""), schema_);
  ASSERT_TRUE(doc.ok());
  Result<std::string> xml = fhir::WriteXml(doc->root, {.pretty = true});
  ASSERT_TRUE(xml.ok());
  Issue i = Expect(Check(*xml), "primitive-format", "Observation.effective");
  EXPECT_GT(i.line, 1u);  // pretty XML: not on the first line
}

TEST_F(ValidatorTest, TerminologyExpandsShippedLoincAnswerLists) {
  const Terminology& t = validator_->terminology();
  EXPECT_EQ(
      t.CheckCode("http://loinc.org/vs/LL381-5", "http://loinc.org", "LA6706-1")
          .status,
      CodeStatus::kValid);
  EXPECT_EQ(
      t.CheckCode("http://loinc.org/vs/LL381-5", "http://loinc.org", "LA6684-0")
          .status,
      CodeStatus::kInvalid);
  // A whole local CodeSystem, and a code-only look-up.
  EXPECT_EQ(t.CheckCode("http://hl7.org/fhir/ValueSet/observation-status", "",
                        "final")
                .status,
            CodeStatus::kValid);
  EXPECT_EQ(
      t.CheckCode("http://hl7.org/fhir/ValueSet/observation-status", "", "done")
          .status,
      CodeStatus::kInvalid);
  // SNOMED CT is not available locally.
  EXPECT_EQ(t.CheckCode("http://hl7.org/fhir/ValueSet/clinical-findings",
                        "http://snomed.info/sct", "22298006")
                .status,
            CodeStatus::kUnknown);
}

// ---- invariants checked natively -------------------------------------------

// bdl-7 and csd-1 are checked in C++; FHIRPath must agree on every R4
// Bundle and CodeSystem example and on the mutations below.
bool InvariantFailed(const IssueList& issues, const std::string& key) {
  for (const Issue& i : issues.issues())
    if (i.code == "invariant" &&
        i.message.find("Constraint " + key + " failed") != std::string::npos)
      return true;
  return false;
}

// The invariant through the FHIRPath engine on the root; nullopt if it
// cannot be evaluated.
std::optional<bool> ByFhirpath(const fhir::Node& root,
                               const std::string& expression,
                               const fhir::Schema* schema) {
  Result<fhirpath::Expression> e = fhirpath::Compile(expression);
  EXPECT_TRUE(e.ok());
  if (!e.ok()) return std::nullopt;
  fhirpath::EvalContext ctx;
  ctx.focus = {fhirpath::Item::Of(&root)};
  ctx.resource = &root;
  ctx.root_resource = &root;
  ctx.schema = schema;
  Result<fhirpath::Collection> r = fhirpath::Evaluate(*e, ctx);
  if (!r.ok()) return std::nullopt;
  Result<std::optional<bool>> b = fhirpath::ToBoolean(*r);
  return !b.ok() || !b->has_value() || **b;
}

constexpr char kBdl7[] =
    "(type = 'history') or entry.where(fullUrl.exists())"
    ".select(fullUrl&resource.meta.versionId).isDistinct()";
constexpr char kCsd1[] =
    "concept.code.combine($this.descendants().concept.code).isDistinct()";

TEST_F(ValidatorTest, NativeBdl7AndCsd1AgreeWithFhirpath) {
  std::vector<std::string> texts;
  const std::string dir = genogate::testing::R4ExamplesDir();
  for (const std::string& f : fhir::ListResourceFiles(dir, {".json"}))
    if (f.rfind("bundle-", 0) == 0 || f.rfind("Bundle-", 0) == 0 ||
        f.rfind("codesystem-", 0) == 0 || f.rfind("CodeSystem-", 0) == 0)
      texts.push_back(genogate::testing::ReadTestFile(dir + "/" + f));
  // Mutations: a repeated fullUrl with and without distinct versionIds,
  // a history bundle, a code repeated at another level.
  const std::string u = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a";
  auto entry = [&](const std::string& version) {
    return "{\"fullUrl\":\"" + u +
           "\",\"resource\":{\"resourceType\":\"Patient\"" +
           (version.empty() ? ""
                            : ",\"meta\":{\"versionId\":\"" + version + "\"}") +
           "}}";
  };
  const std::string dup = Bundle("collection", entry("") + "," + entry(""));
  const std::string versions =
      Bundle("collection", entry("1") + "," + entry("2"));
  const std::string history = Bundle("history", entry("") + "," + entry(""));
  const std::string cs_dup =
      "{\"resourceType\":\"CodeSystem\",\"url\":\"http://example.org/cs\","
      "\"status\":\"draft\",\"content\":\"complete\",\"concept\":[{"
      "\"code\":\"a\",\"concept\":[{\"code\":\"b\"},{\"code\":\"a\"}]}]}";
  const std::string cs_ok =
      Replace(cs_dup, "{\"code\":\"a\"}]", "{\"code\":\"c\"}]");
  texts.insert(texts.end(), {dup, versions, history, cs_dup, cs_ok});
  size_t bundles = 0, code_systems = 0, failures = 0;
  for (const std::string& t : texts) {
    Result<fhir::Document> doc = fhir::ParseJson(t, schema_);
    ASSERT_TRUE(doc.ok());
    const std::string& type = doc->root.resource_type();
    if (type != "Bundle" && type != "CodeSystem") continue;
    const bool bundle = type == "Bundle";
    (bundle ? bundles : code_systems)++;
    std::optional<bool> want =
        ByFhirpath(doc->root, bundle ? kBdl7 : kCsd1, schema_);
    ASSERT_TRUE(want.has_value());
    IssueList issues = validator_->Validate(doc->root);
    const bool failed = InvariantFailed(issues, bundle ? "bdl-7" : "csd-1");
    EXPECT_EQ(failed, !*want) << t.substr(0, 200);
    if (failed) ++failures;
  }
  EXPECT_GT(bundles, 20u);
  EXPECT_GT(code_systems, 20u);
  EXPECT_GT(failures, 0u);
  // The failing mutations fail, the others do not.
  EXPECT_TRUE(InvariantFailed(Check(dup), "bdl-7"));
  EXPECT_TRUE(InvariantFailed(Check(cs_dup), "csd-1"));
  EXPECT_FALSE(InvariantFailed(Check(versions), "bdl-7"));
  EXPECT_FALSE(InvariantFailed(Check(history), "bdl-7"));
  EXPECT_FALSE(InvariantFailed(Check(cs_ok), "csd-1"));
}

TEST_F(ValidatorTest, ConformsToAndHasProfile) {
  Result<fhir::Document> doc = fhir::ParseJson(IgExample(kEgfr), schema_);
  ASSERT_TRUE(doc.ok());
  const std::string variant =
      "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant";
  const std::string haplotype =
      "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
      "haplotype";
  EXPECT_TRUE(validator_->HasProfile(variant));
  EXPECT_EQ(validator_->ConformsTo(doc->root, variant), true);
  EXPECT_EQ(validator_->ConformsTo(doc->root, haplotype), false);
  EXPECT_EQ(validator_->ConformsTo(doc->root, "http://example.org/none"),
            std::nullopt);
}

TEST_F(ValidatorTest, ConcurrentValidationsAgree) {
  std::vector<std::string> texts;
  const std::string dir = genogate::testing::GenomicsPackageDir() + "/example";
  for (const std::string& f : fhir::ListResourceFiles(dir, {".json"}))
    texts.push_back(genogate::testing::ReadTestFile(dir + "/" + f));
  auto run = [&](std::vector<size_t>* counts) {
    for (const std::string& t : texts) counts->push_back(Check(t).size());
  };
  std::vector<size_t> a, b, c;
  std::thread t1(run, &a), t2(run, &b);
  run(&c);
  t1.join();
  t2.join();
  EXPECT_EQ(a, c);
  EXPECT_EQ(b, c);
}

}  // namespace
}  // namespace genogate::conformance

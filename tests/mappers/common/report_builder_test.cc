// The FHIR builder on a hand-filled report: the Bundle parses back against
// the real R4 + Genomics IG definitions with no structure issues, carries
// the IG's codes, is deterministic, and survives JSON -> XML -> JSON.
#include "mappers/common/report_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/json_equal.h"
#include "testing/schema_test.h"
#include "testing/test_env.h"

namespace genogate::mappers {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kLoinc[] = "http://loinc.org";

GenomicReportInput SampleInput() {
  GenomicReportInput in;
  in.patient = {"urn:oid:1.2.3.4", "MRN-778"};
  in.patient_name = "Jane Testperson";
  in.patient_gender = "female";
  in.patient_birth_date = "1980-02-03";
  in.accession = {"urn:oid:1.2.3.5", "ACC-2024-17"};
  in.order = {"urn:oid:1.2.3.6", "ORD-9"};
  in.lab_name = "ACME Genomics Lab";
  in.specimen = {"urn:oid:1.2.3.7", "SP-1"};
  in.specimen_type = {"http://snomed.info/sct", "119297000", "Blood specimen"};
  in.issued = "2024-05-01T10:00:00Z";
  in.effective = "2024-04-28";
  in.conclusion = "One pathogenic variant.";
  in.build = "GRCh38";
  in.method = {kLoinc, "LA26398-0", "Sequencing"};
  in.source_class = "germline";
  in.regions_description = "Hereditary cancer panel";
  in.regions_studied.push_back({"17", 43044294, 43125483, "BRCA1"});

  VariantCall snv;
  snv.chromosome = "17";
  snv.build = "GRCh38";
  snv.genomic_ref_seq = "NC_000017.11";
  snv.start = 43057062;
  snv.end = 43057063;
  snv.ref_allele = "C";
  snv.alt_allele = "T";
  snv.gene_symbol = "BRCA1";
  snv.hgnc_id = "HGNC:1100";
  snv.transcript_ref_seq = "NM_007294.4";
  snv.hgvs_c = "NM_007294.4:c.5266G>A";
  snv.hgvs_p = "NP_009225.1:p.Gly1756Ser";
  snv.variant_type = {"http://www.sequenceontology.org", "SO:0001483", "SNV"};
  snv.variation_codes.push_back(
      {"http://www.ncbi.nlm.nih.gov/snp", "rs80357906", "rs80357906"});
  snv.allelic_state = {kLoinc, "LA6706-1", "heterozygous"};
  snv.allele_frequency = "0.4500";
  snv.read_depth = 120;
  snv.phase_set = "43057000";
  snv.phased = true;
  snv.genomic_source_class = {kLoinc, "LA6683-2", "Germline"};
  Consequence csq;
  csq.terms.push_back(
      {"http://www.sequenceontology.org", "SO:0001583", "missense_variant"});
  csq.impact = "MODERATE";
  csq.gene_symbol = "BRCA1";
  csq.hgnc_id = "HGNC:1100";
  csq.transcript = "NM_007294.4";
  csq.hgvs_c = "NM_007294.4:c.5266G>A";
  csq.hgvs_p = "NP_009225.1:p.Gly1756Ser";
  snv.consequences.push_back(csq);
  Classification cls;
  cls.clinical_significance = {kLoinc, "LA6668-3", "Pathogenic"};
  cls.source = "ClinVar";
  cls.review_status = "criteria provided, multiple submitters, no conflicts";
  cls.conditions.push_back({"", "", "Hereditary breast ovarian cancer"});
  snv.classifications.push_back(cls);
  snv.source_location = "line 12";
  in.variants.push_back(snv);

  VariantCall del;
  del.chromosome = "17";
  del.build = "GRCh38";
  del.genomic_ref_seq = "NC_000017.11";
  del.start = 43057100;
  del.end = 43057103;
  del.ref_allele = "CTT";
  del.alt_allele = "C";
  del.variant_type = {"http://www.sequenceontology.org", "SO:0000159",
                      "deletion"};
  del.allelic_state = {kLoinc, "LA6705-3", "homozygous"};
  del.phase_set = "43057000";
  del.phased = true;
  del.source_location = "line 13";
  in.variants.push_back(del);

  VariantCall cnv;
  cnv.chromosome = "2";
  cnv.build = "GRCh38";
  cnv.genomic_ref_seq = "NC_000002.12";
  cnv.start = 47403000;
  cnv.end = 47410000;
  cnv.ref_allele = "N";
  cnv.symbolic_alt = "<DEL>";
  cnv.structural_type = "DEL";
  cnv.copy_number = 1;
  cnv.variant_type = {"http://www.sequenceontology.org", "SO:0001019",
                      "copy_number_variation"};
  cnv.allelic_state = {kLoinc, "LA6706-1", "heterozygous"};
  cnv.source_location = "line 14";
  ExtraComponent extra;
  extra.code = {kLoinc, "82121-5x", "Made-up extra"};
  extra.value_string = "kept";
  cnv.extra_components.push_back(extra);
  in.variants.push_back(cnv);

  in.phase_relations.push_back({0, 1, "Cis"});
  return in;
}

class ReportBuilderTest : public genogate::testing::SchemaTest {
 protected:
  static std::string BuildJson(const GenomicReportInput& in,
                               const BuildOptions& options = {}) {
    Result<fhir::Node> b = BuildReportBundle(in, options, *schema_);
    EXPECT_TRUE(b.ok()) << b.error().message();
    if (!b.ok()) return "";
    Result<std::string> json = fhir::WriteJson(*b);
    EXPECT_TRUE(json.ok()) << json.error().message();
    return json.ok() ? *json : "";
  }

  static fhir::Document Parse(const std::string& json) {
    Result<fhir::Document> d = fhir::ParseJson(json, schema_);
    EXPECT_TRUE(d.ok()) << d.error().message();
    return d.ok() ? std::move(d).value() : fhir::Document{};
  }
};

// --- Navigation helpers over the parsed tree.

std::string_view CodeOf(const fhir::Node* cc) {
  if (!cc) return "";
  const fhir::Node* coding = cc->Child("coding");
  return coding ? coding->ChildValue("code") : "";
}

std::string_view ProfileOf(const fhir::Node& resource) {
  const fhir::Node* meta = resource.Child("meta");
  return meta ? meta->ChildValue("profile") : "";
}

std::vector<const fhir::Node*> Resources(const fhir::Node& bundle,
                                         std::string_view profile_suffix) {
  std::vector<const fhir::Node*> out;
  for (const fhir::Node* e : bundle.Children("entry")) {
    const fhir::Node* r = e->Child("resource");
    if (!r) continue;
    std::string_view p = ProfileOf(*r);
    if (profile_suffix.empty() ||
        (p.size() >= profile_suffix.size() &&
         p.substr(p.size() - profile_suffix.size()) == profile_suffix)) {
      out.push_back(r);
    }
  }
  return out;
}

const fhir::Node* Component(const fhir::Node& obs, std::string_view code) {
  for (const fhir::Node* c : obs.Children("component")) {
    if (CodeOf(c->Child("code")) == code) return c;
  }
  return nullptr;
}

std::string_view ComponentConceptCode(const fhir::Node& obs,
                                      std::string_view code) {
  const fhir::Node* c = Component(obs, code);
  return c ? CodeOf(c->Child("value")) : "";
}

std::string_view FullUrlOf(const fhir::Node& bundle,
                           const fhir::Node* resource) {
  for (const fhir::Node* e : bundle.Children("entry")) {
    if (e->Child("resource") == resource) return e->ChildValue("fullUrl");
  }
  return "";
}

TEST_F(ReportBuilderTest, BundleParsesBackWithoutStructureIssues) {
  std::string json = BuildJson(SampleInput());
  fhir::Document d = Parse(json);
  EXPECT_TRUE(d.issues.empty()) << d.issues.ToText();
  EXPECT_EQ(d.root.resource_type(), "Bundle");
  EXPECT_EQ(d.root.ChildValue("type"), "transaction");
  // Patient, Specimen, study, analysis, 3 variants, 1 implication,
  // 1 consequence, 1 phase relation, the report.
  EXPECT_EQ(d.root.Children("entry").size(), 11u);
  EXPECT_EQ(Resources(d.root, "/variant").size(), 3u);
  EXPECT_EQ(Resources(d.root, "/diagnostic-implication").size(), 1u);
  EXPECT_EQ(Resources(d.root, "/molecular-consequence").size(), 1u);
  EXPECT_EQ(Resources(d.root, "/sequence-phase-relationship").size(), 1u);
  EXPECT_EQ(Resources(d.root, "/genomic-study").size(), 1u);
  EXPECT_EQ(Resources(d.root, "/genomic-study-analysis").size(), 1u);
  EXPECT_EQ(Resources(d.root, "/genomic-report").size(), 1u);
}

// The Patient is a conditional create; every other entry a conditional
// update on its own identifier, so an amended report replaces the earlier
// version's resources.
TEST_F(ReportBuilderTest,
       PatientIsAConditionalCreateTheRestConditionalUpdates) {
  fhir::Document d = Parse(BuildJson(SampleInput()));
  std::set<std::string> urls, queries;
  int patients = 0;
  for (const fhir::Node* e : d.root.Children("entry")) {
    std::string url(e->ChildValue("fullUrl"));
    EXPECT_THAT(url, StartsWith("urn:uuid:"));
    EXPECT_EQ(url.size(), 9u + 36u);
    urls.insert(url);
    const fhir::Node* req = e->Child("request");
    ASSERT_NE(req, nullptr);
    const std::string type(e->Child("resource")->resource_type());
    std::string q;
    if (type == "Patient") {
      ++patients;
      EXPECT_EQ(req->ChildValue("method"), "POST");
      EXPECT_EQ(req->ChildValue("url"), "Patient");
      q = std::string(req->ChildValue("ifNoneExist"));
    } else {
      EXPECT_EQ(req->ChildValue("method"), "PUT") << type;
      EXPECT_EQ(req->Child("ifNoneExist"), nullptr) << type;
      std::string target(req->ChildValue("url"));
      EXPECT_THAT(target, StartsWith(type + "?"));
      q = target.substr(target.find('?') + 1);
    }
    EXPECT_THAT(q, StartsWith("identifier="));
    queries.insert(q);
    // The query names the resource's own identifier.
    const fhir::Node* id = e->Child("resource")->Child("identifier");
    ASSERT_NE(id, nullptr);
    EXPECT_THAT(q, HasSubstr(std::string(id->ChildValue("system")) + "|"));
  }
  EXPECT_EQ(patients, 1);
  EXPECT_EQ(urls.size(), 11u);
  EXPECT_EQ(queries.size(), 11u);
  EXPECT_TRUE(queries.count("identifier=urn:oid:1.2.3.4|MRN-778"));
  EXPECT_TRUE(queries.count("identifier=urn:oid:1.2.3.5|ACC-2024-17"));
  EXPECT_TRUE(queries.count(
      "identifier=urn:genogate:lab:acme-genomics-lab|ACC-2024-17/variant/"
      "17:43057062:C:T"));
}

TEST_F(ReportBuilderTest, VariantComponentsCarryTheIgCodes) {
  fhir::Document d = Parse(BuildJson(SampleInput()));
  std::vector<const fhir::Node*> variants = Resources(d.root, "/variant");
  ASSERT_EQ(variants.size(), 3u);
  const fhir::Node& snv = *variants[0];
  EXPECT_EQ(snv.ChildValue("status"), "final");
  std::vector<const fhir::Node*> cats = snv.Children("category");
  ASSERT_EQ(cats.size(), 2u);
  EXPECT_EQ(CodeOf(cats[0]), "laboratory");
  EXPECT_EQ(CodeOf(cats[1]), "GE");
  EXPECT_EQ(cats[1]->Child("coding")->ChildValue("system"),
            "http://terminology.hl7.org/CodeSystem/v2-0074");
  EXPECT_EQ(CodeOf(snv.Child("code")), "69548-6");
  EXPECT_EQ(CodeOf(snv.Child("value")), "LA9633-4");
  EXPECT_EQ(snv.Child("subject")->ChildValue("reference"),
            "Patient?identifier=urn:oid:1.2.3.4|MRN-778");
  EXPECT_THAT(std::string(snv.Child("specimen")->ChildValue("reference")),
              StartsWith("urn:uuid:"));

  EXPECT_EQ(ComponentConceptCode(snv, "48018-6"), "HGNC:1100");
  EXPECT_EQ(ComponentConceptCode(snv, "62374-4"), "LA26806-2");
  EXPECT_EQ(ComponentConceptCode(snv, "48000-4"), "LA21270-6");
  EXPECT_EQ(ComponentConceptCode(snv, "48013-7"), "NC_000017.11");
  EXPECT_EQ(ComponentConceptCode(snv, "51958-7"), "NM_007294.4");
  EXPECT_EQ(ComponentConceptCode(snv, "92822-6"), "LA30100-4");
  EXPECT_EQ(ComponentConceptCode(snv, "48004-6"), "NM_007294.4:c.5266G>A");
  EXPECT_EQ(ComponentConceptCode(snv, "48005-3"), "NP_009225.1:p.Gly1756Ser");
  EXPECT_EQ(ComponentConceptCode(snv, "48019-4"), "SO:0001483");
  EXPECT_EQ(ComponentConceptCode(snv, "53034-5"), "LA6706-1");
  EXPECT_EQ(ComponentConceptCode(snv, "48002-0"), "LA6683-2");
  EXPECT_EQ(ComponentConceptCode(snv, "81252-9"), "rs80357906");
  const fhir::Node* range = Component(snv, "81254-5");
  ASSERT_NE(range, nullptr);
  const fhir::Node* rv = range->Child("value");
  ASSERT_NE(rv, nullptr);
  EXPECT_EQ(rv->type_name(), "Range");
  EXPECT_EQ(rv->Child("low")->ChildValue("value"), "43057062");
  EXPECT_EQ(rv->Child("high")->ChildValue("value"), "43057063");
  EXPECT_EQ(Component(snv, "69547-8")->ChildValue("value"), "C");
  EXPECT_EQ(Component(snv, "69551-0")->ChildValue("value"), "T");
  const fhir::Node* af = Component(snv, "81258-6");
  ASSERT_NE(af, nullptr);
  EXPECT_EQ(af->Child("value")->type_name(), "Quantity");
  EXPECT_EQ(af->Child("value")->ChildValue("value"), "0.4500");  // exact text
  EXPECT_EQ(Component(snv, "82121-5")->Child("value")->ChildValue("value"),
            "120");
  EXPECT_EQ(Component(snv, "82155-3"), nullptr);  // not set: not written

  const fhir::Node& del = *variants[1];
  EXPECT_EQ(ComponentConceptCode(del, "53034-5"), "LA6705-3");
  EXPECT_EQ(Component(del, "69547-8")->ChildValue("value"), "CTT");
  EXPECT_EQ(Component(del, "48018-6"), nullptr);

  const fhir::Node& cnv = *variants[2];
  EXPECT_EQ(Component(cnv, "82155-3")->Child("value")->ChildValue("value"),
            "1");
  EXPECT_EQ(ComponentConceptCode(cnv, "48000-4"), "LA21255-7");
  EXPECT_EQ(Component(cnv, "69551-0"), nullptr);  // symbolic ALT
  EXPECT_EQ(Component(cnv, "82121-5x")->ChildValue("value"), "kept");
}

TEST_F(ReportBuilderTest, ImplicationConsequencePhaseAndReport) {
  fhir::Document d = Parse(BuildJson(SampleInput()));
  std::vector<const fhir::Node*> variants = Resources(d.root, "/variant");
  ASSERT_EQ(variants.size(), 3u);
  std::string snv_url(FullUrlOf(d.root, variants[0]));
  std::string del_url(FullUrlOf(d.root, variants[1]));

  const fhir::Node* impl = Resources(d.root, "/diagnostic-implication")[0];
  EXPECT_EQ(CodeOf(impl->Child("code")), "diagnostic-implication");
  EXPECT_EQ(impl->Child("derivedFrom")->ChildValue("reference"), snv_url);
  EXPECT_EQ(ComponentConceptCode(*impl, "53037-8"), "LA6668-3");
  EXPECT_EQ(impl->Children("category").size(), 2u);

  const fhir::Node* cons = Resources(d.root, "/molecular-consequence")[0];
  EXPECT_EQ(CodeOf(cons->Child("code")), "molecular-consequence");
  EXPECT_EQ(cons->Child("derivedFrom")->ChildValue("reference"), snv_url);
  EXPECT_EQ(ComponentConceptCode(*cons, "feature-consequence"), "SO:0001583");
  EXPECT_EQ(ComponentConceptCode(*cons, "48005-3"), "NP_009225.1:p.Gly1756Ser");

  const fhir::Node* phase =
      Resources(d.root, "/sequence-phase-relationship")[0];
  EXPECT_EQ(CodeOf(phase->Child("code")), "82120-7");
  EXPECT_EQ(CodeOf(phase->Child("value")), "Cis");
  std::vector<const fhir::Node*> from = phase->Children("derivedFrom");
  ASSERT_EQ(from.size(), 2u);
  EXPECT_EQ(from[0]->ChildValue("reference"), snv_url);
  EXPECT_EQ(from[1]->ChildValue("reference"), del_url);

  const fhir::Node* report = Resources(d.root, "/genomic-report")[0];
  EXPECT_EQ(CodeOf(report->Child("code")), "51969-4");
  EXPECT_EQ(CodeOf(report->Child("category")), "GE");
  EXPECT_EQ(report->Child("identifier")->ChildValue("value"), "ACC-2024-17");
  EXPECT_EQ(report->ChildValue("issued"), "2024-05-01T10:00:00Z");
  EXPECT_EQ(report->ChildValue("conclusion"), "One pathogenic variant.");
  // 3 variants + implication + consequence + phase relation.
  EXPECT_EQ(report->Children("result").size(), 6u);
  const fhir::Node* ext = report->Child("extension");
  ASSERT_NE(ext, nullptr);
  EXPECT_EQ(ext->ChildValue("url"),
            "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
            "genomic-study-reference");

  const fhir::Node* analysis = Resources(d.root, "/genomic-study-analysis")[0];
  bool has_build = false, has_regions = false;
  for (const fhir::Node* x : analysis->Children("extension")) {
    std::string_view url = x->ChildValue("url");
    if (url.ends_with("genomic-study-analysis-genome-build")) {
      has_build = CodeOf(x->Child("value")) == "LA26806-2";
    }
    if (url.ends_with("genomic-study-analysis-regions")) {
      for (const fhir::Node* s : x->Children("extension")) {
        if (s->ChildValue("url") == "studied") {
          has_regions = s->Child("value")->ChildValue("text") ==
                        "17:43044294-43125483 BRCA1";
        }
      }
    }
  }
  EXPECT_TRUE(has_build);
  EXPECT_TRUE(has_regions);

  const fhir::Node* patient = Resources(d.root, "")[0];
  EXPECT_EQ(patient->resource_type(), "Patient");
  EXPECT_EQ(patient->ChildValue("gender"), "female");
  EXPECT_EQ(patient->ChildValue("birthDate"), "1980-02-03");
}

TEST_F(ReportBuilderTest, SameInputGivesIdenticalBundle) {
  std::string a = BuildJson(SampleInput());
  std::string b = BuildJson(SampleInput());
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  // A different accession gives different identities.
  GenomicReportInput other = SampleInput();
  other.accession.value = "ACC-2024-18";
  std::string c = BuildJson(other);
  fhir::Document da = Parse(a), dc = Parse(c);
  EXPECT_NE(da.root.Children("entry")[4]->ChildValue("fullUrl"),
            dc.root.Children("entry")[4]->ChildValue("fullUrl"));
}

TEST_F(ReportBuilderTest, RoundTripsThroughXml) {
  std::string json = BuildJson(SampleInput());
  fhir::Document d = Parse(json);
  Result<std::string> xml = fhir::WriteXml(d.root);
  ASSERT_TRUE(xml.ok()) << xml.error().message();
  Result<fhir::Document> back = fhir::ParseXml(*xml, *schema_);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_TRUE(back->issues.empty()) << back->issues.ToText();
  Result<std::string> json2 = fhir::WriteJson(back->root);
  ASSERT_TRUE(json2.ok());
  // Same document (XML puts Extension.url first; member order may differ).
  EXPECT_EQ(genogate::testing::JsonDifference(json, *json2), "");
}

TEST_F(ReportBuilderTest, OmitsIssuedWithoutInputOrOptionAndUsesOption) {
  GenomicReportInput in = SampleInput();
  in.issued.clear();
  fhir::Document d = Parse(BuildJson(in));
  EXPECT_EQ(Resources(d.root, "/genomic-report")[0]->Child("issued"), nullptr);
  BuildOptions options;
  options.issued = "2025-01-02T03:04:05Z";
  d = Parse(BuildJson(in, options));
  EXPECT_EQ(Resources(d.root, "/genomic-report")[0]->ChildValue("issued"),
            "2025-01-02T03:04:05Z");
}

TEST_F(ReportBuilderTest, CustomFullUrlGenerator) {
  BuildOptions options;
  options.full_url_for_key = [](std::string_view key) {
    return "urn:uuid:" +
           NameBasedUrnUuid(std::string("x") + std::string(key)).substr(9);
  };
  fhir::Document d = Parse(BuildJson(SampleInput(), options));
  fhir::Document plain = Parse(BuildJson(SampleInput()));
  EXPECT_NE(d.root.Children("entry")[0]->ChildValue("fullUrl"),
            plain.root.Children("entry")[0]->ChildValue("fullUrl"));
}

TEST_F(ReportBuilderTest, RejectsMissingIdentifiersWithoutPhi) {
  GenomicReportInput in = SampleInput();
  in.patient.value.clear();
  Result<fhir::Node> b = BuildReportBundle(in, {}, *schema_);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(b.error().message(), Not(HasSubstr("Testperson")));

  in = SampleInput();
  in.accession.value.clear();
  EXPECT_FALSE(BuildReportBundle(in, {}, *schema_).ok());

  in = SampleInput();
  in.phase_relations.push_back({0, 7, "Trans"});
  b = BuildReportBundle(in, {}, *schema_);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.error().message(), HasSubstr("phase relation 2"));

  in = SampleInput();
  in.variants[0].allele_frequency = ".45";
  b = BuildReportBundle(in, {}, *schema_);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.error().message(), HasSubstr("line 12"));
  EXPECT_THAT(b.error().message(), Not(HasSubstr("MRN-778")));
}

TEST_F(ReportBuilderTest, StreamingBuilderEmitsTheSameEntries) {
  GenomicReportInput in = SampleInput();
  Result<fhir::Node> whole = BuildReportBundle(in, {}, *schema_);
  ASSERT_TRUE(whole.ok());
  std::vector<std::string> streamed;
  BuildOptions options;
  ReportStreamBuilder b(in, options, *schema_, [&](fhir::Node entry) {
    const fhir::Node* resource = entry.Child("resource");
    if (!resource) return Status(Error(ErrorCode::kInternal, "no resource"));
    Result<std::string> j = fhir::WriteJson(*resource);
    if (!j.ok()) return Status(j.error());
    streamed.push_back(*j);
    return Status::Ok();
  });
  EXPECT_EQ(b.AddVariant(in.variants[0]).ok(), false);  // before Begin
  ASSERT_TRUE(b.Begin().ok());
  for (const VariantCall& v : in.variants) ASSERT_TRUE(b.AddVariant(v).ok());
  for (const PhaseRelation& p : in.phase_relations) {
    ASSERT_TRUE(b.AddPhaseRelation(p).ok());
  }
  ASSERT_TRUE(b.Finish().ok());
  std::vector<const fhir::Node*> entries = whole->Children("entry");
  ASSERT_EQ(streamed.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    Result<std::string> j = fhir::WriteJson(*entries[i]->Child("resource"));
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(streamed[i], *j) << "entry " << i;
  }
}

// Collects the JSON form's entries as "fullUrl|method|url|ifNoneExist" and
// the resource text (its pieces joined).
class TextSink : public JsonEntrySink {
 public:
  Status BeginEntry(const EntryHead& head) override {
    heads.push_back(std::string(head.full_url) + "|" +
                    std::string(head.method) + "|" + std::string(head.url) +
                    "|" + std::string(head.if_none_exist));
    resources.emplace_back();
    return Status::Ok();
  }
  Status ResourceText(std::string_view json) override {
    resources.back() += json;
    ++pieces;
    return Status::Ok();
  }
  Status EndEntry() override { return Status::Ok(); }
  std::vector<std::string> heads, resources;
  size_t pieces = 0;
};

// The JSON form against fhir::WriteJson over the trees the EntrySink form
// builds: the same heads and the same resource text, byte for byte.
void ExpectJsonFormMatchesTrees(const GenomicReportInput& in,
                                const BuildOptions& options,
                                const fhir::Schema& schema) {
  Result<fhir::Node> whole = BuildReportBundle(in, options, schema);
  ASSERT_TRUE(whole.ok()) << whole.error().message();
  TextSink sink;
  ReportStreamBuilder b(in, options, schema, &sink);
  ASSERT_TRUE(b.Begin().ok());
  for (const VariantCall& v : in.variants) ASSERT_TRUE(b.AddVariant(v).ok());
  for (const PhaseRelation& p : in.phase_relations) {
    ASSERT_TRUE(b.AddPhaseRelation(p).ok());
  }
  ASSERT_TRUE(b.Finish().ok());
  std::vector<const fhir::Node*> entries = whole->Children("entry");
  ASSERT_EQ(sink.resources.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const fhir::Node* request = entries[i]->Child("request");
    EXPECT_EQ(sink.heads[i],
              std::string(entries[i]->ChildValue("fullUrl")) + "|" +
                  std::string(request->ChildValue("method")) + "|" +
                  std::string(request->ChildValue("url")) + "|" +
                  std::string(request->ChildValue("ifNoneExist")));
    Result<std::string> j = fhir::WriteJson(*entries[i]->Child("resource"));
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(sink.resources[i], *j) << "entry " << i;
  }
}

TEST_F(ReportBuilderTest, JsonFormWritesWhatWriteJsonWritesForTheTrees) {
  GenomicReportInput in = SampleInput();
  ExpectJsonFormMatchesTrees(in, {}, *schema_);
  // Every byte RapidJSON escapes (or not), in every resource written as
  // text, at every offset of the 8-byte fast scan.
  std::string bytes;
  for (int c = 1; c < 256; ++c) bytes.push_back(static_cast<char>(c));
  in.variants[0].gene_symbol = "BR\"CA\\1" + bytes;
  in.variants[0].hgvs_p = "p.(" + bytes + ")";
  in.variants[0].consequences[0].impact = "x\b\f\r\n\t\x1f\x7f\"";
  in.variants[0].consequences[0].hgvs_c = bytes.substr(3);
  in.variants[0].classifications[0].evidence_text = bytes.substr(5);
  in.variants[0].classifications[0].source = "Lab \"A\"";
  in.variants[1].alt_allele = "C\t";
  in.variants[1].allele_frequency = "1e-3";
  in.variants[1].read_depth = 0;
  in.variants[1].inner_start = 5;
  in.variants[1].outer_end = 9;
  in.variants[1].build = "hg19";
  in.variants[1].coordinate_system = "1-based character counting";
  in.phase_relations.push_back({1, 0, ""});
  in.conclusion = bytes;
  in.overall_interpretation = {"", "", "text only"};
  in.effective.clear();
  in.specimen = {};
  in.method = {};
  BuildOptions options;
  options.issued = "2026-11-29T10:00:00Z";
  ExpectJsonFormMatchesTrees(in, options, *schema_);
  // A variant without components and a report without results.
  VariantCall bare;
  bare.coordinate_system.clear();
  in.variants = {bare};
  in.phase_relations.clear();
  ExpectJsonFormMatchesTrees(in, options, *schema_);
  in.variants.clear();
  ExpectJsonFormMatchesTrees(in, options, *schema_);
}

TEST_F(ReportBuilderTest, JsonFormStreamsALargeReportInPieces) {
  GenomicReportInput in = SampleInput();
  VariantCall v = in.variants[1];
  in.variants.clear();
  in.phase_relations.clear();
  for (int i = 0; i < 3000; ++i) in.variants.push_back(v);  // keys "#n"
  ExpectJsonFormMatchesTrees(in, {}, *schema_);
  TextSink sink;
  const BuildOptions options;  // referenced by the builder: must outlive it
  ReportStreamBuilder b(in, options, *schema_, &sink);
  ASSERT_TRUE(b.Begin().ok());
  for (const VariantCall& c : in.variants) ASSERT_TRUE(b.AddVariant(c).ok());
  ASSERT_TRUE(b.Finish().ok());
  // 3000 references of ~60 bytes: more than one 64 KiB piece.
  EXPECT_GT(sink.pieces, sink.resources.size());
  EXPECT_THAT(sink.resources.back(), HasSubstr("\"result\":[{\"reference\""));
}

// Per-variant state spilled to the temporary file after 1 or 7 variants
// gives the same bundle, tree and JSON form, as when all of it stays in
// memory: sorted variants with repeats, phases reaching back past a spill,
// then variants out of order (the full repeat table rebuilt from the file).
TEST_F(ReportBuilderTest, SpilledStateGivesTheSameOutputAsInMemory) {
  GenomicReportInput in = SampleInput();
  const VariantCall snv = in.variants[0];
  const VariantCall del = in.variants[1];
  in.variants.clear();
  in.phase_relations.clear();
  for (int i = 0; i < 60; ++i) {
    if (i % 5 == 4) {  // the same variant again: "#2"
      in.variants.push_back(in.variants.back());
      continue;
    }
    VariantCall v = i % 3 ? del : snv;
    v.chromosome = std::to_string(1 + i / 20);
    v.start = 1000 + 10 * (i % 20);
    in.variants.push_back(v);
  }
  in.variants.push_back(snv);  // out of order from here on
  in.variants.push_back(in.variants[3]);
  in.variants.push_back(in.variants[4]);
  for (size_t i = 1; i < in.variants.size(); i += 6) {
    in.phase_relations.push_back({0, i, i % 4 ? "Cis" : "Trans"});
  }
  const std::string in_memory = BuildJson(in);
  ASSERT_FALSE(in_memory.empty());
  EXPECT_THAT(in_memory, HasSubstr("#2"));
  TextSink memory_sink;
  const BuildOptions defaults;  // the builder keeps a reference
  {
    ReportStreamBuilder b(in, defaults, *schema_, &memory_sink);
    ASSERT_TRUE(b.Begin().ok());
    for (const VariantCall& v : in.variants) ASSERT_TRUE(b.AddVariant(v).ok());
    for (const PhaseRelation& p : in.phase_relations) {
      ASSERT_TRUE(b.AddPhaseRelation(p).ok());
    }
    ASSERT_TRUE(b.Finish().ok());
  }
  for (size_t spill_after : {size_t{1}, size_t{7}}) {
    BuildOptions options;
    options.spill_after_variants = spill_after;
    EXPECT_EQ(BuildJson(in, options), in_memory) << spill_after;
    TextSink sink;
    ReportStreamBuilder b(in, options, *schema_, &sink);
    ASSERT_TRUE(b.Begin().ok());
    for (const VariantCall& v : in.variants) ASSERT_TRUE(b.AddVariant(v).ok());
    for (const PhaseRelation& p : in.phase_relations) {
      ASSERT_TRUE(b.AddPhaseRelation(p).ok());
    }
    ASSERT_TRUE(b.Finish().ok());
    EXPECT_EQ(sink.heads, memory_sink.heads) << spill_after;
    EXPECT_EQ(sink.resources, memory_sink.resources) << spill_after;
  }
}

TEST_F(ReportBuilderTest, SinkErrorStopsTheBuild) {
  GenomicReportInput in = SampleInput();
  BuildOptions options;
  int calls = 0;
  ReportStreamBuilder b(in, options, *schema_, [&](fhir::Node) {
    ++calls;
    return Status(Error(ErrorCode::kIo, "disk full"));
  });
  Status s = b.Begin();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kIo);
  EXPECT_EQ(calls, 1);
}

TEST_F(ReportBuilderTest, RepeatedVariantGetsDistinctIdentity) {
  GenomicReportInput in = SampleInput();
  in.variants.push_back(in.variants[1]);
  in.variants.push_back(in.variants[1]);
  fhir::Document d = Parse(BuildJson(in));
  std::vector<const fhir::Node*> variants = Resources(d.root, "/variant");
  ASSERT_EQ(variants.size(), 5u);
  EXPECT_EQ(variants[3]->Child("identifier")->ChildValue("value"),
            "ACC-2024-17/variant/17:43057100:CTT:C#2");
  EXPECT_EQ(variants[4]->Child("identifier")->ChildValue("value"),
            "ACC-2024-17/variant/17:43057100:CTT:C#3");
}

TEST(NameBasedUrnUuidTest, MatchesRfc4122Version5) {
  // Python: uuid.uuid5(uuid.NAMESPACE_URL, name).
  EXPECT_EQ(NameBasedUrnUuid(""),
            "urn:uuid:1b4db7eb-4057-5ddf-91e0-36dec72071f5");
  EXPECT_EQ(NameBasedUrnUuid("urn:genogate:lab:acme|A1/variant/17:100:A:G"),
            "urn:uuid:9896ac46-0b73-56c6-841e-645b5dd3a34d");
}

TEST(VariantKeyTest, UsesSymbolicAltWhenNoSequence) {
  VariantCall v;
  v.chromosome = "2";
  v.start = 10;
  v.ref_allele = "N";
  v.symbolic_alt = "<DEL>";
  EXPECT_EQ(VariantKey(v), "2:10:N:<DEL>");
}

}  // namespace
}  // namespace genogate::mappers

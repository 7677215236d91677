// Lab JSON (genogate-lab-result/1): the documented example maps to the
// expected model fields and builds a bundle that validates against the IG
// profiles; malformed documents are refused with the JSON pointer of the
// bad field and never quote patient values.
#include "mappers/labjson/labjson_mapper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "conformance/validator/validator.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "mappers/common/report_builder.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"
#include "testing/validation_test.h"

namespace genogate::mappers::labjson {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Example() {
  return genogate::testing::ReadTestFile(genogate::testing::SourceDir() +
                                         "/examples/lab-result.json");
}

TEST(LabJsonMapperTest, ExampleMapsToTheModel) {
  std::vector<Problem> problems;
  Result<GenomicReportInput> r = ReadLabJson(Example(), &problems);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(problems.empty());
  const GenomicReportInput& in = *r;
  EXPECT_EQ(in.patient.system, "urn:oid:2.16.840.1.113883.3.999.1");
  EXPECT_EQ(in.patient.value, "MRN-000123");
  EXPECT_EQ(in.patient_birth_date, "1980-04-12");
  EXPECT_EQ(in.patient_gender, "female");
  EXPECT_EQ(in.accession.value, "ACC-2024-0042");
  EXPECT_EQ(in.lab_name, "Example Genomics Lab");
  EXPECT_EQ(in.specimen.value, "SP-77");
  EXPECT_EQ(in.specimen_type.code, "119297000");
  EXPECT_EQ(in.issued, "2024-05-01T10:00:00Z");
  EXPECT_EQ(in.build, "GRCh38");
  EXPECT_EQ(in.source_class, "germline");
  EXPECT_EQ(in.method.code, "LA26398-0");
  ASSERT_EQ(in.regions_studied.size(), 2u);
  EXPECT_EQ(in.regions_studied[0].start, 43044294);
  EXPECT_EQ(in.regions_studied[0].end, 43125483);
  // 1-based 32315508..32400268 is 0-based interval 32315507..32400268.
  EXPECT_EQ(in.regions_studied[1].start, 32315507);
  EXPECT_EQ(in.regions_studied[1].end, 32400268);

  ASSERT_EQ(in.variants.size(), 2u);
  const VariantCall& a = in.variants[0];
  EXPECT_EQ(a.chromosome, "17");
  EXPECT_EQ(a.build, "GRCh38");
  EXPECT_EQ(a.genomic_ref_seq, "NC_000017.11");
  EXPECT_EQ(a.coordinate_system, "0-based interval counting");
  ASSERT_TRUE(a.start && a.end);
  EXPECT_EQ(*a.start, 43057062);  // 1-based 43057063
  EXPECT_EQ(*a.end, 43057063);
  EXPECT_EQ(a.ref_allele, "G");
  EXPECT_EQ(a.alt_allele, "A");
  EXPECT_EQ(a.gene_symbol, "BRCA1");
  EXPECT_EQ(a.hgnc_id, "HGNC:1100");
  EXPECT_EQ(a.transcript_ref_seq, "NM_007294.4");
  EXPECT_EQ(a.hgvs_c, "NM_007294.4:c.5251C>T");
  EXPECT_EQ(a.hgvs_p, "NP_009225.1:p.Arg1751Ter");
  EXPECT_EQ(a.hgvs_g, "NC_000017.11:g.43057063G>A");
  EXPECT_EQ(a.allelic_state.system, "http://loinc.org");
  EXPECT_EQ(a.allelic_state.code, "LA6706-1");
  EXPECT_EQ(a.allelic_state.display, "Heterozygous");
  EXPECT_EQ(a.allele_frequency, "0.4800");  // the exact text
  EXPECT_EQ(a.read_depth, 212);
  ASSERT_EQ(a.variation_codes.size(), 2u);
  EXPECT_EQ(a.variation_codes[0].system,
            "http://www.ncbi.nlm.nih.gov/projects/SNP");
  EXPECT_EQ(a.variation_codes[0].code, "rs80357123");
  EXPECT_EQ(a.variation_codes[1].system, "http://www.ncbi.nlm.nih.gov/clinvar");
  EXPECT_EQ(a.variation_codes[1].code, "55498");
  ASSERT_EQ(a.classifications.size(), 1u);
  EXPECT_EQ(a.classifications[0].clinical_significance.code, "LA6668-3");
  EXPECT_EQ(a.classifications[0].clinical_significance.display, "Pathogenic");
  ASSERT_EQ(a.classifications[0].conditions.size(), 1u);
  EXPECT_EQ(a.classifications[0].conditions[0].display,
            "Hereditary breast ovarian cancer syndrome");
  ASSERT_EQ(a.consequences.size(), 1u);
  ASSERT_EQ(a.consequences[0].terms.size(), 1u);
  EXPECT_EQ(a.consequences[0].terms[0].code, "SO:0001587");
  EXPECT_EQ(a.consequences[0].transcript, "NM_007294.4");
  EXPECT_EQ(a.source_location, "/variants/0");

  const VariantCall& b = in.variants[1];
  EXPECT_EQ(b.chromosome, "13");  // "chr13"
  EXPECT_EQ(*b.start, 32338103);
  EXPECT_EQ(*b.end, 32338104);
  EXPECT_EQ(b.allelic_state.code, "LA6705-3");
  EXPECT_EQ(b.allelic_state.display, "Homozygous");
  EXPECT_EQ(b.allele_frequency, "0.99");  // a JSON number, its text kept
  EXPECT_EQ(b.classifications[0].clinical_significance.code, "LA6675-8");
}

TEST(LabJsonMapperTest, HemizygousAndEndFromRef) {
  std::string doc = Example();
  size_t at = doc.find("\"zygosity\": \"homozygous\"");
  ASSERT_NE(at, std::string::npos);
  doc.replace(at, 24, "\"zygosity\": \"hemizygous\"");
  at = doc.find("\"end\": 32338104,");
  ASSERT_NE(at, std::string::npos);
  doc.erase(at, 16);
  Result<GenomicReportInput> r = ReadLabJson(doc, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->variants[1].allelic_state.code, "LA6707-9");
  EXPECT_EQ(r->variants[1].allelic_state.display, "Hemizygous");
  EXPECT_EQ(*r->variants[1].end, 32338104);  // start + len(ref)
}

// A minimal valid document; `variant` is the body of the single variant.
std::string Doc(const std::string& report_extra, const std::string& variant) {
  return R"({"format":"genogate-lab-result/1","report":{"patient":{)"
         R"("identifier":{"system":"urn:x","value":"SECRET-MRN"},)"
         R"("name":"Secret Name"},"accession":{"system":"urn:y","value":"A1"},)"
         R"("lab":{"name":"L"},"build":"GRCh38")" +
         report_extra + R"(},"variants":[)" + variant + "]}";
}
const char kGood[] =
    R"({"chromosome":"1","coordinateSystem":"1-based","start":100,)"
    R"("ref":"A","alt":"G"})";

std::string Replace(std::string s, const std::string& from,
                    const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(LabJsonMapperTest, MinimalDocumentIsAccepted) {
  // With a UTF-8 byte order mark, as some Windows tools write.
  Result<GenomicReportInput> r =
      ReadLabJson("\xEF\xBB\xBF" + Doc("", kGood), nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r->variants[0].start, 99);
  EXPECT_EQ(*r->variants[0].end, 100);
}

struct BadCase {
  std::string name;
  std::string doc;
  std::string pointer;
  std::string reason;  // a substring of the reason
};

TEST(LabJsonMapperTest, MalformedDocumentsNameThePointer) {
  const std::string g = kGood;
  const std::vector<BadCase> cases = {
      {"negative start", Doc("", Replace(g, R"("start":100)", R"("start":-5)")),
       "/variants/0/start", "must be an integer >= 1"},
      {"fractional start",
       Doc("", Replace(g, R"("start":100)", R"("start":100.5)")),
       "/variants/0/start", "must be an integer"},
      {"start as text",
       Doc("", Replace(g, R"("start":100)", R"("start":"100")")),
       "/variants/0/start", "must be an integer"},
      {"unknown field (typo)",
       Doc("", Replace(g, R"("ref":"A")", R"("refAllele":"A")")),
       "/variants/0/refAllele", "unknown field"},
      {"missing coordinate system",
       Doc("", Replace(g, R"("coordinateSystem":"1-based",)", "")),
       "/variants/0/coordinateSystem", "is required"},
      {"bad coordinate system",
       Doc("", Replace(g, R"("1-based")", R"("one-based")")),
       "/variants/0/coordinateSystem", "is not one of"},
      {"bad zygosity", Doc("", Replace(g, "}", R"(,"zygosity":"het"})")),
       "/variants/0/zygosity", "is not one of"},
      {"bad allele frequency",
       Doc("", Replace(g, "}", R"(,"alleleFrequency":"45%"})")),
       "/variants/0/alleleFrequency", "decimal from 0 to 1"},
      {"allele frequency above 1",
       Doc("", Replace(g, "}", R"(,"alleleFrequency":1.5})")),
       "/variants/0/alleleFrequency", "decimal from 0 to 1"},
      {"bad ref", Doc("", Replace(g, R"("ref":"A")", R"("ref":"a-")")),
       "/variants/0/ref", "sequence of A, C, G, T, N"},
      {"end does not match ref",
       Doc("", Replace(g, R"("start":100)", R"("start":100,"end":102)")),
       "/variants/0/end", "length of ref"},
      {"bad chromosome",
       Doc("", Replace(g, R"("chromosome":"1")", R"("chromosome":"chr99")")),
       "/variants/0/chromosome", "not 1..22"},
      {"bad significance",
       Doc("", Replace(g, "}", R"(,"classification":{"significance":"VUS"}})")),
       "/variants/0/classification/significance", "is not one of"},
      {"bad SO term",
       Doc("", Replace(g, "}", R"(,"consequences":[{"code":"missense"}]})")),
       "/variants/0/consequences/0/code", "SO:nnnnnnn"},
      {"bad dbSNP id", Doc("", Replace(g, "}", R"(,"dbsnpId":"12345"})")),
       "/variants/0/dbsnpId", "\"rs\""},
      {"bad build", Replace(Doc("", g), "GRCh38", "hg19"), "/report/build",
       "is not one of"},
      {"missing accession",
       Replace(Doc("", g), R"("accession":{"system":"urn:y","value":"A1"},)",
               ""),
       "/report/accession", "is required"},
      {"bad issued", Doc(R"(,"issued":"2024-05-01")", g), "/report/issued",
       "must be an instant"},
      {"bad birth date",
       Replace(Doc("", g), R"("name":"Secret Name")",
               R"("name":"Secret Name","birthDate":"12/04/1980")"),
       "/report/patient/birthDate", "must be a date"},
      {"bad gender (not echoed)",
       Replace(Doc("", g), R"("name":"Secret Name")",
               R"("name":"Secret Name","gender":"SecretGender")"),
       "/report/patient/gender", "must be one of"},
      {"patient value not a string",
       Replace(Doc("", g), R"("value":"SECRET-MRN")", R"("value":12345)"),
       "/report/patient/identifier/value", "must be a string"},
      {"duplicate key",
       Doc("", Replace(g, R"("ref":"A")", R"("ref":"A","ref":"C")")),
       "/variants/0/ref", "duplicate field"},
      {"wrong format", Replace(Doc("", g), "lab-result/1", "lab-result/2"),
       "/format", "must be \"genogate-lab-result/1\""},
      {"variants not an array",
       Replace(Doc("", g), R"("variants":[)" + g + "]", R"("variants":{})"),
       "/variants", "must be an array"},
      {"not JSON", "{\"format\": ", "", "not JSON"},
      {"beyond the chromosome",
       Doc("", Replace(g, R"("start":100)",
                       R"("start":248956423,"end":248956423)")),
       "/variants/0/end", "beyond the end of chromosome 1 in GRCh38"},
      {"ref beyond the chromosome",
       Doc("", Replace(g, R"("start":100)", R"("start":248956423)")),
       "/variants/0/ref", "beyond the end of chromosome 1 in GRCh38"},
  };
  for (const BadCase& c : cases) {
    std::vector<Problem> problems;
    Result<GenomicReportInput> r = ReadLabJson(c.doc, &problems);
    ASSERT_FALSE(r.ok()) << c.name;
    ASSERT_FALSE(problems.empty()) << c.name;
    bool found = false;
    for (const Problem& p : problems) {
      if (p.pointer == c.pointer &&
          p.reason.find(c.reason) != std::string::npos) {
        found = true;
      }
      EXPECT_THAT(p.reason, Not(HasSubstr("SECRET"))) << c.name;
      EXPECT_THAT(p.reason, Not(HasSubstr("Secret"))) << c.name;
    }
    std::string all;
    for (const Problem& p : problems) all += p.ToString() + "\n";
    EXPECT_TRUE(found) << c.name << ": expected " << c.pointer << ": "
                       << c.reason << "\ngot:\n"
                       << all;
    EXPECT_THAT(r.error().message(), Not(HasSubstr("SECRET"))) << c.name;
  }
}

TEST(LabJsonMapperTest, SeveralProblemsAreCollected) {
  std::string v = Replace(kGood, R"("start":100)", R"("start":-1)");
  v = Replace(v, R"("alt":"G")", R"("alt":"G","zygosty":"heterozygous")");
  std::string doc = Doc(R"(,"status":"done")", v + "," + v);
  std::vector<Problem> problems;
  Result<GenomicReportInput> r = ReadLabJson(doc, &problems);
  ASSERT_FALSE(r.ok());
  std::vector<std::string> got;
  for (const Problem& p : problems) got.push_back(p.pointer);
  EXPECT_THAT(got,
              ::testing::UnorderedElementsAre(
                  "/report/status", "/variants/0/zygosty", "/variants/0/start",
                  "/variants/1/zygosty", "/variants/1/start"));
  EXPECT_THAT(r.error().message(), HasSubstr("and 4 more problems"));
}

TEST(LabJsonMapperTest, LimitsAreEnforced) {
  Limits limits;
  limits.max_bytes = 64;
  std::vector<Problem> problems;
  Result<GenomicReportInput> r = ReadLabJson(Doc("", kGood), &problems, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kLimitExceeded);

  std::string deep = std::string(10000, '[') + std::string(10000, ']');
  problems.clear();
  r = ReadLabJson(deep, &problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kLimitExceeded);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].reason, HasSubstr("deeper than"));
}

// Every field the JSON Schema documents is one the reader knows: a member
// named in the schema, set to null, gives a type problem, never "unknown
// field". (The reverse direction is covered by the example, which uses
// every field group and is refused on any unknown field.)
TEST(LabJsonMapperTest, ReaderKnowsEverySchemaField) {
  rapidjson::Document schema;
  schema.Parse(genogate::testing::ReadTestFile(
      genogate::testing::SourceDir() + "/schemas/lab-result.schema.json"));
  ASSERT_FALSE(schema.HasParseError());
  const rapidjson::Value& defs = schema["$defs"];
  // $defs entry -> where a member is placed in Doc() and its pointer.
  struct Place {
    const char* def;
    const char* sub;  // properties of a nested object, or ""
    std::string pointer_prefix;
  };
  const std::vector<Place> places = {
      {"variant", "", "/variants/0/"},
      {"report", "", "/report/"},
      {"report", "patient", "/report/patient/"},
  };
  size_t checked = 0;
  for (const Place& place : places) {
    const rapidjson::Value* props = &defs[place.def]["properties"];
    if (*place.sub) props = &(*props)[place.sub]["properties"];
    for (auto m = props->MemberBegin(); m != props->MemberEnd(); ++m) {
      const std::string key = m->name.GetString();
      std::string doc;
      if (place.pointer_prefix == "/variants/0/") {
        std::string v = kGood;
        v.insert(1, "\"" + key + "\":null,");
        doc = Doc("", v);
      } else if (place.pointer_prefix == "/report/") {
        doc = Doc(",\"" + key + "\":null", kGood);
      } else {
        doc = Replace(Doc("", kGood), R"("name":"Secret Name")",
                      R"("name":"Secret Name",")" + key + "\":null");
      }
      std::vector<Problem> problems;
      (void)ReadLabJson(doc, &problems);
      for (const Problem& p : problems) {
        EXPECT_NE(p.reason, "unknown field") << p.ToString();
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 30u);  // 16 variant + 10 report + 4 patient fields
}

class LabJsonBundleTest : public genogate::testing::ValidationTest<> {};

TEST_F(LabJsonBundleTest, ExampleBuildsABundleWithoutValidationErrors) {
  Result<GenomicReportInput> in = ReadLabJson(Example(), nullptr);
  ASSERT_TRUE(in.ok()) << in.error().message();
  Result<fhir::Node> bundle = BuildReportBundle(*in, BuildOptions(), *schema_);
  ASSERT_TRUE(bundle.ok()) << bundle.error().message();
  const IssueList errors =
      genogate::testing::ErrorsOf(validator_->Validate(*bundle));
  EXPECT_TRUE(errors.empty()) << errors.ToText();
}

}  // namespace
}  // namespace genogate::mappers::labjson

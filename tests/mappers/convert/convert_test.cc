// mappers::Convert*: the one conversion path of convert, the HTTP API and
// the MLLP listener, over the test inputs of every format.
#include "mappers/convert.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/test_env.h"

namespace genogate::mappers {
namespace {

using genogate::testing::DataDir;
using genogate::testing::ReadTestFile;
using genogate::testing::SourceDir;

class ConvertTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto set = fhir::PackageSet::Open(genogate::testing::DefaultPackageDirs());
    ASSERT_TRUE(set.ok()) << set.error().message();
    packages_ = std::move(set).value().release();
    schema_ = new fhir::Schema(packages_);
  }
  static void TearDownTestSuite() {
    delete schema_;
    delete packages_;
  }

  // Converts and collects each entry's request URL (resource type).
  Result<ConvertReport> Run(const std::string& data,
                            const ConvertOptions& options) {
    urls_.clear();
    return ConvertBytes(data, options, *schema_, [this](fhir::Node entry) {
      const fhir::Node* request = entry.Child("request");
      urls_.push_back(request ? std::string(request->ChildValue("url")) : "");
      return Status::Ok();
    });
  }

  static ConvertOptions VcfOptions() {
    ConvertOptions o;
    o.format = InputFormat::kVcf;
    o.patient = ParseIdentifierText("urn:oid:1.2.3|P-1");
    o.accession = ParseIdentifierText("urn:oid:1.2.4|ACC-1");
    o.lab = "Example Lab";
    return o;
  }

  size_t Count(std::string_view type) const {
    size_t n = 0;
    for (const std::string& u : urls_) n += u == type;
    return n;
  }

  std::vector<std::string> urls_;
  static fhir::PackageSet* packages_;
  static fhir::Schema* schema_;
};
fhir::PackageSet* ConvertTest::packages_ = nullptr;
fhir::Schema* ConvertTest::schema_ = nullptr;

TEST(ConvertNames, FormatsRoundTrip) {
  for (InputFormat f :
       {InputFormat::kVcf, InputFormat::kHl7v2, InputFormat::kLabJson}) {
    EXPECT_EQ(ParseInputFormat(InputFormatName(f)), f);
  }
  EXPECT_FALSE(ParseInputFormat("fhir").has_value());
  IdentifierValue id = ParseIdentifierText("urn:oid:1.2|a|b");
  EXPECT_EQ(id.system, "urn:oid:1.2|a");
  EXPECT_EQ(id.value, "b");
  EXPECT_EQ(ParseIdentifierText("X").system, "");
}

TEST_F(ConvertTest, VcfEntriesKeysAndCounts) {
  std::string vcf = ReadTestFile(DataDir() + "/vcf/snv_indel.vcf");
  Result<ConvertReport> r = Run(vcf, VcfOptions());
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->ok()) << r->issues.issues()[0].message;
  EXPECT_GT(r->variants, 0u);
  EXPECT_EQ(r->entries, urls_.size());
  // Variant Observations plus implication/consequence Observations.
  EXPECT_GE(Count("Observation"), r->variants);
  EXPECT_EQ(Count("DiagnosticReport"), 1u);
  ASSERT_EQ(r->report_keys.size(), 1u);
  EXPECT_EQ(r->report_keys[0],
            "urn:genogate:lab:example-lab|urn:oid:1.2.4|ACC-1");
}

TEST_F(ConvertTest, GzipVcfInMemoryGivesTheSameEntries) {
  Result<ConvertReport> plain =
      Run(ReadTestFile(DataDir() + "/vcf/snv_indel.vcf"), VcfOptions());
  ASSERT_TRUE(plain.ok() && plain->ok());
  std::vector<std::string> plain_urls = urls_;
  Result<ConvertReport> gz =
      Run(ReadTestFile(DataDir() + "/vcf/snv_indel.vcf.gz"), VcfOptions());
  ASSERT_TRUE(gz.ok() && gz->ok());
  EXPECT_EQ(urls_, plain_urls);
}

TEST_F(ConvertTest, VcfWithoutPatientIsAnOptionsError) {
  ConvertOptions o = VcfOptions();
  o.patient = {};
  Result<ConvertReport> r =
      Run(ReadTestFile(DataDir() + "/vcf/snv_indel.vcf"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message().find("patient"), std::string::npos);
}

TEST_F(ConvertTest, MalformedVcfNamesLineAndColumn) {
  std::string vcf = ReadTestFile(DataDir() + "/vcf/snv_indel.vcf");
  // Break the POS of the first data line.
  size_t line_start = 0;
  uint32_t line_no = 1;
  while (vcf.compare(line_start, 1, "#") == 0) {
    line_start = vcf.find('\n', line_start) + 1;
    ++line_no;
  }
  size_t tab = vcf.find('\t', line_start);
  vcf.insert(tab + 1, "x");
  Result<ConvertReport> r = Run(vcf, VcfOptions());
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_FALSE(r->ok());
  const Issue& issue = r->issues.issues().front();
  EXPECT_EQ(issue.line, line_no);
  EXPECT_EQ(issue.column, 2u);
  EXPECT_NE(issue.message.find("line " + std::to_string(line_no) +
                               ", column 2 (POS)"),
            std::string::npos)
      << issue.message;
}

TEST_F(ConvertTest, KeepGoingListsSkippedRecordsAsWarnings) {
  std::string vcf = ReadTestFile(DataDir() + "/vcf/snv_indel.vcf");
  size_t line_start = 0;
  while (vcf.compare(line_start, 1, "#") == 0) {
    line_start = vcf.find('\n', line_start) + 1;
  }
  vcf.insert(vcf.find('\t', line_start) + 1, "x");
  ConvertOptions o = VcfOptions();
  o.keep_going = true;
  Result<ConvertReport> r = Run(vcf, o);
  ASSERT_TRUE(r.ok() && r->ok());
  EXPECT_EQ(r->skipped_count, 1u);
  EXPECT_EQ(r->issues.Count(Severity::kWarning), 1u);
  std::string outcome = SkippedRecordsOutcome(*r);
  EXPECT_NE(outcome.find("\"skipped: line"), std::string::npos) << outcome;
}

TEST_F(ConvertTest, Hl7v2ReportsAndProblems) {
  ConvertOptions o;
  o.format = InputFormat::kHl7v2;
  Result<ConvertReport> r = Run(
      ReadTestFile(DataDir() + "/hl7v2/brca1_germline_two_variants.hl7"), o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->ok());
  EXPECT_EQ(r->variants, 2u);
  EXPECT_EQ(r->report_keys.size(), Count("DiagnosticReport"));
  EXPECT_FALSE(r->hl7v2_rejected);

  Result<ConvertReport> bad = Run(
      ReadTestFile(DataDir() + "/hl7v2/malformed/bad_processing_id.hl7"), o);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok());
  EXPECT_TRUE(bad->hl7v2_rejected);
  EXPECT_FALSE(bad->hl7v2_problems.empty());
  EXPECT_TRUE(urls_.empty());
}

TEST_F(ConvertTest, Hl7v2SizeLimit) {
  ConvertOptions o;
  o.format = InputFormat::kHl7v2;
  o.max_message_bytes = 100;
  Result<ConvertReport> r = Run(
      ReadTestFile(DataDir() + "/hl7v2/brca1_germline_two_variants.hl7"), o);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->ok());
  EXPECT_EQ(r->issues.issues()[0].type, "too-long");
}

TEST_F(ConvertTest, LabJsonWithOverridesAndPointerProblems) {
  ConvertOptions o;
  o.format = InputFormat::kLabJson;
  o.accession = ParseIdentifierText("urn:oid:9.9|OVERRIDE-1");
  std::string doc = ReadTestFile(SourceDir() + "/examples/lab-result.json");
  Result<ConvertReport> r = Run(doc, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->ok()) << r->issues.issues()[0].message;
  ASSERT_EQ(r->report_keys.size(), 1u);
  EXPECT_NE(r->report_keys[0].find("|urn:oid:9.9|OVERRIDE-1"),
            std::string::npos);

  Result<ConvertReport> bad = Run("{\"format\": 3}", o);
  ASSERT_TRUE(bad.ok());
  ASSERT_FALSE(bad->ok());
  EXPECT_TRUE(urls_.empty());
  EXPECT_FALSE(bad->issues.issues()[0].message.empty());
}

}  // namespace
}  // namespace genogate::mappers

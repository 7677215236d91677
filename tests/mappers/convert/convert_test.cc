// mappers::Convert*: the one conversion path of convert, the HTTP API and
// the MLLP listener, over the test inputs of every format.
#include "mappers/convert.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/schema_test.h"
#include "testing/test_env.h"

namespace genogate::mappers {
namespace {

using genogate::testing::DataDir;
using genogate::testing::ReadTestFile;
using genogate::testing::SourceDir;

class ConvertTest : public genogate::testing::SchemaTest {
 protected:
  // Converts and collects each entry's resource type (the request URL up to
  // a conditional update's "?").
  Result<ConvertReport> Run(const std::string& data,
                            const ConvertOptions& options) {
    urls_.clear();
    return ConvertBytes(data, options, *schema_, [this](fhir::Node entry) {
      const fhir::Node* request = entry.Child("request");
      std::string url(request ? request->ChildValue("url") : "");
      urls_.push_back(url.substr(0, url.find('?')));
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
};

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

// Collects JSON entries as one text per entry: head and resource.
class TextSink : public JsonEntrySink {
 public:
  Status BeginEntry(const EntryHead& head) override {
    entries.push_back(std::string(head.full_url) + " " +
                      std::string(head.method) + " " + std::string(head.url) +
                      " " + std::string(head.if_none_exist) + "\n");
    return Status::Ok();
  }
  Status ResourceText(std::string_view json) override {
    entries.back() += json;
    return Status::Ok();
  }
  Status EndEntry() override { return Status::Ok(); }
  std::vector<std::string> entries;
};

class ConvertJsonTest : public ConvertTest,
                        public ::testing::WithParamInterface<std::string> {};

// The fast JSON path gives, for every test VCF, the entries the tree path
// gives once written by fhir::WriteJson, and the same report.
TEST_P(ConvertJsonTest, JsonPathMatchesTreePath) {
  ConvertOptions o = VcfOptions();
  o.source_class = "germline";
  o.build_options.issued = "2026-11-29T10:00:00Z";
  const std::string path = DataDir() + "/vcf/" + GetParam();
  std::vector<std::string> from_trees;
  Result<ConvertReport> trees =
      ConvertFile(path, o, *schema_, [&](fhir::Node entry) {
        const fhir::Node* request = entry.Child("request");
        Result<std::string> j = fhir::WriteJson(*entry.Child("resource"));
        if (!j.ok()) return Status(j.error());
        from_trees.push_back(std::string(entry.ChildValue("fullUrl")) + " " +
                             std::string(request->ChildValue("method")) + " " +
                             std::string(request->ChildValue("url")) + " " +
                             std::string(request->ChildValue("ifNoneExist")) +
                             "\n" + *j);
        return Status::Ok();
      });
  ASSERT_TRUE(trees.ok()) << trees.error().message();
  ASSERT_TRUE(trees->ok()) << trees->issues.ToText();
  TextSink sink;
  Result<ConvertReport> json = ConvertFileToJson(path, o, *schema_, &sink);
  ASSERT_TRUE(json.ok()) << json.error().message();
  ASSERT_TRUE(json->ok()) << json->issues.ToText();
  EXPECT_EQ(sink.entries, from_trees);
  EXPECT_EQ(json->entries, trees->entries);
  EXPECT_EQ(json->variants, trees->variants);
  EXPECT_EQ(json->report_keys, trees->report_keys);
  EXPECT_GT(json->variants, 0u);
}

INSTANTIATE_TEST_SUITE_P(TestVcfs, ConvertJsonTest,
                         ::testing::Values("snv_indel.vcf", "snv_indel.vcf.gz",
                                           "snv_indel.vcf.bgz", "clinvar.vcf",
                                           "vep.vcf", "snpeff.vcf", "sv.vcf"));

TEST_F(ConvertTest, ProgressIsReportedWithSourceBytes) {
  ConvertOptions o = VcfOptions();
  std::vector<ConvertProgress> seen;
  o.progress = [&](const ConvertProgress& p) { seen.push_back(p); };
  o.progress_every = 2;
  const std::string data = ReadTestFile(DataDir() + "/vcf/snv_indel.vcf");
  TextSink sink;
  Result<ConvertReport> r = ConvertBytesToJson(data, o, *schema_, &sink);
  ASSERT_TRUE(r.ok() && r->ok());
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.back().source_bytes, data.size());
  EXPECT_EQ(seen.back().variants, r->variants);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].records, seen[i - 1].records);
  }
}

TEST_F(ConvertTest, LabJsonThroughTheJsonPath) {
  ConvertOptions o;
  o.format = InputFormat::kLabJson;
  const std::string doc =
      ReadTestFile(SourceDir() + "/examples/lab-result.json");
  std::vector<std::string> from_trees;
  Result<ConvertReport> trees =
      ConvertBytes(doc, o, *schema_, [&](fhir::Node e) {
        Result<std::string> j = fhir::WriteJson(*e.Child("resource"));
        from_trees.push_back(j.ok() ? *j : "");
        return Status::Ok();
      });
  TextSink sink;
  Result<ConvertReport> json = ConvertBytesToJson(doc, o, *schema_, &sink);
  ASSERT_TRUE(trees.ok() && json.ok());
  ASSERT_EQ(sink.entries.size(), from_trees.size());
  ASSERT_FALSE(from_trees.empty());
  for (size_t i = 0; i < from_trees.size(); ++i) {
    const std::string& text = sink.entries[i];
    EXPECT_EQ(text.substr(text.find('\n') + 1), from_trees[i]);
  }
}

}  // namespace
}  // namespace genogate::mappers

// Every malformed input in tests/data/vcf/malformed/ must fail with the
// expected error code, line, column (and its name) and reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "mappers/vcf/bed.h"
#include "mappers/vcf/vcf_reader.h"
#include "testing/test_env.h"

namespace genogate::mappers::vcf {
namespace {

using ::testing::HasSubstr;

struct Case {
  const char* file;
  ErrorCode code;
  uint64_t line;  // 0: not checked (see `min_line`)
  uint32_t column;
  const char* column_name;
  const char* reason;  // substring of VcfError::reason
  const char* rule;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.file; }

constexpr ErrorCode kBad = ErrorCode::kInvalidInput;

const Case kCases[] = {
    // --- Header.
    {"missing_fileformat.vcf", kBad, 1, 0, "",
     "the first line must be ##fileformat=VCFv4.x", "vcf-fileformat"},
    {"bad_fileformat_version.vcf", kBad, 1, 0, "",
     "unsupported VCF version \"VCFv4.0\"", "vcf-fileformat-version"},
    {"fileformat_twice.vcf", kBad, 2, 0, "",
     "##fileformat may appear only on the first line", "vcf-fileformat"},
    {"no_chrom_line.vcf", kBad, 11, 0, "",
     "missing #CHROM header line before the first record",
     "vcf-header-missing-columns"},
    {"header_only.vcf", kBad, 11, 0, "",
     "the input ends before the #CHROM header line",
     "vcf-header-missing-columns"},
    {"chrom_line_spaces.vcf", kBad, 11, 1, "CHROM",
     "header columns must be separated by tabs", "vcf-header-columns"},
    {"chrom_line_wrong_name.vcf", kBad, 11, 7, "FILTER",
     "expected \"FILTER\", found \"FILTERS\"", "vcf-header-columns"},
    {"duplicate_sample.vcf", kBad, 11, 12, "NA12878",
     "duplicate sample name \"NA12878\" (also column 10)",
     "vcf-sample-duplicate"},
    {"meta_no_equals.vcf", kBad, 3, 0, "",
     "meta-information line must be ##key=value", "vcf-header-meta"},
    {"info_header_not_bracketed.vcf", kBad, 3, 0, "",
     "malformed ##INFO line: the value must be enclosed in <...>",
     "vcf-header-info"},
    {"info_header_bad_number.vcf", kBad, 3, 0, "",
     "Number \"Z\" of DP is not an integer, A, R, G or .", "vcf-header-info"},
    {"info_header_bad_type.vcf", kBad, 3, 0, "",
     "Type \"Int\" of DP is not Integer, Float, Flag, Character or String",
     "vcf-header-info"},
    {"info_header_missing_id.vcf", kBad, 3, 0, "",
     "malformed ##INFO line: missing ID", "vcf-header-info"},
    {"info_header_unterminated_quote.vcf", kBad, 3, 0, "",
     "the quoted value of Description is not terminated", "vcf-header-info"},
    {"info_header_flag_number.vcf", kBad, 6, 0, "",
     "Flag DB must have Number=0", "vcf-header-info"},
    {"format_header_flag.vcf", kBad, 10, 0, "", "FORMAT DP cannot be a Flag",
     "vcf-header-format"},
    {"contig_bad_length.vcf", kBad, 2, 0, "",
     "length \"big\" of contig 1 is not a non-negative integer",
     "vcf-header-contig"},
    {"header_after_records.vcf", kBad, 13, 0, "", "after the #CHROM line",
     "vcf-header-order"},
    // --- Columns.
    {"columns_too_few.vcf", kBad, 13, 10, "NA12878",
     "missing column: expected 10 tab-separated columns, found 9",
     "vcf-columns"},
    {"columns_too_many.vcf", kBad, 13, 11, "",
     "unexpected extra column: expected 10 tab-separated columns, found 11",
     "vcf-columns"},
    {"columns_spaces.vcf", kBad, 13, 2, "POS",
     "columns must be separated by tabs, not spaces", "vcf-columns"},
    {"chrom_empty.vcf", kBad, 13, 1, "CHROM", "CHROM is empty", "vcf-chrom"},
    {"pos_not_integer.vcf", kBad, 13, 2, "POS",
     "\"12a\" is not a positive integer", "vcf-pos"},
    {"pos_negative.vcf", kBad, 13, 2, "POS", "\"-5\" is negative", "vcf-pos"},
    {"id_empty.vcf", kBad, 13, 3, "ID", "ID is empty", "vcf-id"},
    {"ref_bad_chars.vcf", kBad, 13, 4, "REF",
     "REF \"AXG\" contains \"X\"; only A, C, G, T and N are allowed",
     "vcf-ref"},
    {"ref_missing.vcf", kBad, 13, 4, "REF", "REF \".\" contains \".\"",
     "vcf-ref"},
    {"alt_bad.vcf", kBad, 13, 5, "ALT", "\"AZ\" is not a valid ALT allele",
     "vcf-alt"},
    {"alt_empty_allele.vcf", kBad, 13, 5, "ALT", "empty allele in ALT \"A,,G\"",
     "vcf-alt"},
    {"alt_bad_breakend.vcf", kBad, 13, 5, "ALT",
     "\"G]17:198982[\" is not a valid ALT allele", "vcf-alt"},
    {"alt_bad_symbolic.vcf", kBad, 13, 5, "ALT",
     "\"<DEL\" is not a valid ALT allele", "vcf-alt"},
    {"qual_bad.vcf", kBad, 13, 6, "QUAL", "QUAL \"high\" is not a number",
     "vcf-qual"},
    {"filter_empty_name.vcf", kBad, 13, 7, "FILTER",
     "empty or space-containing filter name", "vcf-filter"},
    // --- INFO.
    {"info_wrong_type_integer.vcf", kBad, 13, 8, "INFO",
     "INFO field DP value \"abc\" is not an Integer", "vcf-info-type"},
    {"info_wrong_type_float.vcf", kBad, 13, 8, "INFO",
     "INFO field AF value \"0.5x\" is not a Float", "vcf-info-type"},
    {"info_number_a_mismatch.vcf", kBad, 13, 8, "INFO",
     "INFO field AC has 1 value, but Number=A requires 2 (one per ALT "
     "allele)",
     "vcf-info-number"},
    {"info_number_fixed_mismatch.vcf", kBad, 13, 8, "INFO",
     "INFO field CIPOS has 1 value, but Number=2 requires 2",
     "vcf-info-number"},
    {"info_flag_with_value.vcf", kBad, 13, 8, "INFO",
     "INFO field DB is a Flag and must not have a value", "vcf-info-flag"},
    {"info_missing_value.vcf", kBad, 13, 8, "INFO",
     "INFO field DP has no value (Number=1, Type=Integer)", "vcf-info-value"},
    {"info_duplicate_key.vcf", kBad, 13, 8, "INFO", "duplicate INFO key DP",
     "vcf-info-duplicate"},
    {"info_no_key.vcf", kBad, 13, 8, "INFO", "INFO entry \"=5\" has no key",
     "vcf-info"},
    // --- FORMAT and samples.
    {"format_sample_field_count.vcf", kBad, 13, 10, "NA12878",
     "sample has 4 ':'-separated fields, but FORMAT \"GT:AD:DP\" has 3",
     "vcf-sample-fields"},
    {"format_ad_number.vcf", kBad, 13, 10, "NA12878",
     "FORMAT field AD has 1 value, but Number=R requires 2 (one per allele, "
     "REF first)",
     "vcf-format-number"},
    {"format_dp_type.vcf", kBad, 13, 10, "NA12878",
     "FORMAT field DP value \"ten\" is not an Integer", "vcf-format-type"},
    {"format_gt_not_first.vcf", kBad, 13, 9, "FORMAT",
     "GT must be the first FORMAT key", "vcf-format-gt-first"},
    {"format_duplicate_key.vcf", kBad, 13, 9, "FORMAT",
     "duplicate FORMAT key DP", "vcf-format-duplicate"},
    {"gt_bad.vcf", kBad, 13, 10, "NA12878",
     "GT \"0/x\" is not a valid genotype", "vcf-gt"},
    {"gt_allele_out_of_range.vcf", kBad, 13, 10, "NA12878",
     "GT \"0/2\" refers to allele 2, but the record has 1 ALT allele",
     "vcf-gt"},
    {"sample_empty.vcf", kBad, 13, 10, "NA12878", "sample is empty",
     "vcf-sample-fields"},
    // --- Compression.
    {"trailing_garbage.vcf.gz", kBad, 33, 0, "", "gzip data is corrupt",
     "vcf-compression"},
};

// Reads the whole file; returns the first error.
VcfError ReadUntilError(const std::string& path, VcfReaderOptions options,
                        bool* failed) {
  VcfReader reader(std::move(options));
  *failed = true;
  Status st = reader.OpenFile(path);
  if (!st.ok()) {
    EXPECT_EQ(st.error().message(), reader.error().Message());
    return reader.error();
  }
  VcfRecord rec;
  while (true) {
    Result<bool> more = reader.Next(&rec);
    if (!more.ok()) {
      EXPECT_EQ(more.error().code(), reader.error().code);
      EXPECT_EQ(more.error().message(), reader.error().Message());
      return reader.error();
    }
    if (!*more) break;
  }
  *failed = false;
  return {};
}

class MalformedVcfTest : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedVcfTest, FailsWithLineColumnAndReason) {
  const Case& c = GetParam();
  bool failed = false;
  VcfError e = ReadUntilError(testing::DataDir() + "/vcf/malformed/" + c.file,
                              {}, &failed);
  ASSERT_TRUE(failed) << c.file << " was read without error";
  EXPECT_EQ(e.code, c.code) << e.Message();
  EXPECT_EQ(e.line, c.line) << e.Message();
  EXPECT_EQ(e.column, c.column) << e.Message();
  EXPECT_EQ(e.column_name, c.column_name) << e.Message();
  EXPECT_THAT(e.reason, HasSubstr(c.reason));
  EXPECT_EQ(e.rule, c.rule) << e.Message();
  // The message names the line (and column) too.
  EXPECT_THAT(e.Message(), HasSubstr("line " + std::to_string(c.line)));
  if (c.column > 0) {
    EXPECT_THAT(e.Message(), HasSubstr("column " + std::to_string(c.column)));
  }
}

INSTANTIATE_TEST_SUITE_P(All, MalformedVcfTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           std::string name = param.param.file;
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           }
                           return name;
                         });

TEST(MalformedVcfTest, MessageFormatIsLineColumnNameReason) {
  bool failed = false;
  VcfError e = ReadUntilError(
      testing::DataDir() + "/vcf/malformed/pos_not_integer.vcf", {}, &failed);
  ASSERT_TRUE(failed);
  EXPECT_EQ(e.Message(),
            "line 13, column 2 (POS): \"12a\" is not a positive integer");
  Error err = e.ToError();
  EXPECT_EQ(err.code(), ErrorCode::kInvalidInput);
  Issue issue = e.ToIssue();
  EXPECT_EQ(issue.line, 13u);
  EXPECT_EQ(issue.column, 2u);
  EXPECT_EQ(issue.code, "vcf-pos");
  EXPECT_EQ(issue.severity, Severity::kError);
}

TEST(MalformedVcfTest, LineTooLongIsLimitExceeded) {
  VcfReaderOptions options;
  options.max_line_length = 200;
  bool failed = false;
  VcfError e = ReadUntilError(
      testing::DataDir() + "/vcf/malformed/long_line.vcf", options, &failed);
  ASSERT_TRUE(failed);
  EXPECT_EQ(e.code, ErrorCode::kLimitExceeded);
  EXPECT_EQ(e.line, 13u);
  EXPECT_EQ(e.rule, "vcf-limit");
  EXPECT_THAT(e.reason, HasSubstr("longer than the limit of 200 bytes"));
  // With the default limit the same file is fine.
  ReadUntilError(testing::DataDir() + "/vcf/malformed/long_line.vcf", {},
                 &failed);
  EXPECT_FALSE(failed);
}

TEST(MalformedVcfTest, TruncatedGzip) {
  bool failed = false;
  VcfError e = ReadUntilError(
      testing::DataDir() + "/vcf/malformed/truncated.vcf.gz", {}, &failed);
  ASSERT_TRUE(failed);
  EXPECT_EQ(e.code, ErrorCode::kInvalidInput);
  EXPECT_THAT(e.reason, HasSubstr("truncated"));
  EXPECT_GT(e.line, 11u);  // the header decoded before the data ran out
  EXPECT_EQ(e.column, 0u);
}

TEST(MalformedVcfTest, MissingFileIsNotFound) {
  bool failed = false;
  VcfError e = ReadUntilError(
      testing::DataDir() + "/vcf/malformed/no_such_file.vcf", {}, &failed);
  ASSERT_TRUE(failed);
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(e.line, 0u);
}

TEST(MalformedVcfTest, EveryFileInTheDirectoryIsCovered) {
  std::set<std::string> covered = {"long_line.vcf", "truncated.vcf.gz"};
  for (const Case& c : kCases) covered.insert(c.file);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           testing::DataDir() + "/vcf/malformed")) {
    ++files;
    EXPECT_TRUE(covered.count(entry.path().filename().string()))
        << entry.path().filename() << " has no expectation";
  }
  EXPECT_EQ(files, covered.size());
  EXPECT_GE(files, 30u);
}

// --- BED.

struct BedCase {
  const char* file;
  uint64_t line;
  uint32_t column;
  const char* column_name;
  const char* reason;
};

class MalformedBedTest : public ::testing::TestWithParam<BedCase> {};

TEST_P(MalformedBedTest, FailsWithLineColumnAndReason) {
  const BedCase& c = GetParam();
  VcfError e;
  Result<RegionSet> r =
      RegionSet::ReadFile(testing::DataDir() + "/vcf/bed/" + c.file, &e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(e.line, c.line);
  EXPECT_EQ(e.column, c.column);
  EXPECT_EQ(e.column_name, c.column_name);
  EXPECT_THAT(e.reason, HasSubstr(c.reason));
  EXPECT_EQ(r.error().message(), e.Message());
}

INSTANTIATE_TEST_SUITE_P(
    All, MalformedBedTest,
    ::testing::Values(
        BedCase{"too_few_columns.bed", 3, 3, "chromEnd",
                "needs at least 3 columns (chrom, chromStart, chromEnd), "
                "found 2"},
        BedCase{"start_not_integer.bed", 2, 2, "chromStart",
                "\"1e3\" is not an integer"},
        BedCase{"end_not_integer.bed", 1, 3, "chromEnd",
                "\"2x0\" is not an integer"},
        BedCase{"end_before_start.bed", 3, 3, "chromEnd",
                "chromEnd 400 is before chromStart 500"},
        BedCase{"negative_start.bed", 1, 2, "chromStart",
                "\"-1\" is negative"}),
    [](const ::testing::TestParamInfo<BedCase>& param) {
      std::string name = param.param.file;
      for (char& ch : name) {
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace genogate::mappers::vcf

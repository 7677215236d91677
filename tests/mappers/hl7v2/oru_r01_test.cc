#include "mappers/hl7v2/oru_r01.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testing/test_env.h"

namespace genogate::mappers::hl7v2 {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Data(const std::string& name) {
  return genogate::testing::ReadTestFile(genogate::testing::DataDir() +
                                         "/hl7v2/" + name);
}

std::string AllProblems(const OruReadResult& r) {
  std::string s;
  for (const Problem& p : r.problems) s += p.ToString() + "\n";
  return s;
}

MATCHER_P3(IsCoding, system, code, display, "") {
  return arg.system == system && arg.code == code && arg.display == display;
}

constexpr char kLoinc[] = "http://loinc.org";

TEST(OruR01V2Test, BrcaGermlinePanelReport) {
  OruReadResult r = ReadOruR01(Data("brca1_germline_two_variants.hl7"));
  EXPECT_THAT(r.problems, IsEmpty()) << AllProblems(r);
  ASSERT_EQ(r.reports.size(), 1u);
  const OruReport& rep = r.reports[0];
  const GenomicReportInput& in = rep.input;
  EXPECT_EQ(rep.source_location, "OBR #1 (line 6)");
  EXPECT_EQ(in.patient.value, "MRN12345");
  EXPECT_EQ(in.patient.system, "urn:oid:2.16.840.1.113883.3.999.2");
  EXPECT_EQ(in.patient_name, "Jane Q Doe");
  EXPECT_EQ(in.patient_birth_date, "1980-02-15");
  EXPECT_EQ(in.patient_gender, "female");
  EXPECT_EQ(in.order.value, "ORD-778");
  EXPECT_EQ(in.order.system, "HOSP");
  EXPECT_EQ(in.accession.value, "ACC-2024-0001");
  EXPECT_EQ(in.accession.system, "urn:oid:2.16.840.1.113883.3.999.1");
  EXPECT_EQ(in.lab_name, "GENELAB");
  EXPECT_EQ(in.lab_identifier.system, "urn:ietf:rfc:3986");
  EXPECT_EQ(in.lab_identifier.value, "urn:oid:2.16.840.1.113883.3.999.1");
  EXPECT_THAT(in.report_code,
              IsCoding(kLoinc, "51969-4", "Genetic analysis report"));
  EXPECT_EQ(in.effective, "2024-03-10T08:00:00+01:00");
  EXPECT_EQ(in.issued, "2024-03-15T10:00:00+01:00");
  EXPECT_EQ(in.report_status, "final");
  EXPECT_EQ(in.specimen.value, "SPEC-555");
  EXPECT_EQ(in.specimen.system, "GENELAB");
  EXPECT_THAT(in.specimen_type,
              IsCoding("http://terminology.hl7.org/CodeSystem/v2-0487", "BLD",
                       "Whole blood"));
  EXPECT_EQ(in.specimen_collected, "2024-03-08T09:15:00+01:00");
  EXPECT_EQ(in.build, "GRCh38");
  EXPECT_EQ(in.source_class, "germline");
  EXPECT_THAT(in.overall_interpretation,
              IsCoding(kLoinc, "LA6576-8", "Positive"));
  EXPECT_EQ(in.conclusion,
            "One pathogenic BRCA1 variant detected\nSee variant details.");
  ASSERT_EQ(rep.other_observations.size(), 1u);
  EXPECT_EQ(rep.other_observations[0].code.code, "99999-9");
  EXPECT_EQ(rep.other_observations[0].value_coding.code, "v4");

  ASSERT_EQ(in.variants.size(), 2u);
  const VariantCall& v1 = in.variants[0];
  EXPECT_EQ(v1.source_location, "OBX-4 sub-ID 1");
  EXPECT_EQ(v1.gene_symbol, "BRCA1");
  EXPECT_EQ(v1.hgnc_id, "HGNC:1100");
  EXPECT_EQ(v1.transcript_ref_seq, "NM_007294.4");
  EXPECT_EQ(v1.hgvs_c, "NM_007294.4:c.5266dup");  // transcript prefixed
  EXPECT_EQ(v1.hgvs_p, "NP_009225.1:p.Gln1756ProfsTer74");
  EXPECT_EQ(v1.genomic_ref_seq, "NC_000017.11");
  EXPECT_EQ(v1.chromosome, "17");  // from the NC_ accession
  EXPECT_EQ(v1.build, "GRCh38");   // from the report level
  EXPECT_EQ(v1.coordinate_system, "0-based interval counting");
  // 1-based 43057062..43057062 -> 0-based interval 43057061..43057062,
  // as VCF POS 43057062 REF T gives.
  EXPECT_EQ(v1.start, 43057061);
  EXPECT_EQ(v1.end, 43057062);
  EXPECT_EQ(v1.ref_allele, "T");
  EXPECT_EQ(v1.alt_allele, "TG");
  EXPECT_EQ(v1.symbolic_alt, "");
  EXPECT_THAT(v1.allelic_state, IsCoding(kLoinc, "LA6706-1", "Heterozygous"));
  EXPECT_THAT(v1.genomic_source_class,
              IsCoding(kLoinc, "LA6683-2", "Germline"));
  ASSERT_EQ(v1.classifications.size(), 1u);
  EXPECT_THAT(v1.classifications[0].clinical_significance,
              IsCoding(kLoinc, "LA6668-3", "Pathogenic"));
  EXPECT_EQ(v1.classifications[0].source, "GENELAB");
  EXPECT_THAT(v1.variation_codes,
              ElementsAre(IsCoding("http://www.ncbi.nlm.nih.gov/projects/SNP",
                                   "rs80357906", ""),
                          IsCoding("http://www.ncbi.nlm.nih.gov/clinvar",
                                   "17662", "")));
  EXPECT_THAT(v1.variant_type, IsCoding("http://www.sequenceontology.org",
                                        "SO:1000035", "duplication"));
  EXPECT_EQ(v1.allele_frequency, "0.48");
  EXPECT_EQ(v1.allele_read_depth, 57);
  EXPECT_FALSE(v1.read_depth.has_value());
  ASSERT_EQ(v1.extra_components.size(), 1u);  // 48001-2 cytogenetic location
  EXPECT_EQ(v1.extra_components[0].code.code, "48001-2");
  EXPECT_EQ(v1.extra_components[0].value_coding.code, "17q21.31");

  const VariantCall& v2 = in.variants[1];
  EXPECT_EQ(v2.source_location, "OBX-4 sub-ID 2");
  EXPECT_EQ(v2.hgvs_c, "NM_007294.4:c.4837A>G");
  EXPECT_EQ(v2.hgvs_p, "NP_009225.1:p.Ser1613Gly");
  EXPECT_EQ(v2.start, 43071076);
  EXPECT_EQ(v2.end, 43071077);
  EXPECT_EQ(v2.ref_allele, "T");
  EXPECT_EQ(v2.alt_allele, "C");
  EXPECT_THAT(v2.allelic_state, IsCoding(kLoinc, "LA6705-3", "Homozygous"));
  ASSERT_EQ(v2.classifications.size(), 1u);
  EXPECT_EQ(v2.classifications[0].clinical_significance.code, "LA6675-8");
  EXPECT_EQ(v2.allele_frequency, "1");
  EXPECT_EQ(v2.allele_read_depth, 88);
  EXPECT_THAT(v2.extra_components, IsEmpty());
}

TEST(OruR01V2Test, CrSeparatedCopyGivesTheSameResult) {
  std::string text = Data("brca1_germline_two_variants.hl7");
  for (char& c : text) {
    if (c == '\n') c = '\r';
  }
  OruReadResult r = ReadOruR01(text);
  EXPECT_THAT(r.problems, IsEmpty()) << AllProblems(r);
  ASSERT_EQ(r.reports.size(), 1u);
  ASSERT_EQ(r.reports[0].input.variants.size(), 2u);
  EXPECT_EQ(r.reports[0].input.variants[1].start, 43071076);
}

TEST(OruR01V2Test, SomaticTumourVariantWithSubSubIdsAndRegion) {
  OruReadResult r = ReadOruR01(Data("somatic_braf_v271.hl7"));
  EXPECT_THAT(r.problems, IsEmpty()) << AllProblems(r);
  ASSERT_EQ(r.reports.size(), 1u);
  const GenomicReportInput& in = r.reports[0].input;
  EXPECT_EQ(r.message->delimiters().truncation, '#');
  EXPECT_EQ(in.patient.value, "T-000987");
  EXPECT_EQ(in.patient.system, "urn:oid:1.2.3.4.5.6");
  EXPECT_EQ(in.patient_gender, "male");
  EXPECT_EQ(in.lab_name, "ONCOLAB");
  EXPECT_EQ(in.lab_identifier.value, "urn:oid:1.2.3.4.5");
  EXPECT_EQ(in.accession.value, "TUM-2024-17");
  EXPECT_EQ(in.accession.system, "ONCOLAB");
  EXPECT_EQ(in.order.value, "PL-9");
  EXPECT_EQ(in.order.system, "");
  EXPECT_EQ(in.report_status, "preliminary");
  EXPECT_EQ(in.effective, "2024-03-29");
  EXPECT_EQ(in.issued, "2024-04-02T15:00:00-05:00");
  EXPECT_EQ(in.report_code.code, "81247-9");
  EXPECT_THAT(in.specimen_type,
              IsCoding("http://terminology.hl7.org/CodeSystem/v2-0487", "TUMOR",
                       "Tumor tissue"));
  EXPECT_EQ(in.source_class, "somatic");
  EXPECT_EQ(in.build, "GRCh37");  // all variants agree

  ASSERT_EQ(in.variants.size(), 1u);
  const VariantCall& v = in.variants[0];
  EXPECT_EQ(v.gene_symbol, "BRAF");
  EXPECT_EQ(v.hgnc_id, "HGNC:1097");  // numeric HGNC code normalised
  EXPECT_EQ(v.hgvs_c, "NM_004333.6:c.1799T>A");
  EXPECT_EQ(v.hgvs_p, "p.Val600Glu");
  EXPECT_EQ(v.chromosome, "7");
  EXPECT_EQ(v.build, "GRCh37");
  EXPECT_EQ(v.start, 140453135);  // already 0-based interval counting
  EXPECT_EQ(v.end, 140453136);
  EXPECT_EQ(v.ref_allele, "A");
  EXPECT_EQ(v.alt_allele, "T");
  EXPECT_THAT(v.genomic_source_class, IsCoding(kLoinc, "LA6684-0", "Somatic"));
  EXPECT_EQ(v.allele_frequency, "0.23");
  EXPECT_EQ(v.allele_read_depth, 312);
  EXPECT_TRUE(v.allelic_state.empty());
  // Sub-ID 1.1 belongs to variant 1.
  ASSERT_EQ(v.classifications.size(), 1u);
  EXPECT_EQ(v.classifications[0].clinical_significance.code, "LA6668-3");
  EXPECT_EQ(v.classifications[0].source, "ONCOLAB");
  ASSERT_EQ(v.variation_codes.size(), 1u);
  EXPECT_EQ(v.variation_codes[0].code, "rs113488022");
  ASSERT_EQ(v.extra_components.size(), 1u);  // unknown LOINC 93044-6
  EXPECT_EQ(v.extra_components[0].code.code, "93044-6");
  EXPECT_EQ(v.extra_components[0].value_string, "Tier I, level A");

  // Sub-ID 2 is a region studied: 1-based ranges -> 0-based half-open.
  ASSERT_EQ(in.regions_studied.size(), 2u);
  EXPECT_EQ(in.regions_studied[0].chromosome, "7");
  EXPECT_EQ(in.regions_studied[0].start, 140453086);
  EXPECT_EQ(in.regions_studied[0].end, 140453193);
  EXPECT_EQ(in.regions_studied[0].name, "BRAF");
  EXPECT_EQ(in.regions_studied[1].start, 140481375);
  EXPECT_EQ(in.regions_studied[1].end, 140481493);
  EXPECT_EQ(in.regions_description, "BRAF exons 15 and 11");
  // The region's gene studied is carried along, not dropped.
  ASSERT_EQ(r.reports[0].other_observations.size(), 1u);
  EXPECT_EQ(r.reports[0].other_observations[0].code.code, "48018-6");
}

TEST(OruR01V2Test, CopyNumberVariantWithoutSubIds) {
  OruReadResult r = ReadOruR01(Data("cnv_pmp22_v231.hl7"));
  EXPECT_THAT(r.problems, IsEmpty()) << AllProblems(r);
  ASSERT_EQ(r.reports.size(), 1u);
  const GenomicReportInput& in = r.reports[0].input;
  EXPECT_EQ(in.report_status, "corrected");
  EXPECT_EQ(in.patient_gender, "unknown");
  EXPECT_EQ(in.patient.system, "CYTO");
  EXPECT_EQ(in.accession.value, "CNV-ACC-3");
  EXPECT_EQ(in.order.value, "");
  EXPECT_EQ(in.build, "GRCh37");
  EXPECT_EQ(in.overall_interpretation.code, "LA6576-8");
  ASSERT_EQ(in.variants.size(), 1u);
  const VariantCall& v = in.variants[0];
  EXPECT_EQ(v.source_location, "OBX-4 sub-ID (none), OBX #1 (line 4)");
  EXPECT_EQ(v.gene_symbol, "PMP22");
  EXPECT_EQ(v.hgnc_id, "HGNC:9118");
  EXPECT_EQ(v.chromosome, "17");
  EXPECT_EQ(v.build, "GRCh37");
  EXPECT_EQ(v.start, 14096999);
  EXPECT_EQ(v.end, 15567000);
  EXPECT_EQ(v.ref_allele, "N");
  EXPECT_EQ(v.alt_allele, "");
  EXPECT_EQ(v.symbolic_alt, "<DUP>");
  EXPECT_EQ(v.structural_type, "DUP");
  EXPECT_EQ(v.copy_number, 3);
  EXPECT_EQ(v.variant_type.code, "SO:1000035");
  EXPECT_EQ(v.classifications.size(), 1u);
}

TEST(OruR01V2Test, MissingCoordinateSystemAssumesOneBasedWithWarning) {
  std::string text =
      "MSH|^~\\&|L|L|G|G|20240101||ORU^R01|X1|P|2.5.1\r"
      "PID|1||P1^^^H^MR\r"
      "OBR|1||A1|51969-4^Genetic analysis report^LN|||||||||||||||||||||F\r"
      "OBX|1|CWE|48004-6^DNA change^LN|1|c.1A>G^^HGVS||||||F\r"
      "OBX|2|NR|81254-5^Start-end^LN|1|100^100||||||F\r";
  OruReadResult r = ReadOruR01(text);
  ASSERT_EQ(r.problems.size(), 1u) << AllProblems(r);
  EXPECT_EQ(r.problems[0].severity, ProblemSeverity::kWarning);
  EXPECT_EQ(r.problems[0].where.segment, "OBX");
  EXPECT_EQ(r.problems[0].where.sequence, 2u);
  EXPECT_EQ(r.problems[0].where.field, 5u);
  ASSERT_EQ(r.reports.size(), 1u);
  ASSERT_EQ(r.reports[0].input.variants.size(), 1u);
  EXPECT_EQ(r.reports[0].input.variants[0].start, 99);
  EXPECT_EQ(r.reports[0].input.variants[0].end, 100);
  EXPECT_FALSE(r.has_errors());
}

TEST(OruR01V2Test, ZeroBasedCharacterCountingEndIsInclusive) {
  std::string text =
      "MSH|^~\\&|L|L|G|G|20240101||ORU^R01|X1|P|2.5.1\r"
      "PID|1||P1^^^H^MR\r"
      "OBR|1||A1|51969-4^^LN|||||||||||||||||||||F\r"
      "OBX|1|CWE|92822-6^^LN|1|LA30101-2^0-based character counting^LN\r"
      "OBX|2|NR|81254-5^^LN|1|99^100\r"
      "OBX|3|ST|69547-8^^LN|1|AT\r";
  OruReadResult r = ReadOruR01(text);
  EXPECT_FALSE(r.has_errors()) << AllProblems(r);
  ASSERT_EQ(r.reports.at(0).input.variants.size(), 1u);
  EXPECT_EQ(r.reports[0].input.variants[0].start, 99);
  EXPECT_EQ(r.reports[0].input.variants[0].end, 101);
}

TEST(OruR01V2Test, SeveralContentProblemsAreCollected) {
  std::string text =
      "MSH|^~\\&|L|L|G|G|20240101||ORU^R01|X1|P|2.5.1\r"
      "PID|1||P1^^^H^MR\r"
      "OBR|1||A1|51969-4^^LN|||||||||||||||||||||F\r"
      "OBX|1|NM|81258-6^VAF^LN|1|abc\r"
      "OBX|2|NM|82121-5^Depth^LN|1|12.5\r"
      "OBX|3|ZZ|48004-6^^LN|1|c.1A>G\r"
      "OBX|4|ST||1|x\r"
      "OBX|5|CWE|48004-6^^LN|1|c.2A>G^^HGVS\r";
  OruReadResult r = ReadOruR01(text);
  ASSERT_EQ(r.problems.size(), 4u) << AllProblems(r);
  EXPECT_EQ(r.problems[0].ToString(),
            "OBX #1 (line 4), field 5: \"abc\" is not a number (OBX-2 is NM)");
  EXPECT_EQ(r.problems[0].code, Hl7Error::kDataType);
  EXPECT_EQ(r.problems[1].code, Hl7Error::kTableValueNotFound);
  EXPECT_EQ(r.problems[1].where.sequence, 3u);
  EXPECT_EQ(r.problems[1].where.field, 2u);
  EXPECT_EQ(r.problems[2].code, Hl7Error::kRequiredFieldMissing);
  EXPECT_EQ(r.problems[2].where.sequence, 4u);
  EXPECT_EQ(r.problems[2].where.field, 3u);
  EXPECT_EQ(r.problems[3].ToString(),
            "OBX #2 (line 5), field 5: \"12.5\" is not a whole number "
            "(82121-5 allelic read depth)");
  EXPECT_TRUE(r.has_errors());
  EXPECT_FALSE(r.rejected());
  // What was readable is still there.
  ASSERT_EQ(r.reports.at(0).input.variants.size(), 1u);
  EXPECT_EQ(r.reports[0].input.variants[0].hgvs_c, "c.2A>G");
}

TEST(OruR01V2Test, ProblemsNeverQuotePatientData) {
  std::string text =
      "MSH|^~\\&|L|L|G|G|20240101||ORU^R01|X1|P|2.5.1\r"
      "PID|1||SECRETID\\Q\\^^^H^MR||Secretname^Given\\X4\\||NOTADATE|Q\r"
      "OBR|1||A1|51969-4^^LN|||||||||||||||||||||F\r"
      "OBX|1|CWE|48004-6^^LN|1|c.2A>G^^HGVS\r";
  OruReadResult r = ReadOruR01(text);
  ASSERT_GE(r.problems.size(), 3u) << AllProblems(r);
  for (const Problem& p : r.problems) {
    std::string s = p.ToString();
    EXPECT_EQ(s.find("SECRET"), std::string::npos) << s;
    EXPECT_EQ(s.find("Secretname"), std::string::npos) << s;
    EXPECT_EQ(s.find("NOTADATE"), std::string::npos) << s;
    EXPECT_EQ(p.where.segment, "PID") << s;
  }
}

TEST(OruR01V2Test, TimesWithoutOffsetUseTheDefaultOrKeepTheDate) {
  std::string text =
      "MSH|^~\\&|L|L|G|G|20240101||ORU^R01|X1|P|2.5.1\r"
      "PID|1||P1^^^H^MR\r"
      "OBR|1||A1|51969-4^^LN|||202403101230||||||||||||||||||F\r"
      "OBX|1|CWE|48004-6^^LN|1|c.2A>G^^HGVS\r";
  OruReadResult r = ReadOruR01(text);
  EXPECT_EQ(r.reports.at(0).input.effective, "2024-03-10");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].severity, ProblemSeverity::kWarning);
  OruReadOptions o;
  o.default_utc_offset = "+00:00";
  r = ReadOruR01(text, o);
  EXPECT_THAT(r.problems, IsEmpty());
  EXPECT_EQ(r.reports.at(0).input.effective, "2024-03-10T12:30:00+00:00");
}

TEST(OruR01V2Test, IssuesCarryTheLocation) {
  OruReadResult r = ReadOruR01(
      "MSH|^~\\&|L|L|G|G|20240101||ORU^R01|X1|P|2.5.1\r"
      "PID|1||P1^^^H^MR\r"
      "OBR|1||A1|51969-4^^LN|||||||||||||||||||||F\r"
      "OBX|1|NR|81254-5^^LN|1|5^x\r");
  ASSERT_EQ(r.problems.size(), 1u) << AllProblems(r);
  Issue i = ToIssue(r.problems[0]);
  EXPECT_EQ(i.location, "OBX[1]-5.2");
  EXPECT_EQ(i.line, 4u);
  EXPECT_EQ(i.code, "v2-102");
  EXPECT_EQ(i.severity, Severity::kError);
  EXPECT_EQ(i.type, "value");
}

// Keeps tests/data/hl7v2/same_variants.vcf in step with the v2 message: the
// VCF mapper test compares the two files through the mappers.
TEST(OruR01V2Test, SameVariantsVcfDescribesTheSameCalls) {
  OruReadResult r = ReadOruR01(Data("brca1_germline_two_variants.hl7"));
  ASSERT_EQ(r.reports.size(), 1u);
  const std::vector<VariantCall>& vs = r.reports[0].input.variants;
  std::string vcf = Data("same_variants.vcf");
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < vcf.size()) {
    size_t end = vcf.find('\n', start);
    if (end == std::string::npos) end = vcf.size();
    std::string line = vcf.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    size_t p = 0;
    while (true) {
      size_t t = line.find('\t', p);
      cols.push_back(line.substr(p, t == std::string::npos ? t : t - p));
      if (t == std::string::npos) break;
      p = t + 1;
    }
    rows.push_back(cols);
  }
  ASSERT_EQ(rows.size(), vs.size());
  for (size_t i = 0; i < vs.size(); ++i) {
    const std::vector<std::string>& c = rows[i];
    ASSERT_GE(c.size(), 10u);
    int64_t pos = std::stoll(c[1]);
    EXPECT_EQ("chr" + vs[i].chromosome, c[0]);
    EXPECT_EQ(vs[i].start, pos - 1);
    EXPECT_EQ(vs[i].end, pos - 1 + static_cast<int64_t>(c[3].size()));
    EXPECT_EQ(vs[i].variation_codes.at(0).code, c[2]);
    EXPECT_EQ(vs[i].ref_allele, c[3]);
    EXPECT_EQ(vs[i].alt_allele, c[4]);
    EXPECT_NE(c[7].find("HGVSC=" + vs[i].hgvs_c + ";"), std::string::npos);
    EXPECT_NE(c[7].find("HGVSP=" + vs[i].hgvs_p), std::string::npos);
    std::string sample = c[9];
    EXPECT_TRUE(sample.ends_with(":" + vs[i].allele_frequency)) << sample;
    EXPECT_NE(sample.find("," + std::to_string(*vs[i].allele_read_depth) + ":"),
              std::string::npos);
    EXPECT_EQ(sample.substr(0, 3),
              vs[i].allelic_state.code == "LA6706-1" ? "0/1" : "1/1");
  }
}

// Repetitions are split once: 200,000 of them must not take quadratic time.
TEST(OruR01V2Test, ManyRepetitionsAreLinear) {
  std::string codes;
  for (int i = 0; i < 200000; ++i) {
    if (i > 0) codes += '~';
    codes += "rs" + std::to_string(i) + "^^dbSNP";
  }
  std::string ids;
  for (int i = 0; i < 200000; ++i) ids += "X" + std::to_string(i) + "~";
  OruReadResult r = ReadOruR01(
      "MSH|^~\\&|L|L|G|G|20240101||ORU^R01|X1|P|2.5.1\r"
      "PID|1||" +
      ids +
      "P1^^^H^MR\r"
      "OBR|1||A1|51969-4^^LN|||||||||||||||||||||F\r"
      "OBX|1|CWE|48004-6^^LN|1|c.1A>G^^HGVS\r"
      "OBX|2|CWE|81252-9^^LN|1|" +
      codes + "\r");
  EXPECT_FALSE(r.has_errors()) << AllProblems(r).substr(0, 500);
  ASSERT_EQ(r.reports.size(), 1u);
  EXPECT_EQ(r.reports[0].input.patient.value, "P1");  // the MR repetition
  ASSERT_EQ(r.reports[0].input.variants.size(), 1u);
  EXPECT_EQ(r.reports[0].input.variants[0].variation_codes.size(), 200000u);
}

}  // namespace
}  // namespace genogate::mappers::hl7v2

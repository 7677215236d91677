// Reading well-formed VCFs: header, records, per-ALT views, genotypes,
// structural variants, compression.
#include "mappers/vcf/vcf_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/test_env.h"

namespace genogate::mappers::vcf {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string VcfPath(const std::string& name) {
  return testing::DataDir() + "/vcf/" + name;
}

// Reads every record, keeping a copy of each line.
std::vector<std::string> ReadAllLines(VcfReader& reader) {
  std::vector<std::string> lines;
  VcfRecord rec;
  while (true) {
    Result<bool> more = reader.Next(&rec);
    EXPECT_TRUE(more.ok()) << more.error().message();
    if (!more.ok() || !*more) break;
    lines.emplace_back(rec.line());
  }
  return lines;
}

// Advances to the record at `pos` on `chrom`.
bool SeekTo(VcfReader& reader, VcfRecord* rec, std::string_view chrom,
            int64_t pos) {
  while (true) {
    Result<bool> more = reader.Next(rec);
    if (!more.ok() || !*more) return false;
    if (rec->chrom() == chrom && rec->pos() == pos) return true;
  }
}

class SnvIndelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(reader_.OpenFile(VcfPath("snv_indel.vcf")).ok())
        << reader_.error().Message();
  }
  void Seek(std::string_view chrom, int64_t pos) {
    ASSERT_TRUE(SeekTo(reader_, &rec_, chrom, pos)) << chrom << ":" << pos;
  }
  VcfReader reader_;
  VcfRecord rec_;
};

TEST_F(SnvIndelTest, Header) {
  const VcfHeader& h = reader_.header();
  EXPECT_EQ(h.file_format(), "VCFv4.2");
  EXPECT_EQ(h.minor_version(), 2);
  EXPECT_THAT(h.samples(), ElementsAre("SAMPLE1"));
  EXPECT_EQ(h.SampleIndex("SAMPLE1"), 0);
  EXPECT_EQ(h.SampleIndex("nobody"), -1);
  EXPECT_TRUE(h.has_format_column());
  EXPECT_EQ(h.expected_columns(), 10u);
  EXPECT_EQ(h.column_line(), 20u);
  EXPECT_EQ(h.build(), GenomeBuild::kGRCh38);
  EXPECT_EQ(h.build_evidence(), "##contig chr1 length=248956422");
  ASSERT_EQ(h.contigs().size(), 4u);
  EXPECT_EQ(h.contig("chrX")->length, 156040895);
  EXPECT_EQ(h.contig("chrX")->assembly, "GRCh38");
  const FieldDef* af = h.info("AF");
  ASSERT_NE(af, nullptr);
  EXPECT_EQ(af->number_kind, NumberKind::kPerAlt);
  EXPECT_EQ(af->type, ValueType::kFloat);
  EXPECT_EQ(af->description, "Allele frequency");
  EXPECT_EQ(h.info("DB")->type, ValueType::kFlag);
  EXPECT_EQ(h.format("AD")->number_kind, NumberKind::kPerAllele);
  EXPECT_EQ(h.format("AD")->NumberText(), "R");
  EXPECT_EQ(h.info("nope"), nullptr);
  ASSERT_NE(h.filter("LowQual"), nullptr);
  EXPECT_EQ(h.filter("LowQual")->description, "Low quality");
  EXPECT_EQ(h.reference(), "Homo_sapiens_assembly38.fasta");
  EXPECT_EQ(h.meta_value("source"), "genogate-test");
  EXPECT_TRUE(h.warnings().empty()) << h.warnings().ToText();
}

TEST_F(SnvIndelTest, ReadsAllRecords) {
  EXPECT_EQ(ReadAllLines(reader_).size(), 12u);
  EXPECT_EQ(reader_.records_read(), 12u);
  EXPECT_EQ(reader_.line_number(), 32u);
  EXPECT_EQ(reader_.compression(), Compression::kNone);
  VcfRecord rec;
  Result<bool> again = reader_.Next(&rec);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_F(SnvIndelTest, HeterozygousSnv) {
  Seek("chr1", 1000);
  EXPECT_EQ(rec_.line_number(), 21u);
  EXPECT_EQ(rec_.id(), "rs123");
  EXPECT_EQ(rec_.ref(), "A");
  ASSERT_EQ(rec_.num_alts(), 1u);
  EXPECT_EQ(rec_.alt(0), "G");
  EXPECT_EQ(rec_.alt_kind(0), AltKind::kSequence);
  EXPECT_EQ(rec_.qual(), 60.0);
  EXPECT_TRUE(rec_.passed());
  EXPECT_EQ(rec_.InfoInt("DP"), 30);
  EXPECT_EQ(rec_.InfoFloat("AF"), 0.5);
  EXPECT_TRUE(rec_.HasInfo("DB"));
  EXPECT_EQ(rec_.InfoRaw("DB"), "");
  EXPECT_FALSE(rec_.HasInfo("END"));
  EXPECT_EQ(rec_.EndPosition(), 1000);
  EXPECT_THAT(rec_.DbSnpIds(), ElementsAre("rs123"));
  AlleleCall c = rec_.Allele(1).Call(0);
  EXPECT_EQ(c.zygosity, Zygosity::kHeterozygous);
  EXPECT_EQ(c.Describe(), "heterozygous");
  EXPECT_EQ(c.ref_depth, 15);
  EXPECT_EQ(c.alt_depth, 15);
  EXPECT_EQ(c.depth, 30);
  EXPECT_EQ(c.genotype_quality, 99);
  EXPECT_EQ(c.allele_fraction_text, "0.5000");  // kept as written
  EXPECT_EQ(c.allele_fraction, 0.5);
  EXPECT_FALSE(c.phased);
}

TEST_F(SnvIndelTest, HomozygousMnv) {
  Seek("chr1", 2000);
  EXPECT_EQ(rec_.ref(), "AT");
  EXPECT_EQ(rec_.alt(0), "GC");
  EXPECT_EQ(rec_.EndPosition(), 2001);
  AlleleCall c = rec_.Allele(1).Call(0);
  EXPECT_EQ(c.zygosity, Zygosity::kHomozygous);
  EXPECT_EQ(c.copies, 2);
  EXPECT_EQ(c.ref_depth, 0);
  EXPECT_EQ(c.alt_depth, 20);
}

TEST_F(SnvIndelTest, PhasedPairSharesPhaseSet) {
  Seek("chr1", 3000);
  EXPECT_EQ(rec_.alt(0), "CTT");  // insertion
  AlleleCall first = rec_.Allele(1).Call(0);
  Genotype g1 = rec_.GetGenotype(0);
  Seek("chr1", 3050);
  EXPECT_EQ(rec_.ref(), "GAC");  // deletion
  AlleleCall second = rec_.Allele(1).Call(0);
  Genotype g2 = rec_.GetGenotype(0);
  EXPECT_TRUE(first.phased);
  EXPECT_TRUE(second.phased);
  EXPECT_EQ(first.phase_set, "3000");
  EXPECT_EQ(second.phase_set, "3000");
  // 0|1 then 1|0: the ALT alleles are on different haplotypes (trans).
  EXPECT_THAT(g1.alleles, ElementsAre(0, 1));
  EXPECT_THAT(g2.alleles, ElementsAre(1, 0));
}

TEST_F(SnvIndelTest, MultiAllelicSplit) {
  Seek("chr1", 4000);
  EXPECT_THAT(rec_.ids(), ElementsAre("rs456", "rs789"));
  EXPECT_THAT(rec_.DbSnpIds(), ElementsAre("rs456", "rs789"));
  ASSERT_EQ(rec_.num_alts(), 2u);
  std::vector<AlleleView> alleles = rec_.Alleles();
  ASSERT_EQ(alleles.size(), 2u);
  const AlleleView& c = alleles[0];
  const AlleleView& g = alleles[1];
  EXPECT_EQ(c.alt(), "C");
  EXPECT_EQ(g.alt(), "G");
  EXPECT_EQ(c.Info("AF"), "0.3");  // Number=A
  EXPECT_EQ(g.Info("AF"), "0.2");
  EXPECT_EQ(g.Info("AC"), "1");
  EXPECT_EQ(c.Info("DP"), "40");  // Number=1: whole value
  EXPECT_EQ(c.InfoRef("AF"), std::nullopt);
  AlleleCall cc = c.Call(0);
  AlleleCall gc = g.Call(0);
  // GT 1/2: each ALT is heterozygous.
  EXPECT_EQ(cc.zygosity, Zygosity::kHeterozygous);
  EXPECT_EQ(gc.zygosity, Zygosity::kHeterozygous);
  EXPECT_EQ(cc.ref_depth, 2);
  EXPECT_EQ(cc.alt_depth, 20);
  EXPECT_EQ(gc.ref_depth, 2);
  EXPECT_EQ(gc.alt_depth, 18);
  EXPECT_EQ(cc.allele_fraction_text, "0.5");
  EXPECT_EQ(gc.allele_fraction_text, "0.45");
  // Percent-encoding is decoded in values.
  EXPECT_EQ(rec_.InfoString("NOTE"), "a;b=c%d,e");
  EXPECT_EQ(rec_.InfoRaw("NOTE"), "a%3Bb%3Dc%25d%2Ce");
}

TEST_F(SnvIndelTest, AlleleAbsentFromGenotype) {
  Seek("chr1", 5000);
  EXPECT_FALSE(rec_.passed());
  EXPECT_THAT(rec_.filters(), ElementsAre("LowQual"));
  AlleleCall a = rec_.Allele(1).Call(0);
  AlleleCall c = rec_.Allele(2).Call(0);
  EXPECT_EQ(a.zygosity, Zygosity::kHeterozygous);
  EXPECT_EQ(c.zygosity, Zygosity::kAbsent);  // GT 0/1 has no allele 2
  EXPECT_EQ(c.alt_depth, 1);
  EXPECT_EQ(c.allele_fraction_text, "0.025");
}

TEST_F(SnvIndelTest, HaploidCallsAreHemizygous) {
  Seek("chrX", 6000);
  AlleleCall x = rec_.Allele(1).Call(0);
  EXPECT_EQ(x.zygosity, Zygosity::kHemizygous);
  EXPECT_EQ(x.ploidy, 1);
  EXPECT_EQ(x.Describe(), "hemizygous");
  Seek("chrM", 7000);
  EXPECT_EQ(rec_.Allele(1).Call(0).zygosity, Zygosity::kHemizygous);
  EXPECT_EQ(rec_.Allele(1).Call(0).alt_depth, 897);
}

TEST_F(SnvIndelTest, NoCallPartialAndPolyploid) {
  Seek("chr17", 8000);
  EXPECT_EQ(rec_.qual(), std::nullopt);
  EXPECT_TRUE(rec_.info().empty());
  AlleleCall none = rec_.Allele(1).Call(0);
  EXPECT_EQ(none.zygosity, Zygosity::kNoCall);
  EXPECT_EQ(none.ref_depth, std::nullopt);
  EXPECT_TRUE(rec_.GetGenotype(0).missing());

  Seek("chr1", 9000);
  AlleleCall partial = rec_.Allele(1).Call(0);
  EXPECT_EQ(partial.zygosity, Zygosity::kPartial);
  EXPECT_EQ(partial.missing, 1);

  Seek("chr1", 10000);
  AlleleCall poly = rec_.Allele(1).Call(0);
  EXPECT_EQ(poly.zygosity, Zygosity::kHeterozygous);
  EXPECT_EQ(poly.ploidy, 4);
  EXPECT_EQ(poly.copies, 2);
  EXPECT_EQ(poly.Describe(), "heterozygous (2 of 4 copies)");
}

TEST_F(SnvIndelTest, SampleAccessors) {
  Seek("chr1", 4000);
  SampleCall s = rec_.Sample(0);
  EXPECT_THAT(s.genotype.alleles, ElementsAre(1, 2));
  ASSERT_EQ(s.allele_depths.size(), 3u);
  EXPECT_EQ(s.allele_depths[2], 18);
  EXPECT_EQ(s.depth, 40);
  EXPECT_EQ(s.genotype_quality, 80);
  EXPECT_EQ(rec_.SampleField(0, "GQ"), "80");
  EXPECT_EQ(rec_.SampleField(0, "PS"), std::nullopt);
  EXPECT_THAT(rec_.format_keys(), ElementsAre("GT", "AD", "DP", "GQ", "AF"));
}

TEST(VcfReaderTest, CompressedInputsReadLikePlain) {
  VcfReader plain;
  ASSERT_TRUE(plain.OpenFile(VcfPath("snv_indel.vcf")).ok());
  std::vector<std::string> expected = ReadAllLines(plain);
  ASSERT_EQ(expected.size(), 12u);
  struct {
    const char* file;
    Compression kind;
  } inputs[] = {{"snv_indel.vcf.gz", Compression::kGzip},
                {"snv_indel.vcf.bgz", Compression::kBgzf},
                {"gzip_named.vcf", Compression::kGzip}};
  for (const auto& in : inputs) {
    VcfReader r;
    ASSERT_TRUE(r.OpenFile(VcfPath(in.file)).ok()) << r.error().Message();
    EXPECT_EQ(r.compression(), in.kind) << in.file;
    EXPECT_EQ(ReadAllLines(r), expected) << in.file;
    EXPECT_EQ(r.header().build(), GenomeBuild::kGRCh38);
    EXPECT_LT(r.source_bytes(), r.text_bytes()) << in.file;
  }
}

TEST(VcfReaderTest, OpenStringAndBuffer) {
  std::string text = testing::ReadTestFile(VcfPath("snv_indel.vcf"));
  VcfReader a;
  ASSERT_TRUE(a.OpenBuffer(text).ok());
  EXPECT_EQ(ReadAllLines(a).size(), 12u);
  VcfReader b;
  ASSERT_TRUE(b.OpenString(text).ok());
  EXPECT_EQ(ReadAllLines(b).size(), 12u);
  // gzip bytes in memory (an HTTP body) are detected too.
  VcfReader c;
  ASSERT_TRUE(
      c.OpenString(testing::ReadTestFile(VcfPath("snv_indel.vcf.bgz"))).ok());
  EXPECT_EQ(c.compression(), Compression::kBgzf);
  EXPECT_EQ(ReadAllLines(c).size(), 12u);
}

TEST(VcfReaderTest, StructuralVariants) {
  VcfReader r;
  ASSERT_TRUE(r.OpenFile(VcfPath("sv.vcf")).ok()) << r.error().Message();
  EXPECT_EQ(r.header().file_format(), "VCFv4.3");
  EXPECT_EQ(r.header().build(), GenomeBuild::kGRCh37);
  VcfRecord rec;

  ASSERT_TRUE(SeekTo(r, &rec, "1", 10000));
  EXPECT_EQ(rec.alt(0), "<DEL>");
  EXPECT_EQ(rec.alt_kind(0), AltKind::kSymbolic);
  EXPECT_EQ(rec.sv_type(), "DEL");
  EXPECT_EQ(rec.info_end(), 15000);
  EXPECT_EQ(rec.EndPosition(), 15000);
  EXPECT_EQ(rec.Allele(1).sv_len(), -5000);
  EXPECT_EQ(rec.cipos(), std::make_pair(int64_t{-50}, int64_t{50}));
  EXPECT_EQ(rec.ciend(), std::make_pair(int64_t{-30}, int64_t{30}));
  EXPECT_TRUE(rec.HasInfo("IMPRECISE"));
  EXPECT_EQ(rec.Allele(1).Call(0).copy_number, 1);
  EXPECT_EQ(rec.Allele(1).VepAllele(), "<DEL>");

  ASSERT_TRUE(SeekTo(r, &rec, "1", 20000));
  EXPECT_EQ(rec.sv_type(), "DUP");
  EXPECT_EQ(rec.Allele(1).Call(0).copy_number, 3);
  EXPECT_EQ(rec.cipos(), std::nullopt);

  ASSERT_TRUE(SeekTo(r, &rec, "1", 30000));
  EXPECT_EQ(rec.alt(0), "<CNV>");
  AlleleCall cnv = rec.Allele(1).Call(0);
  EXPECT_EQ(cnv.copy_number, 0);
  EXPECT_EQ(cnv.zygosity, Zygosity::kNoCall);  // GT "."

  ASSERT_TRUE(SeekTo(r, &rec, "1", 50000));
  EXPECT_EQ(rec.alt(0), "<DUP:TANDEM>");
  EXPECT_EQ(rec.alt_kind(0), AltKind::kSymbolic);

  ASSERT_TRUE(SeekTo(r, &rec, "1", 70000));
  EXPECT_EQ(rec.alt(0), "<INS>");
  EXPECT_EQ(rec.Allele(1).sv_len(), 300);
  EXPECT_EQ(rec.Allele(1).Call(0).zygosity, Zygosity::kHomozygous);

  const char* breakends[][3] = {{"2", "321681", "G]17:198982]"},
                                {"2", "321682", "]13:123456]T"},
                                {"13", "123456", "C[2:321682["},
                                {"13", "123457", "[17:198983[A"},
                                {"17", "198982", "A]2:321681]"}};
  for (const auto& b : breakends) {
    ASSERT_TRUE(SeekTo(r, &rec, b[0], std::stoll(b[1]))) << b[2];
    EXPECT_EQ(rec.alt(0), b[2]);
    EXPECT_EQ(rec.alt_kind(0), AltKind::kBreakend) << b[2];
    EXPECT_EQ(rec.sv_type(), "BND");
  }
  ASSERT_TRUE(SeekTo(r, &rec, "17", 198990));
  EXPECT_EQ(rec.alt_kind(0), AltKind::kSingleBreakend);
  ASSERT_TRUE(SeekTo(r, &rec, "17", 199000));
  EXPECT_EQ(rec.alt_kind(0), AltKind::kSequence);
  EXPECT_EQ(rec.alt_kind(1), AltKind::kOverlappingDeletion);
  ASSERT_TRUE(SeekTo(r, &rec, "17", 199100));
  EXPECT_EQ(rec.alt_kind(0), AltKind::kNonRef);
  EXPECT_EQ(rec.EndPosition(), 199200);
}

TEST(VcfReaderTest, ClinVarSitesOnly) {
  VcfReader r;
  ASSERT_TRUE(r.OpenFile(VcfPath("clinvar.vcf")).ok()) << r.error().Message();
  EXPECT_FALSE(r.header().has_format_column());
  EXPECT_EQ(r.header().expected_columns(), 8u);
  EXPECT_EQ(r.header().build(), GenomeBuild::kGRCh37);
  EXPECT_EQ(r.header().build_evidence(), "##reference=GRCh37");
  VcfRecord rec;
  ASSERT_TRUE(*r.Next(&rec));
  EXPECT_EQ(rec.num_samples(), 0u);
  ClinVarInfo cv = rec.ClinVar();
  EXPECT_EQ(cv.clnsig, "Pathogenic");
  EXPECT_EQ(cv.clnrevstat,
            "criteria_provided,_multiple_submitters,_no_conflicts");
  EXPECT_EQ(ClinVarText(cv.clnrevstat),
            "criteria provided, multiple submitters, no conflicts");
  EXPECT_EQ(cv.clndn, "Breast-ovarian_cancer,_familial_1|not_provided");
  EXPECT_EQ(cv.clnhgvs, "NC_000017.10:g.41245466G>A");
  EXPECT_EQ(cv.allele_id, "70000");
  EXPECT_EQ(cv.rs, "80357906");
  EXPECT_THAT(rec.DbSnpIds(), ElementsAre("rs80357906"));  // ID is ClinVar's
  ASSERT_TRUE(*r.Next(&rec));
  EXPECT_EQ(rec.ClinVar().clnsig, "Likely_pathogenic");
  EXPECT_EQ(rec.ClinVar().rs, "");
  EXPECT_TRUE(rec.DbSnpIds().empty());
  ASSERT_TRUE(*r.Next(&rec));
  EXPECT_EQ(rec.ClinVar().clnsig,
            "Conflicting_classifications_of_pathogenicity");
  EXPECT_FALSE(*r.Next(&rec));
}

TEST(VcfReaderTest, KeepGoingSkipsBadRecords) {
  std::string text =
      "##fileformat=VCFv4.3\n"
      "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"d\">\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
      "1\t10\t.\tA\tG\t.\t.\tDP=1\n"
      "1\t1x\t.\tA\tG\t.\t.\tDP=1\n"
      "1\t30\t.\tA\tG\t.\t.\tDP=abc\n"
      "1\t40\t.\tA\tG\t.\t.\tDP=4\n"
      "1\t50\t.\tA\n"
      "1\t60\t.\tA\tG\t.\t.\tDP=6\n";
  VcfReaderOptions opts;
  opts.keep_going = true;
  opts.max_kept_errors = 2;
  std::vector<uint64_t> seen;
  opts.on_bad_record = [&](const VcfError& e) { seen.push_back(e.line); };
  VcfReader r(opts);
  ASSERT_TRUE(r.OpenString(text).ok());
  std::vector<int64_t> positions;
  VcfRecord rec;
  while (true) {
    Result<bool> more = r.Next(&rec);
    ASSERT_TRUE(more.ok()) << more.error().message();
    if (!*more) break;
    positions.push_back(rec.pos());
  }
  EXPECT_THAT(positions, ElementsAre(10, 40, 60));
  EXPECT_EQ(r.bad_record_count(), 3u);
  EXPECT_THAT(seen, ElementsAre(5, 6, 8));
  ASSERT_EQ(r.bad_records().size(), 2u);  // capped
  EXPECT_EQ(r.bad_records()[0].column, 2u);
  EXPECT_EQ(r.bad_records()[1].column, 8u);

  // Without keep_going the first bad record stops the reader for good.
  VcfReader strict;
  ASSERT_TRUE(strict.OpenString(text).ok());
  ASSERT_TRUE(*strict.Next(&rec));
  Result<bool> bad = strict.Next(&rec);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(strict.error().line, 5u);
  EXPECT_FALSE(strict.Next(&rec).ok());
}

TEST(VcfReaderTest, ValidationCanBeSwitchedOff) {
  std::string text =
      "##fileformat=VCFv4.2\n"
      "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"d\">\n"
      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n"
      "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"a\">\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
      "1\t10\t.\tA\tG\t.\t.\tDP=abc\tGT:AD\t0/1:5\n";
  VcfReaderOptions opts;
  opts.parse.validate_info = false;
  opts.parse.validate_samples = false;
  VcfReader r(opts);
  ASSERT_TRUE(r.OpenString(text).ok());
  VcfRecord rec;
  Result<bool> more = r.Next(&rec);
  ASSERT_TRUE(more.ok()) << more.error().message();
  EXPECT_EQ(rec.InfoInt("DP"), std::nullopt);                // not convertible
  EXPECT_EQ(rec.Allele(1).Call(0).alt_depth, std::nullopt);  // AD too short
  EXPECT_EQ(rec.Allele(1).Call(0).ref_depth, 5);
}

TEST(VcfReaderTest, CrLfAndMissingFinalNewline) {
  std::string text =
      "##fileformat=VCFv4.1\r\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\r\n"
      "1\t10\t.\tA\tG\t.\tPASS\t.\r\n"
      "1\t20\t.\tC\tT\t.\tPASS\t.";
  VcfReader r;
  ASSERT_TRUE(r.OpenString(text).ok()) << r.error().Message();
  VcfRecord rec;
  ASSERT_TRUE(*r.Next(&rec));
  EXPECT_EQ(rec.info_text(), ".");
  ASSERT_TRUE(*r.Next(&rec));
  EXPECT_EQ(rec.pos(), 20);
  EXPECT_FALSE(*r.Next(&rec));
}

TEST(VcfReaderTest, TelomerePositionZeroIsAllowed) {
  std::string text =
      "##fileformat=VCFv4.3\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
      "1\t0\t.\tN\t.\t.\t.\t.\n";
  VcfReader r;
  ASSERT_TRUE(r.OpenString(text).ok());
  VcfRecord rec;
  Result<bool> more = r.Next(&rec);
  ASSERT_TRUE(more.ok()) << more.error().message();
  EXPECT_EQ(rec.pos(), 0);
  EXPECT_EQ(rec.num_alts(), 0u);
}

TEST(VcfReaderTest, UndeclaredInfoAndFormatKeysAreAllowed) {
  std::string text =
      "##fileformat=VCFv4.2\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
      "1\t10\t.\tA\tG,T\t.\t.\tFOO=1,2;BAR\tGT:XX\t0/1:anything\n";
  VcfReader r;
  ASSERT_TRUE(r.OpenString(text).ok());
  VcfRecord rec;
  Result<bool> more = r.Next(&rec);
  ASSERT_TRUE(more.ok()) << more.error().message();
  EXPECT_EQ(rec.Allele(2).Info("FOO"), "1,2");  // unknown Number: whole
  EXPECT_EQ(rec.SampleField(0, "XX"), "anything");
}

TEST(VcfReaderTest, FormatNumberGUsesPloidy) {
  std::string head =
      "##fileformat=VCFv4.2\n"
      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n"
      "##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"p\">\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n";
  for (auto [sample, ok] : std::vector<std::pair<std::string, bool>>{
           {"0/1:0,10,100,20,200,300", true},  // diploid, 2 ALTs: 6
           {"0/1:0,10,100", false},
           {"1:0,10,100", true},  // haploid, 2 ALTs: 3
           {"1:0,10", false}}) {
    VcfReader r;
    ASSERT_TRUE(r.OpenString(head + "1\t10\t.\tA\tG,T\t.\t.\t.\tGT:PL\t" +
                             sample + "\n")
                    .ok());
    VcfRecord rec;
    Result<bool> more = r.Next(&rec);
    EXPECT_EQ(more.ok(), ok) << sample;
    if (!ok) {
      EXPECT_THAT(r.error().reason, HasSubstr("Number=G"));
    }
  }
}

TEST(VcfReaderTest, BuildInference) {
  struct {
    std::string meta;
    GenomeBuild build;
  } cases[] = {
      {"##reference=file:///data/human_g1k_v37.fasta\n", GenomeBuild::kGRCh37},
      {"##reference=hs37d5.fa.gz\n", GenomeBuild::kGRCh37},
      {"##reference=GRCh38_full_analysis_set_plus_decoy_hla.fa\n",
       GenomeBuild::kGRCh38},
      {"##assembly=hg19\n", GenomeBuild::kGRCh37},
      {"##contig=<ID=1,assembly=b37>\n", GenomeBuild::kGRCh37},
      {"##contig=<ID=chr1,length=248956422>\n", GenomeBuild::kGRCh38},
      {"##contig=<ID=1,length=249250621>\n", GenomeBuild::kGRCh37},
      {"##contig=<ID=chrX,length=156040895>\n", GenomeBuild::kGRCh38},
      {"##contig=<ID=chr1,length=1000>\n", GenomeBuild::kUnknown},
      {"##reference=mygenome.fa\n", GenomeBuild::kUnknown},
      {"", GenomeBuild::kUnknown},
      // Conflicting evidence: unknown, with a warning.
      {"##reference=GRCh37\n##contig=<ID=1,length=248956422>\n",
       GenomeBuild::kUnknown},
  };
  for (const auto& c : cases) {
    VcfReader r;
    ASSERT_TRUE(r.OpenString("##fileformat=VCFv4.2\n" + c.meta +
                             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
                    .ok())
        << r.error().Message();
    EXPECT_EQ(r.header().build(), c.build) << c.meta;
  }
  VcfReader conflict;
  ASSERT_TRUE(conflict
                  .OpenString("##fileformat=VCFv4.2\n##reference=GRCh37\n"
                              "##contig=<ID=1,length=248956422>\n"
                              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
                  .ok());
  ASSERT_EQ(conflict.header().warnings().size(), 1u);
  EXPECT_EQ(conflict.header().warnings().issues()[0].code,
            "vcf-build-conflict");
  EXPECT_THAT(conflict.header().build_evidence(), HasSubstr("conflicting"));
}

TEST(VcfReaderTest, HeaderWarningsDoNotStopReading) {
  VcfReader r;
  ASSERT_TRUE(r.OpenString("##fileformat=VCFv4.2\n"
                           "##INFO=<ID=DP,Number=1,Type=Integer>\n"
                           "##INFO=<ID=DP,Number=1,Type=Integer,"
                           "Description=\"again\">\n"
                           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
                  .ok());
  EXPECT_EQ(r.header().warnings().size(), 2u);  // no Description; duplicate
  EXPECT_EQ(r.header().info("DP")->description, "");
}

TEST(VcfReaderTest, QuotedDescriptionsWithEscapesAndCommas) {
  VcfReader r;
  ASSERT_TRUE(r.OpenString("##fileformat=VCFv4.3\n"
                           "##INFO=<ID=X,Number=.,Type=String,Description="
                           "\"a, \\\"quoted\\\" b=c\",Source=\"s\">\n"
                           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
                  .ok())
      << r.error().Message();
  EXPECT_EQ(r.header().info("X")->description, "a, \"quoted\" b=c");
}

TEST(VcfReaderTest, DuplicateKeysAmongManyAreFound) {
  std::string head =
      "##fileformat=VCFv4.2\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n";
  std::string info, format, sample;
  for (int i = 0; i < 100; ++i) {
    info += "K" + std::to_string(i) + "=1;";
    format += ":F" + std::to_string(i);
    sample += ":1";
  }
  for (bool dup : {false, true}) {
    std::string line = "1\t10\t.\tA\tG\t.\t.\t" + info +
                       (dup ? "K7=2" : "K100=2") + "\tGT" + format +
                       (dup ? ":F42" : ":F100") + "\t0/1" + sample + ":1\n";
    VcfReader r;
    ASSERT_TRUE(r.OpenString(head + line).ok());
    VcfRecord rec;
    Result<bool> more = r.Next(&rec);
    EXPECT_EQ(more.ok(), !dup);
    if (dup) {
      EXPECT_EQ(r.error().reason, "duplicate INFO key K7");
    }
  }
}

TEST(VcfReaderTest, EmptyInput) {
  VcfReader r;
  Status st = r.OpenString("");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(r.error().reason, HasSubstr("the input is empty"));
}

}  // namespace
}  // namespace genogate::mappers::vcf

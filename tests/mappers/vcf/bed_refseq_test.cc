// BED regions, chromosome names and RefSeq accessions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "mappers/vcf/bed.h"
#include "mappers/vcf/refseq.h"
#include "testing/test_env.h"

namespace genogate::mappers::vcf {
namespace {

TEST(BedTest, ReadsPanelSkippingTrackBrowserAndComments) {
  VcfError e;
  Result<RegionSet> r =
      RegionSet::ReadFile(testing::DataDir() + "/vcf/bed/panel.bed", &e);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 6u);
  const BedRegion& brca1 = r->regions()[0];
  EXPECT_EQ(brca1.chrom, "17");  // "chr" dropped
  EXPECT_EQ(brca1.start, 43044294);
  EXPECT_EQ(brca1.end, 43125483);
  EXPECT_EQ(brca1.name, "BRCA1");
  EXPECT_EQ(brca1.line, 4u);
  EXPECT_EQ(r->regions()[4].chrom, "MT");
  EXPECT_EQ(r->regions()[5].name, "space_separated");

  // Half-open, 0-based: [999, 1001) holds 0-based 999 and 1000.
  EXPECT_FALSE(r->Contains("chr1", 998));
  EXPECT_TRUE(r->Contains("chr1", 999));
  EXPECT_TRUE(r->Contains("1", 1000));
  EXPECT_TRUE(r->Contains("1", 1999));  // merged with [1000, 2000)
  EXPECT_FALSE(r->Contains("1", 2000));
  EXPECT_TRUE(r->ContainsVcfPos("chr1", 1000));  // 1-based 1000 = 0-based 999
  EXPECT_FALSE(r->ContainsVcfPos("chr1", 999));
  EXPECT_TRUE(r->ContainsVcfPos("17", 43044295));
  EXPECT_FALSE(r->ContainsVcfPos("17", 43044294));
  EXPECT_TRUE(r->Contains("chrM", 0));
  EXPECT_TRUE(r->Contains("MT", 16568));
  EXPECT_FALSE(r->Contains("MT", 16569));
  EXPECT_FALSE(r->Contains("2", 1000));
  EXPECT_TRUE(r->Contains("1", 5500));
  EXPECT_TRUE(r->Overlaps("1", 2000, 5001));
  EXPECT_FALSE(r->Overlaps("1", 2000, 5000));
  EXPECT_FALSE(r->Overlaps("1", 1500, 1500));  // empty query
  EXPECT_EQ(r->covered_bases(), (43125483 - 43044294) + (32400268 - 32315507) +
                                    (2000 - 999) + 16569 + 1000);
}

TEST(BedTest, LookupAgreesWithLinearScan) {
  RegionSet set;
  uint32_t x = 12345;
  auto rnd = [&]() { return x = x * 1103515245u + 12345u; };
  std::vector<std::pair<int64_t, int64_t>> iv;
  for (int i = 0; i < 500; ++i) {
    int64_t s = rnd() % 100000;
    int64_t e = s + rnd() % 300;
    iv.emplace_back(s, e);
    set.Add("chr2", s, e);
  }
  set.Finalize();
  for (int64_t p = 0; p < 100400; p += 7) {
    bool linear = false;
    for (auto [s, e] : iv) linear = linear || (s <= p && p < e);
    ASSERT_EQ(set.Contains("2", p), linear) << p;
  }
}

TEST(BedTest, EmptyAndCommentOnly) {
  Result<RegionSet> r = RegionSet::ReadString("# nothing\ntrack name=x\n\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_FALSE(r->Contains("1", 0));
}

TEST(ChromosomeTest, Normalize) {
  EXPECT_EQ(NormalizeChromosome("chr1"), "1");
  EXPECT_EQ(NormalizeChromosome("1"), "1");
  EXPECT_EQ(NormalizeChromosome("CHRX"), "X");
  EXPECT_EQ(NormalizeChromosome("chrx"), "X");
  EXPECT_EQ(NormalizeChromosome("chrM"), "MT");
  EXPECT_EQ(NormalizeChromosome("M"), "MT");
  EXPECT_EQ(NormalizeChromosome("chrMT"), "MT");
  EXPECT_EQ(NormalizeChromosome("chr1_KI270706v1_random"),
            "1_KI270706v1_random");
  EXPECT_EQ(NormalizeChromosome("NC_000001.11"), "NC_000001.11");
  EXPECT_EQ(NormalizeChromosome("chr"), "chr");
}

TEST(RefSeqTest, EveryPrimaryChromosome) {
  // NCBI GRCh37.p13 and GRCh38 assembly reports (RefSeq-Accn).
  const char* grch37[] = {
      "NC_000001.10", "NC_000002.11", "NC_000003.11", "NC_000004.11",
      "NC_000005.9",  "NC_000006.11", "NC_000007.13", "NC_000008.10",
      "NC_000009.11", "NC_000010.10", "NC_000011.9",  "NC_000012.11",
      "NC_000013.10", "NC_000014.8",  "NC_000015.9",  "NC_000016.9",
      "NC_000017.10", "NC_000018.9",  "NC_000019.9",  "NC_000020.10",
      "NC_000021.8",  "NC_000022.10", "NC_000023.10", "NC_000024.9"};
  const char* grch38[] = {
      "NC_000001.11", "NC_000002.12", "NC_000003.12", "NC_000004.12",
      "NC_000005.10", "NC_000006.12", "NC_000007.14", "NC_000008.11",
      "NC_000009.12", "NC_000010.11", "NC_000011.10", "NC_000012.12",
      "NC_000013.11", "NC_000014.9",  "NC_000015.10", "NC_000016.10",
      "NC_000017.11", "NC_000018.10", "NC_000019.10", "NC_000020.11",
      "NC_000021.9",  "NC_000022.11", "NC_000023.11", "NC_000024.10"};
  for (int i = 0; i < 24; ++i) {
    std::string chrom = i < 22 ? std::to_string(i + 1) : (i == 22 ? "X" : "Y");
    EXPECT_EQ(RefSeqAccession(chrom, GenomeBuild::kGRCh37), grch37[i]);
    EXPECT_EQ(RefSeqAccession("chr" + chrom, GenomeBuild::kGRCh38), grch38[i]);
    std::string back;
    GenomeBuild b;
    ASSERT_TRUE(ChromosomeFromRefSeq(grch38[i], &back, &b));
    EXPECT_EQ(back, chrom);
    EXPECT_EQ(b, GenomeBuild::kGRCh38);
    ASSERT_TRUE(ChromosomeFromRefSeq(grch37[i], &back, &b));
    EXPECT_EQ(b, GenomeBuild::kGRCh37);
  }
  EXPECT_EQ(RefSeqAccession("MT", GenomeBuild::kGRCh37), "NC_012920.1");
  EXPECT_EQ(RefSeqAccession("chrM", GenomeBuild::kGRCh38), "NC_012920.1");
  EXPECT_EQ(RefSeqAccession("1", GenomeBuild::kUnknown), std::nullopt);
  EXPECT_EQ(RefSeqAccession("GL000191.1", GenomeBuild::kGRCh37), std::nullopt);
  std::string chrom;
  GenomeBuild b;
  EXPECT_FALSE(ChromosomeFromRefSeq("NC_000025.1", &chrom, &b));
}

TEST(RefSeqTest, LengthsAndBuildNames) {
  EXPECT_EQ(ChromosomeLength("chr1", GenomeBuild::kGRCh37), 249250621);
  EXPECT_EQ(ChromosomeLength("1", GenomeBuild::kGRCh38), 248956422);
  EXPECT_EQ(ChromosomeLength("MT", GenomeBuild::kGRCh38), std::nullopt);
  EXPECT_EQ(GenomeBuildName(GenomeBuild::kGRCh38), "GRCh38");
  EXPECT_EQ(GenomeBuildName(GenomeBuild::kUnknown), "unknown");
  EXPECT_EQ(ParseGenomeBuild("hg19"), GenomeBuild::kGRCh37);
  EXPECT_EQ(ParseGenomeBuild("grch38"), GenomeBuild::kGRCh38);
  EXPECT_EQ(ParseGenomeBuild("T2T-CHM13"), GenomeBuild::kUnknown);
}

}  // namespace
}  // namespace genogate::mappers::vcf

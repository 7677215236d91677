// Shows (and checks) that the reader's public API is enough to fill the
// neutral VariantCall model: this is what the VCF mapper will do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mappers/common/genomic_report.h"
#include "mappers/vcf/refseq.h"
#include "mappers/vcf/vcf_reader.h"
#include "testing/test_env.h"

namespace genogate::mappers::vcf {
namespace {

VariantCall Fill(const AlleleView& a, const VcfHeader& h, size_t sample) {
  VariantCall v;
  v.chromosome = NormalizeChromosome(a.chrom());
  v.build = std::string(GenomeBuildName(h.build()));
  if (auto acc = RefSeqAccession(v.chromosome, h.build())) {
    v.genomic_ref_seq = std::string(*acc);
  }
  v.start = a.pos() - 1;  // 0-based interval counting
  v.end = a.pos() - 1 + static_cast<int64_t>(a.ref().size());
  v.ref_allele = std::string(a.ref());
  if (a.kind() == AltKind::kSequence) {
    v.alt_allele = std::string(a.alt());
  } else {
    v.symbolic_alt = std::string(a.alt());
    v.structural_type = std::string(a.record().sv_type());
  }
  AlleleCall c = a.Call(sample);
  v.allele_frequency = std::string(c.allele_fraction_text);
  v.read_depth = c.depth;
  v.allele_read_depth = c.alt_depth;
  v.phased = c.phased;
  v.phase_set = std::string(c.phase_set);
  v.copy_number = c.copy_number;
  for (const VepConsequence& csq : a.Csq()) {
    v.consequences.push_back(csq.ToConsequence());
  }
  if (!v.consequences.empty()) {
    v.gene_symbol = v.consequences[0].gene_symbol;
    v.hgnc_id = v.consequences[0].hgnc_id;
    v.hgvs_c = v.consequences[0].hgvs_c;
  }
  for (const std::string& rs : a.record().DbSnpIds()) {
    v.variation_codes.push_back({"http://www.ncbi.nlm.nih.gov/snp", rs, ""});
  }
  v.source_location = "line " + std::to_string(a.record().line_number());
  return v;
}

TEST(FillModelTest, MultiAllelicIndelFromVep) {
  VcfReader r;
  ASSERT_TRUE(r.OpenFile(testing::DataDir() + "/vcf/vep.vcf").ok());
  VcfRecord rec;
  ASSERT_TRUE(*r.Next(&rec));
  ASSERT_TRUE(*r.Next(&rec));
  std::vector<VariantCall> calls;
  for (const AlleleView& a : rec.Alleles()) {
    calls.push_back(Fill(a, r.header(), 0));
  }
  ASSERT_EQ(calls.size(), 2u);
  const VariantCall& del = calls[0];
  EXPECT_EQ(del.chromosome, "7");
  EXPECT_EQ(del.build, "GRCh38");
  EXPECT_EQ(del.genomic_ref_seq, "NC_000007.14");
  EXPECT_EQ(del.start, 117559589);
  EXPECT_EQ(del.end, 117559591);
  EXPECT_EQ(del.ref_allele, "CA");
  EXPECT_EQ(del.alt_allele, "C");
  EXPECT_EQ(del.allele_frequency, "0.33");
  EXPECT_EQ(del.allele_read_depth, 8);
  EXPECT_EQ(del.read_depth, 24);
  EXPECT_EQ(del.gene_symbol, "CFTR");
  EXPECT_EQ(del.hgnc_id, "HGNC:1884");
  EXPECT_EQ(del.hgvs_c, "ENST00000003084.11:c.1521del");
  EXPECT_EQ(del.source_location, "line 13");
  EXPECT_EQ(calls[1].alt_allele, "CAA");
  EXPECT_EQ(calls[1].hgvs_c, "ENST00000003084.11:c.1521dup");
  EXPECT_EQ(calls[1].consequences[0].terms[1].code, "SO:0001630");
}

TEST(FillModelTest, StructuralVariant) {
  VcfReader r;
  ASSERT_TRUE(r.OpenFile(testing::DataDir() + "/vcf/sv.vcf").ok());
  VcfRecord rec;
  ASSERT_TRUE(*r.Next(&rec));
  VariantCall v = Fill(rec.Allele(1), r.header(), 0);
  EXPECT_EQ(v.build, "GRCh37");
  EXPECT_EQ(v.genomic_ref_seq, "NC_000001.10");
  EXPECT_EQ(v.symbolic_alt, "<DEL>");
  EXPECT_EQ(v.alt_allele, "");
  EXPECT_EQ(v.structural_type, "DEL");
  EXPECT_EQ(v.copy_number, 1);
}

}  // namespace
}  // namespace genogate::mappers::vcf

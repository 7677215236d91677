// VEP CSQ and SnpEff ANN parsing, per-allele matching and SO accessions.
#include "mappers/vcf/annotation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mappers/vcf/vcf_reader.h"
#include "testing/test_env.h"

namespace genogate::mappers::vcf {
namespace {

using ::testing::ElementsAre;

std::string VcfPath(const std::string& name) {
  return testing::DataDir() + "/vcf/" + name;
}

TEST(SoAccessionTest, CommonConsequenceTerms) {
  const std::pair<const char*, const char*> expected[] = {
      {"missense_variant", "SO:0001583"},
      {"synonymous_variant", "SO:0001819"},
      {"frameshift_variant", "SO:0001589"},
      {"stop_gained", "SO:0001587"},
      {"splice_acceptor_variant", "SO:0001574"},
      {"splice_donor_variant", "SO:0001575"},
      {"inframe_deletion", "SO:0001822"},
      {"inframe_insertion", "SO:0001821"},
      {"start_lost", "SO:0002012"},
      {"stop_lost", "SO:0001578"},
      {"intron_variant", "SO:0001627"},
      {"5_prime_UTR_variant", "SO:0001623"},
      {"3_prime_UTR_variant", "SO:0001624"},
      {"upstream_gene_variant", "SO:0001631"},
      {"downstream_gene_variant", "SO:0001632"},
      {"splice_region_variant", "SO:0001630"},
      {"intergenic_variant", "SO:0001628"},
      {"non_coding_transcript_exon_variant", "SO:0001792"},
      {"stop_retained_variant", "SO:0001567"},
      {"NMD_transcript_variant", "SO:0001621"},
      {"protein_altering_variant", "SO:0001818"},
      {"transcript_ablation", "SO:0001893"},
      {"transcript_amplification", "SO:0001889"},
      {"TF_binding_site_variant", "SO:0001782"},
      {"5_prime_UTR_premature_start_codon_gain_variant", "SO:0001988"},
      {"conservative_inframe_deletion", "SO:0001825"},
      {"disruptive_inframe_insertion", "SO:0001824"},
      {"splice_donor_5th_base_variant", "SO:0001787"},
  };
  for (const auto& [term, acc] : expected) {
    EXPECT_EQ(SoAccession(term), acc) << term;
  }
  EXPECT_EQ(SoAccession("Missense_Variant"), std::nullopt);  // exact terms
  EXPECT_EQ(SoAccession("not_a_term"), std::nullopt);
  EXPECT_EQ(SoAccession(""), std::nullopt);
}

TEST(VepAlleleTest, TrimsSharedFirstBaseOfIndels) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(VepAlleleString("CA", V{"C"}, 1), "-");
  EXPECT_EQ(VepAlleleString("C", V{"CTT"}, 1), "TT");
  EXPECT_EQ(VepAlleleString("CA", V{"C", "CAA"}, 1), "-");
  EXPECT_EQ(VepAlleleString("CA", V{"C", "CAA"}, 2), "AA");
  EXPECT_EQ(VepAlleleString("A", V{"G"}, 1), "G");        // SNV
  EXPECT_EQ(VepAlleleString("AT", V{"AG"}, 1), "AG");     // MNV: not an indel
  EXPECT_EQ(VepAlleleString("C", V{"T", "CA"}, 1), "T");  // mixed first base
  EXPECT_EQ(VepAlleleString("C", V{"T", "CA"}, 2), "CA");
  EXPECT_EQ(VepAlleleString("ca", V{"c"}, 1), "-");       // case-insensitive
  EXPECT_EQ(VepAlleleString("CA", V{"C", "*"}, 1), "-");  // '*' ignored
  EXPECT_EQ(VepAlleleString("N", V{"<DEL>"}, 1), "<DEL>");
  EXPECT_EQ(VepAlleleString("A", V{"G"}, 2), "");  // out of range
  EXPECT_EQ(VepStructuralAllele("<DUP:TANDEM>"), "tandem_duplication");
}

class VepFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(reader_.OpenFile(VcfPath("vep.vcf")).ok())
        << reader_.error().Message();
  }
  void Next() { ASSERT_TRUE(*reader_.Next(&rec_)); }
  VcfReader reader_;
  VcfRecord rec_;
};

TEST_F(VepFileTest, CsqHeaderFields) {
  const auto& f = reader_.header().csq_fields();
  ASSERT_EQ(f.size(), 25u);
  EXPECT_EQ(f.front(), "Allele");
  EXPECT_EQ(f.back(), "MANE_SELECT");
  EXPECT_EQ(reader_.header().CsqIndex("HGNC_ID"), 22);
  EXPECT_EQ(reader_.header().build(), GenomeBuild::kGRCh38);
}

TEST_F(VepFileTest, SingleAltGetsAllEntries) {
  Next();
  std::vector<VepConsequence> csq = rec_.Allele(1).Csq();
  ASSERT_EQ(csq.size(), 2u);
  const VepConsequence& c = csq[0];
  EXPECT_EQ(c.allele, "A");
  EXPECT_THAT(c.terms, ElementsAre("missense_variant"));
  EXPECT_EQ(c.impact, "MODERATE");
  EXPECT_EQ(c.symbol, "BRCA1");
  EXPECT_EQ(c.hgnc_id, "HGNC:1100");
  EXPECT_EQ(c.feature, "ENST00000357654.9");
  EXPECT_EQ(c.hgvsc, "ENST00000357654.9:c.2612C>T");
  EXPECT_EQ(c.hgvsp, "ENSP00000350283.3:p.Pro871Leu");
  EXPECT_EQ(c.canonical, "YES");
  EXPECT_EQ(c.mane_select, "NM_007294.4");
  EXPECT_EQ(c.values[reader_.header().CsqIndex("Existing_variation")],
            "rs799917");
  EXPECT_EQ(csq[1].symbol, "NBR2");
  EXPECT_EQ(csq[1].values[reader_.header().CsqIndex("DISTANCE")], "2000");

  Consequence m = c.ToConsequence();
  ASSERT_EQ(m.terms.size(), 1u);
  EXPECT_EQ(m.terms[0].system, "http://www.sequenceontology.org");
  EXPECT_EQ(m.terms[0].code, "SO:0001583");
  EXPECT_EQ(m.terms[0].display, "missense_variant");
  EXPECT_EQ(m.gene_symbol, "BRCA1");
  EXPECT_EQ(m.hgnc_id, "HGNC:1100");
  EXPECT_EQ(m.transcript, "ENST00000357654.9");
  EXPECT_EQ(m.hgvs_c, "ENST00000357654.9:c.2612C>T");
  EXPECT_EQ(m.impact, "MODERATE");
}

TEST_F(VepFileTest, MultiAllelicIndelMatchesTrimmedAlleles) {
  Next();
  Next();
  ASSERT_EQ(rec_.num_alts(), 2u);
  AlleleView del = rec_.Allele(1);
  AlleleView ins = rec_.Allele(2);
  EXPECT_EQ(del.VepAllele(), "-");
  EXPECT_EQ(ins.VepAllele(), "AA");
  std::vector<VepConsequence> d = del.Csq();
  std::vector<VepConsequence> i = ins.Csq();
  ASSERT_EQ(d.size(), 1u);
  ASSERT_EQ(i.size(), 1u);
  EXPECT_EQ(d[0].hgvsc, "ENST00000003084.11:c.1521del");
  EXPECT_EQ(i[0].hgvsc, "ENST00000003084.11:c.1521dup");
  EXPECT_THAT(i[0].terms,
              ElementsAre("frameshift_variant", "splice_region_variant"));
  Consequence ic = i[0].ToConsequence();
  ASSERT_EQ(ic.terms.size(), 2u);
  EXPECT_EQ(ic.terms[0].code, "SO:0001589");
  EXPECT_EQ(ic.terms[1].code, "SO:0001630");
  // Per-allele depths and fractions.
  EXPECT_EQ(del.Call(0).alt_depth, 8);
  EXPECT_EQ(ins.Call(0).alt_depth, 6);
  EXPECT_EQ(del.Call(0).ref_depth, 10);
  EXPECT_EQ(del.Call(0).allele_fraction_text, "0.33");
  EXPECT_EQ(ins.Call(0).allele_fraction_text, "0.25");
  EXPECT_EQ(rec_.Csq().size(), 2u);  // record level: all
}

TEST_F(VepFileTest, HgvspIsPercentDecoded) {
  for (int k = 0; k < 3; ++k) Next();
  std::vector<VepConsequence> csq = rec_.Allele(1).Csq();
  ASSERT_EQ(csq.size(), 1u);
  EXPECT_EQ(csq[0].hgvsp, "ENSP00000269305.4:p.Pro36=");
  EXPECT_EQ(csq[0].ToConsequence().terms[0].code, "SO:0001819");
  EXPECT_EQ(csq[0].impact, "LOW");
}

TEST_F(VepFileTest, MultiAllelicSnvMatchesByAlt) {
  for (int k = 0; k < 4; ++k) Next();
  std::vector<VepConsequence> t = rec_.Allele(1).Csq();
  std::vector<VepConsequence> g = rec_.Allele(2).Csq();
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(t[0].hgvsp, "ENSP00000269305.4:p.Arg175His");
  EXPECT_EQ(g[0].hgvsp, "ENSP00000269305.4:p.Arg175Pro");
}

TEST_F(VepFileTest, SpliceAcceptorDeletion) {
  for (int k = 0; k < 5; ++k) Next();
  std::vector<VepConsequence> csq = rec_.Allele(1).Csq();
  ASSERT_EQ(csq.size(), 1u);
  EXPECT_EQ(csq[0].allele, "-");
  EXPECT_EQ(csq[0].intron, "22/22");
  Consequence c = csq[0].ToConsequence();
  EXPECT_EQ(c.terms[0].code, "SO:0001574");
  EXPECT_EQ(c.terms[1].code, "SO:0001627");
  EXPECT_EQ(c.hgvs_p, "");
}

TEST(CsqTest, AlleleNumTakesPrecedence) {
  std::string text =
      "##fileformat=VCFv4.2\n"
      "##INFO=<ID=CSQ,Number=.,Type=String,Description=\"Consequence "
      "annotations from Ensembl VEP. Format: "
      "Allele|Consequence|IMPACT|SYMBOL|ALLELE_NUM\">\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
      // VEP --minimal alleles that the default rule would not match.
      "1\t10\t.\tGAC\tG,GC\t.\t.\tCSQ=AC|inframe_deletion|MODERATE|X|1,"
      "A|frameshift_variant|HIGH|X|2\n";
  VcfReader r;
  ASSERT_TRUE(r.OpenString(text).ok());
  VcfRecord rec;
  ASSERT_TRUE(*r.Next(&rec));
  std::vector<VepConsequence> a1 = rec.Allele(1).Csq();
  std::vector<VepConsequence> a2 = rec.Allele(2).Csq();
  ASSERT_EQ(a1.size(), 1u);
  ASSERT_EQ(a2.size(), 1u);
  EXPECT_EQ(a1[0].allele_num, 1);
  EXPECT_THAT(a1[0].terms, ElementsAre("inframe_deletion"));
  EXPECT_THAT(a2[0].terms, ElementsAre("frameshift_variant"));
}

TEST(CsqTest, ShortAndEmptyEntries) {
  std::vector<std::string> fields = {"Allele", "Consequence", "IMPACT",
                                     "SYMBOL"};
  std::vector<VepConsequence> v = ParseCsq("A|stop_gained,,G", fields);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].symbol, "");
  EXPECT_EQ(v[0].values.size(), 4u);
  EXPECT_EQ(v[1].allele, "G");
  EXPECT_TRUE(v[1].terms.empty());
  EXPECT_TRUE(ParseCsq(".", fields).empty());
  // More values than fields are kept in `values`.
  EXPECT_EQ(ParseCsqEntry("A|b|c|d|e|f", fields).values.size(), 6u);
  // HGNC ids without the prefix (older VEP) are normalised.
  EXPECT_EQ(ParseCsqEntry("A|x|y", {"Allele", "HGNC_ID", "SYMBOL"}).hgnc_id,
            "HGNC:x");
}

TEST(AnnTest, SnpEffFile) {
  VcfReader r;
  ASSERT_TRUE(r.OpenFile(VcfPath("snpeff.vcf")).ok()) << r.error().Message();
  EXPECT_EQ(r.header().build(), GenomeBuild::kGRCh37);  // ##reference=hg19
  VcfRecord rec;
  ASSERT_TRUE(*r.Next(&rec));
  std::vector<SnpEffAnnotation> ann = rec.Allele(1).Ann();
  ASSERT_EQ(ann.size(), 1u);
  const SnpEffAnnotation& a = ann[0];
  EXPECT_EQ(a.allele, "T");
  EXPECT_THAT(a.effects, ElementsAre("conservative_inframe_deletion"));
  EXPECT_EQ(a.impact, "MODERATE");
  EXPECT_EQ(a.gene_name, "RPE65");
  EXPECT_EQ(a.feature_type, "transcript");
  EXPECT_EQ(a.feature_id, "NM_000329.2");
  EXPECT_EQ(a.biotype, "protein_coding");
  EXPECT_EQ(a.rank, "3/14");
  EXPECT_EQ(a.hgvs_c, "c.106_114delCTCTGGCTC");
  EXPECT_EQ(a.hgvs_p, "p.Leu36_Leu38del");
  EXPECT_EQ(a.cds_pos, "106/1602");
  Consequence c = a.ToConsequence();
  EXPECT_EQ(c.terms[0].code, "SO:0001825");
  EXPECT_EQ(c.transcript, "NM_000329.2");
  EXPECT_EQ(c.hgvs_c, "NM_000329.2:c.106_114delCTCTGGCTC");
  EXPECT_EQ(c.gene_symbol, "RPE65");

  ASSERT_TRUE(*r.Next(&rec));
  std::vector<SnpEffAnnotation> for_c = rec.Allele(1).Ann();
  std::vector<SnpEffAnnotation> for_g = rec.Allele(2).Ann();
  ASSERT_EQ(for_c.size(), 2u);
  ASSERT_EQ(for_g.size(), 1u);
  EXPECT_THAT(for_c[0].effects, ElementsAre("missense_variant"));
  EXPECT_THAT(for_c[1].effects, ElementsAre("upstream_gene_variant"));
  EXPECT_EQ(for_c[1].distance, "500");
  EXPECT_THAT(for_g[0].effects, ElementsAre("stop_gained"));
  EXPECT_EQ(for_g[0].ToConsequence().terms[0].code, "SO:0001587");
  EXPECT_EQ(rec.Ann().size(), 3u);
}

}  // namespace
}  // namespace genogate::mappers::vcf

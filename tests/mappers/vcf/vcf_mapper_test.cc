// VCF -> GenomicReportInput on the test VCFs: coordinates, zygosity,
// frequencies, phasing, annotations, ClinVar, filters, and errors.
#include "mappers/vcf/vcf_mapper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/test_env.h"

namespace genogate::mappers::vcf {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string VcfPath(const std::string& name) {
  return genogate::testing::DataDir() + "/vcf/" + name;
}

GenomicReportInput MustMap(const std::string& name, VcfMapOptions o = {}) {
  Result<GenomicReportInput> in = MapVcfFile(VcfPath(name), o);
  EXPECT_TRUE(in.ok()) << in.error().message();
  return in.ok() ? std::move(in).value() : GenomicReportInput{};
}

const VariantCall* At(const GenomicReportInput& in, std::string_view chrom,
                      int64_t start0, std::string_view alt = "") {
  for (const VariantCall& v : in.variants) {
    if (v.chromosome == chrom && v.start == start0 &&
        (alt.empty() || v.alt_allele == alt || v.symbolic_alt == alt)) {
      return &v;
    }
  }
  return nullptr;
}

TEST(VcfMapperTest, SnvAndIndelCalls) {
  VcfMapOptions o;
  o.patient = {"urn:oid:1.2", "MRN-1"};
  o.accession = {"urn:oid:1.3", "ACC-1"};
  o.source_class = "germline";
  GenomicReportInput in = MustMap("snv_indel.vcf", o);
  EXPECT_EQ(in.build, "GRCh38");  // from the header
  EXPECT_EQ(in.sample_name, "SAMPLE1");
  EXPECT_EQ(in.patient.value, "MRN-1");

  const VariantCall* snv = At(in, "1", 999);
  ASSERT_NE(snv, nullptr);
  EXPECT_EQ(snv->end, 1000);
  EXPECT_EQ(snv->ref_allele, "A");
  EXPECT_EQ(snv->alt_allele, "G");
  EXPECT_EQ(snv->genomic_ref_seq, "NC_000001.11");
  EXPECT_EQ(snv->allelic_state.code, "LA6706-1");
  EXPECT_EQ(snv->allele_frequency, "0.5000");  // as written
  EXPECT_EQ(snv->read_depth, 30);
  EXPECT_EQ(snv->allele_read_depth, 15);
  EXPECT_EQ(snv->variant_type.code, "SO:0001483");
  EXPECT_EQ(snv->genomic_source_class.code, "LA6683-2");
  ASSERT_EQ(snv->variation_codes.size(), 1u);
  EXPECT_EQ(snv->variation_codes[0].code, "rs123");
  EXPECT_EQ(snv->source_location, "line 21");

  const VariantCall* hom = At(in, "1", 1999);
  ASSERT_NE(hom, nullptr);
  EXPECT_EQ(hom->allelic_state.code, "LA6705-3");
  EXPECT_EQ(hom->end, 2001);
  EXPECT_EQ(hom->variant_type.code, "SO:0002007");  // AT>GC: MNV

  const VariantCall* del = At(in, "1", 10999);
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(del->end, 11003);
  EXPECT_EQ(del->variant_type.code, "SO:0000159");

  // Multi-allelic 1/2: two calls, each heterozygous.
  EXPECT_NE(At(in, "1", 3999, "C"), nullptr);
  EXPECT_NE(At(in, "1", 3999, "G"), nullptr);
  EXPECT_EQ(At(in, "1", 3999, "G")->allelic_state.code, "LA6706-1");
  // 0/1 with ALTs A,C: only A is in the sample.
  EXPECT_NE(At(in, "1", 4999, "A"), nullptr);
  EXPECT_EQ(At(in, "1", 4999, "C"), nullptr);
  // Haploid X call: hemizygous.
  ASSERT_NE(At(in, "X", 5999), nullptr);
  EXPECT_EQ(At(in, "X", 5999)->allelic_state.code, "LA6707-9");
  // No call: not a variant of the sample.
  EXPECT_EQ(At(in, "17", 7999), nullptr);
}

TEST(VcfMapperTest, PhaseSetsGiveTransRelation) {
  GenomicReportInput in = MustMap("snv_indel.vcf");
  const VariantCall* ins = At(in, "1", 2999);
  const VariantCall* del = At(in, "1", 3049);
  ASSERT_NE(ins, nullptr);
  ASSERT_NE(del, nullptr);
  EXPECT_TRUE(ins->phased);
  EXPECT_EQ(ins->phase_set, "3000");
  ASSERT_EQ(in.phase_relations.size(), 1u);
  const PhaseRelation& p = in.phase_relations[0];
  EXPECT_EQ(&in.variants[p.first], ins);
  EXPECT_EQ(&in.variants[p.second], del);
  EXPECT_EQ(p.relationship, "Trans");  // 0|1 and 1|0
}

// Phased pairs: the same haplotypes (Cis), disjoint ones (Trans), a
// triploid overlap (Indeterminate); homozygous calls, other phase sets and
// another chromosome are not paired.
TEST(VcfMapperTest, PhasedPairsCisTransIndeterminate) {
  const std::string vcf =
      "##fileformat=VCFv4.2\n##reference=GRCh38\n"
      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
      "##FORMAT=<ID=PS,Number=1,Type=Integer,Description=\"Phase set\">\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
      "1\t100\t.\tA\tG\t50\tPASS\t.\tGT:PS\t0|1:100\n"
      "1\t120\t.\tC\tT\t50\tPASS\t.\tGT:PS\t0|1:100\n"    // Cis with 100
      "1\t130\t.\tG\tA\t50\tPASS\t.\tGT:PS\t1|0:100\n"    // Trans with both
      "1\t140\t.\tT\tC\t50\tPASS\t.\tGT:PS\t1|1:100\n"    // homozygous
      "1\t150\t.\tT\tC\t50\tPASS\t.\tGT:PS\t0|1:900\n"    // other set
      "1\t160\t.\tA\tC\t50\tPASS\t.\tGT:PS\t0/1:100\n"    // unphased
      "2\t100\t.\tA\tG\t50\tPASS\t.\tGT:PS\t0|1:100\n"    // other chromosome
      "2\t110\t.\tA\tG\t50\tPASS\t.\tGT:PS\t1|1|0:100\n"  // triploid
      "2\t120\t.\tA\tG\t50\tPASS\t.\tGT:PS\t0|1|1:100\n";
  VcfMapOptions o;
  Result<GenomicReportInput> in = MapVcfString(vcf, o);
  ASSERT_TRUE(in.ok()) << in.error().message();
  ASSERT_EQ(in->variants.size(), 9u);
  std::vector<std::string> pairs;
  for (const PhaseRelation& p : in->phase_relations) {
    pairs.push_back(std::to_string(*in->variants[p.first].start + 1) + "-" +
                    std::to_string(*in->variants[p.second].start + 1) + " " +
                    in->variants[p.first].chromosome + " " + p.relationship);
  }
  EXPECT_EQ(pairs, (std::vector<std::string>{
                       "100-120 1 Cis", "100-130 1 Trans", "120-130 1 Trans",
                       "100-110 2 Indeterminate", "100-120 2 Indeterminate",
                       "110-120 2 Indeterminate"}));
}

// At most 1024 phase sets open on a chromosome: set 0 and 1..1024 opened,
// set 0 used again after 1024 others (so closed: no pair) and set 1024 used
// again while open (a pair).
TEST(VcfMapperTest, OpenPhaseSetsAreBounded) {
  std::string vcf =
      "##fileformat=VCFv4.2\n##reference=GRCh38\n"
      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
      "##FORMAT=<ID=PS,Number=1,Type=Integer,Description=\"Phase set\">\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n";
  int pos = 100;
  auto record = [&](int set) {
    vcf += "1\t" + std::to_string(pos++) +
           "\t.\tA\tG\t50\tPASS\t.\tGT:PS\t0|1:" + std::to_string(set) + "\n";
  };
  for (int set = 0; set <= 1024; ++set) record(set);
  record(0);
  record(1024);
  Result<GenomicReportInput> in = MapVcfString(vcf, VcfMapOptions{});
  ASSERT_TRUE(in.ok()) << in.error().message();
  ASSERT_EQ(in->variants.size(), 1027u);
  ASSERT_EQ(in->phase_relations.size(), 1u);
  EXPECT_EQ(in->phase_relations[0].first, 1024u);
  EXPECT_EQ(in->phase_relations[0].second, 1026u);
  EXPECT_EQ(in->phase_relations[0].relationship, "Cis");
}

TEST(VcfMapperTest, PassOnlyAndRegions) {
  GenomicReportInput all = MustMap("snv_indel.vcf");
  VcfMapOptions o;
  o.pass_only = true;
  GenomicReportInput pass = MustMap("snv_indel.vcf", o);
  EXPECT_EQ(At(pass, "1", 4999), nullptr);  // LowQual
  EXPECT_EQ(pass.variants.size(), all.variants.size() - 1);

  VcfMapOptions r;
  Result<RegionSet> bed = RegionSet::ReadFile(VcfPath("bed/panel.bed"));
  ASSERT_TRUE(bed.ok()) << bed.error().message();
  r.regions = *bed;
  r.studied = *bed;
  GenomicReportInput in = MustMap("snv_indel.vcf", r);
  // chr1 999-1001 and 1000-2000 keep POS 1000 and 2000; chrM keeps 7000.
  ASSERT_EQ(in.variants.size(), 3u);
  EXPECT_NE(At(in, "1", 999), nullptr);
  EXPECT_NE(At(in, "1", 1999), nullptr);
  EXPECT_NE(At(in, "MT", 6999), nullptr);
  EXPECT_EQ(in.regions_studied.size(), bed->size());
  EXPECT_EQ(in.regions_studied[0].chromosome, "17");
  EXPECT_EQ(in.regions_studied[0].start, 43044294);
}

TEST(VcfMapperTest, VepCanonicalConsequence) {
  GenomicReportInput in = MustMap("vep.vcf");
  EXPECT_EQ(in.build, "GRCh38");
  const VariantCall* brca1 = At(in, "17", 43094463);
  ASSERT_NE(brca1, nullptr);
  EXPECT_EQ(brca1->gene_symbol, "BRCA1");
  EXPECT_EQ(brca1->hgnc_id, "HGNC:1100");
  EXPECT_EQ(brca1->hgvs_c, "ENST00000357654.9:c.2612C>T");
  EXPECT_EQ(brca1->hgvs_p, "ENSP00000350283.3:p.Pro871Leu");
  ASSERT_GE(brca1->consequences.size(), 2u);
  EXPECT_EQ(brca1->consequences[0].terms[0].code, "SO:0001583");
  const VariantCall* tp53 = At(in, "17", 7676153);
  ASSERT_NE(tp53, nullptr);
  EXPECT_EQ(tp53->hgvs_p, "ENSP00000269305.4:p.Pro36=");
}

TEST(VcfMapperTest, SnpEffAnnotations) {
  VcfMapOptions o;
  o.build = "GRCh37";
  GenomicReportInput in = MustMap("snpeff.vcf", o);
  const VariantCall* v = At(in, "1", 68912522);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->gene_symbol, "RPE65");
  EXPECT_EQ(v->hgvs_c, "NM_000329.2:c.106_114delCTCTGGCTC");
  EXPECT_EQ(v->genomic_ref_seq, "NC_000001.10");
}

TEST(VcfMapperTest, ClinVarClassification) {
  GenomicReportInput in = MustMap("clinvar.vcf");
  EXPECT_EQ(in.build, "GRCh37");
  ASSERT_EQ(in.variants.size(), 3u);  // sites-only: every ALT
  const VariantCall& brca1 = in.variants[0];
  EXPECT_TRUE(brca1.allelic_state.empty());
  ASSERT_EQ(brca1.classifications.size(), 1u);
  const Classification& c = brca1.classifications[0];
  EXPECT_EQ(c.clinical_significance.code, "LA6668-3");
  EXPECT_EQ(c.source, "ClinVar");
  EXPECT_EQ(c.review_status,
            "criteria provided, multiple submitters, no conflicts");
  ASSERT_EQ(c.conditions.size(), 2u);
  EXPECT_EQ(c.conditions[0].display, "Breast-ovarian cancer, familial 1");
  EXPECT_EQ(brca1.hgvs_g, "NC_000017.10:g.41245466G>A");
  ASSERT_EQ(brca1.variation_codes.size(), 2u);
  EXPECT_EQ(brca1.variation_codes[0].code, "rs80357906");
  EXPECT_EQ(brca1.variation_codes[1].code, "55555");
  EXPECT_EQ(in.variants[1].classifications[0].clinical_significance.code,
            "LA26332-9");
  // Not one of the five terms: text only.
  const Coding& conflicting =
      in.variants[2].classifications[0].clinical_significance;
  EXPECT_EQ(conflicting.code, "");
  EXPECT_THAT(conflicting.display, HasSubstr("Conflicting"));
}

TEST(VcfMapperTest, ClinicalSignificanceTable) {
  EXPECT_EQ(ClinicalSignificance("Pathogenic").code, "LA6668-3");
  EXPECT_EQ(ClinicalSignificance("Likely_pathogenic").code, "LA26332-9");
  EXPECT_EQ(ClinicalSignificance("Uncertain_significance").code, "LA26333-7");
  EXPECT_EQ(ClinicalSignificance("Likely_benign").code, "LA26334-5");
  EXPECT_EQ(ClinicalSignificance("Benign").code, "LA6675-8");
  EXPECT_EQ(ClinicalSignificance("Pathogenic/Likely_pathogenic").code, "");
}

TEST(VcfMapperTest, StructuralVariantCoordinates) {
  GenomicReportInput in = MustMap("sv.vcf");
  EXPECT_EQ(in.build, "GRCh37");
  const VariantCall* del = At(in, "1", 10000, "<DEL>");
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(del->end, 15000);
  EXPECT_EQ(del->outer_start, 9950);
  EXPECT_EQ(del->inner_start, 10050);
  EXPECT_EQ(del->inner_end, 14970);
  EXPECT_EQ(del->outer_end, 15030);
  EXPECT_EQ(del->copy_number, 1);
  EXPECT_EQ(del->structural_type, "DEL");
  EXPECT_EQ(del->variant_type.code, "SO:0000159");
  const VariantCall* dup = At(in, "1", 20000, "<DUP>");
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->variant_type.code, "SO:1000035");
  EXPECT_EQ(dup->copy_number, 3);
  const VariantCall* ins = At(in, "1", 70000, "<INS>");
  ASSERT_NE(ins, nullptr);
  EXPECT_EQ(ins->end, 70000);
  EXPECT_EQ(ins->allelic_state.code, "LA6705-3");
}

TEST(VcfMapperTest, StreamingApiMatchesCollect) {
  VcfMapper mapper({});
  ASSERT_TRUE(mapper.OpenFile(VcfPath("snv_indel.vcf")).ok());
  EXPECT_EQ(mapper.report().build, "GRCh38");
  size_t n = 0;
  VariantCall call;
  while (true) {
    Result<bool> more = mapper.Next(&call);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ++n;
  }
  EXPECT_EQ(n, MustMap("snv_indel.vcf").variants.size());
  EXPECT_EQ(mapper.calls_returned(), n);
}

TEST(VcfMapperTest, Errors) {
  const std::string header =
      "##fileformat=VCFv4.2\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPATIENT_NAME_X\n";
  // No build anywhere.
  VcfError where;
  Result<GenomicReportInput> r = MapVcfString(
      header + "1\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n", {}, nullptr, &where);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("genome build"));

  VcfMapOptions o;
  o.build = "GRCh38";
  o.sample = "nobody";
  r = MapVcfString(header, o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), Not(HasSubstr("nobody")));

  // A malformed data line: the error names the line.
  o.sample.clear();
  r = MapVcfString(header + "1\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n" +
                       "1\tx\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n",
                   o, nullptr, &where);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(where.line, 4u);
  EXPECT_THAT(r.error().message(), HasSubstr("line 4"));

  // keep_going: the bad line is skipped and reported.
  o.keep_going = true;
  std::vector<VcfError> skipped;
  r = MapVcfString(header + "1\tx\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n" +
                       "1\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n",
                   o, &skipped);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->variants.size(), 1u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].line, 3u);
}

}  // namespace
}  // namespace genogate::mappers::vcf

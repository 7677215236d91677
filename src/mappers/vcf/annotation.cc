#include "mappers/vcf/annotation.h"

#include <algorithm>
#include <array>

#include "mappers/vcf/text_util.h"

namespace genogate::mappers::vcf {
namespace {

struct SoEntry {
  std::string_view term;
  std::string_view accession;
};

// Sorted by term (byte order) for binary search; a static_assert below
// checks the order. VEP terms from Ensembl's Constants.pm
// (%OVERLAP_CONSEQUENCES); newer VEP splice terms and SnpEff-only terms from
// the Sequence Ontology.
constexpr std::array<SoEntry, 55> kSoTerms = {{
    {"3_prime_UTR_truncation", "SO:0002015"},
    {"3_prime_UTR_variant", "SO:0001624"},
    {"5_prime_UTR_premature_start_codon_gain_variant", "SO:0001988"},
    {"5_prime_UTR_truncation", "SO:0002013"},
    {"5_prime_UTR_variant", "SO:0001623"},
    {"NMD_transcript_variant", "SO:0001621"},
    {"TFBS_ablation", "SO:0001895"},
    {"TFBS_amplification", "SO:0001892"},
    {"TF_binding_site_variant", "SO:0001782"},
    {"bidirectional_gene_fusion", "SO:0002086"},
    {"coding_sequence_variant", "SO:0001580"},
    {"coding_transcript_variant", "SO:0001968"},
    {"conservative_inframe_deletion", "SO:0001825"},
    {"conservative_inframe_insertion", "SO:0001823"},
    {"disruptive_inframe_deletion", "SO:0001826"},
    {"disruptive_inframe_insertion", "SO:0001824"},
    {"downstream_gene_variant", "SO:0001632"},
    {"exon_loss_variant", "SO:0001572"},
    {"exon_variant", "SO:0001791"},
    {"feature_elongation", "SO:0001907"},
    {"feature_truncation", "SO:0001906"},
    {"frameshift_variant", "SO:0001589"},
    {"gene_fusion", "SO:0001565"},
    {"incomplete_terminal_codon_variant", "SO:0001626"},
    {"inframe_deletion", "SO:0001822"},
    {"inframe_insertion", "SO:0001821"},
    {"initiator_codon_variant", "SO:0001582"},
    {"intergenic_region", "SO:0000605"},
    {"intergenic_variant", "SO:0001628"},
    {"intragenic_variant", "SO:0002011"},
    {"intron_variant", "SO:0001627"},
    {"mature_miRNA_variant", "SO:0001620"},
    {"missense_variant", "SO:0001583"},
    {"non_coding_transcript_exon_variant", "SO:0001792"},
    {"non_coding_transcript_variant", "SO:0001619"},
    {"protein_altering_variant", "SO:0001818"},
    {"regulatory_region_ablation", "SO:0001894"},
    {"regulatory_region_amplification", "SO:0001891"},
    {"regulatory_region_variant", "SO:0001566"},
    {"sequence_variant", "SO:0001060"},
    {"splice_acceptor_variant", "SO:0001574"},
    {"splice_donor_5th_base_variant", "SO:0001787"},
    {"splice_donor_region_variant", "SO:0002170"},
    {"splice_donor_variant", "SO:0001575"},
    {"splice_polypyrimidine_tract_variant", "SO:0002169"},
    {"splice_region_variant", "SO:0001630"},
    {"start_lost", "SO:0002012"},
    {"start_retained_variant", "SO:0002019"},
    {"stop_gained", "SO:0001587"},
    {"stop_lost", "SO:0001578"},
    {"stop_retained_variant", "SO:0001567"},
    {"synonymous_variant", "SO:0001819"},
    {"transcript_ablation", "SO:0001893"},
    {"transcript_amplification", "SO:0001889"},
    {"upstream_gene_variant", "SO:0001631"},
}};

constexpr bool IsSorted() {
  for (size_t i = 1; i < kSoTerms.size(); ++i) {
    if (!(kSoTerms[i - 1].term < kSoTerms[i].term)) return false;
  }
  return true;
}
static_assert(IsSorted(), "kSoTerms must be sorted by term");

std::vector<std::string> SplitTerms(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  ForEachSplit(s, '&', [&](std::string_view t) {
    if (!t.empty()) out.emplace_back(t);
  });
  return out;
}

std::string NormaliseHgnc(std::string_view id) {
  if (id.empty()) return "";
  if (id.substr(0, 5) == "HGNC:") return std::string(id);
  return "HGNC:" + std::string(id);
}

std::vector<Coding> SoCodings(const std::vector<std::string>& terms) {
  std::vector<Coding> out;
  for (const std::string& t : terms) {
    Coding c;
    c.system = std::string(kSequenceOntologySystem);
    if (auto acc = SoAccession(t)) c.code = std::string(*acc);
    c.display = t;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::optional<std::string_view> SoAccession(std::string_view term) {
  auto it = std::lower_bound(
      kSoTerms.begin(), kSoTerms.end(), term,
      [](const SoEntry& e, std::string_view t) { return e.term < t; });
  if (it != kSoTerms.end() && it->term == term) return it->accession;
  return std::nullopt;
}

const std::vector<std::string>& DefaultCsqFields() {
  static const std::vector<std::string> kFields = {
      "Allele",  "Consequence", "IMPACT", "SYMBOL", "Gene",  "Feature_type",
      "Feature", "BIOTYPE",     "EXON",   "INTRON", "HGVSc", "HGVSp"};
  return kFields;
}

VepConsequence ParseCsqEntry(std::string_view entry,
                             const std::vector<std::string>& fields) {
  VepConsequence c;
  size_t i = 0;
  ForEachSplit(entry, '|', [&](std::string_view raw) {
    std::string v = raw.find('%') == std::string_view::npos
                        ? std::string(raw)
                        : PercentDecode(raw);
    if (i < fields.size()) {
      const std::string& name = fields[i];
      if (name == "Allele") {
        c.allele = v;
      } else if (name == "Consequence") {
        c.terms = SplitTerms(v);
      } else if (name == "IMPACT") {
        c.impact = v;
      } else if (name == "SYMBOL") {
        c.symbol = v;
      } else if (name == "Gene") {
        c.gene = v;
      } else if (name == "Feature_type") {
        c.feature_type = v;
      } else if (name == "Feature") {
        c.feature = v;
      } else if (name == "BIOTYPE") {
        c.biotype = v;
      } else if (name == "EXON") {
        c.exon = v;
      } else if (name == "INTRON") {
        c.intron = v;
      } else if (name == "HGVSc") {
        c.hgvsc = v;
      } else if (name == "HGVSp") {
        c.hgvsp = v;
      } else if (name == "HGNC_ID") {
        c.hgnc_id = NormaliseHgnc(v);
      } else if (name == "CANONICAL") {
        c.canonical = v;
      } else if (name == "MANE_SELECT") {
        c.mane_select = v;
      } else if (name == "ALLELE_NUM") {
        int64_t n = 0;
        if (ParseInt64(v, &n) && n >= 0 && n < (int64_t{1} << 30)) {
          c.allele_num = static_cast<int>(n);
        }
      }
    }
    c.values.push_back(std::move(v));
    ++i;
  });
  if (c.values.size() < fields.size()) c.values.resize(fields.size());
  return c;
}

std::vector<VepConsequence> ParseCsq(std::string_view value,
                                     const std::vector<std::string>& fields) {
  std::vector<VepConsequence> out;
  if (value.empty() || value == ".") return out;
  ForEachSplit(value, ',', [&](std::string_view e) {
    if (!e.empty()) out.push_back(ParseCsqEntry(e, fields));
  });
  return out;
}

SnpEffAnnotation ParseAnnEntry(std::string_view entry) {
  SnpEffAnnotation a;
  std::string* slots[] = {
      &a.allele,  nullptr,         &a.impact,     &a.gene_name,
      &a.gene_id, &a.feature_type, &a.feature_id, &a.biotype,
      &a.rank,    &a.hgvs_c,       &a.hgvs_p,     &a.cdna_pos,
      &a.cds_pos, &a.aa_pos,       &a.distance,   &a.messages};
  size_t i = 0;
  ForEachSplit(entry, '|', [&](std::string_view raw) {
    std::string v = raw.find('%') == std::string_view::npos
                        ? std::string(raw)
                        : PercentDecode(raw);
    if (i == 1) {
      a.effects = SplitTerms(v);
    } else if (i < std::size(slots)) {
      *slots[i] = std::move(v);
    }
    ++i;
  });
  return a;
}

std::vector<SnpEffAnnotation> ParseAnn(std::string_view value) {
  std::vector<SnpEffAnnotation> out;
  if (value.empty() || value == ".") return out;
  ForEachSplit(value, ',', [&](std::string_view e) {
    if (!e.empty()) out.push_back(ParseAnnEntry(e));
  });
  return out;
}

Consequence VepConsequence::ToConsequence() const {
  Consequence c;
  c.terms = SoCodings(terms);
  c.impact = impact;
  c.gene_symbol = symbol;
  c.hgnc_id = hgnc_id;
  c.transcript = feature_type.empty() || feature_type == "Transcript"
                     ? feature
                     : std::string();
  c.hgvs_c = hgvsc;
  c.hgvs_p = hgvsp;
  c.feature_type = feature_type;
  return c;
}

Consequence SnpEffAnnotation::ToConsequence() const {
  Consequence c;
  c.terms = SoCodings(effects);
  c.impact = impact;
  c.gene_symbol = gene_name;
  c.transcript = feature_type == "transcript" ? feature_id : std::string();
  c.hgvs_c = hgvs_c;
  if (!hgvs_c.empty() && hgvs_c.find(':') == std::string::npos &&
      !c.transcript.empty()) {
    c.hgvs_c = c.transcript + ":" + hgvs_c;
  }
  c.hgvs_p = hgvs_p;
  c.feature_type = feature_type;
  return c;
}

std::string_view VepStructuralAllele(std::string_view alt) {
  if (alt == "<DEL>") return "deletion";
  if (alt == "<DUP>") return "duplication";
  if (alt == "<DUP:TANDEM>") return "tandem_duplication";
  if (alt == "<INS>") return "insertion";
  if (alt == "<INV>") return "inversion";
  if (alt == "<CNV>") return "copy_number_variation";
  return "";
}

std::string VepAlleleString(std::string_view ref,
                            const std::vector<std::string_view>& alts,
                            size_t allele_index) {
  if (allele_index == 0 || allele_index > alts.size()) return "";
  std::string_view alt = alts[allele_index - 1];
  if (!IsBases(alt) || ref.empty()) return std::string(alt);
  bool is_indel = false;
  for (std::string_view a : alts) {
    if (IsBases(a) && a.size() != ref.size()) is_indel = true;
  }
  if (!is_indel) return std::string(alt);
  auto upper = [](char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  };
  const char first = upper(ref[0]);
  for (std::string_view a : alts) {
    if (a == "*") continue;
    if (!IsBases(a) || upper(a[0]) != first) return std::string(alt);
  }
  std::string_view stripped = alt.substr(1);
  return stripped.empty() ? "-" : std::string(stripped);
}

}  // namespace genogate::mappers::vcf

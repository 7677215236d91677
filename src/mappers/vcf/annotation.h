// Functional annotations carried in VCF INFO: Ensembl VEP "CSQ" and SnpEff
// "ANN", plus the Sequence Ontology term -> accession map for consequences.
//
// Values are percent-decoded (VEP writes "p.Leu36%3D" for "p.Leu36=").
// Use AlleleView::Csq()/Ann() (vcf_record.h) to get only the entries of one
// ALT allele; the functions here parse a whole INFO value.
//
// Thread-safety: pure functions and value types.
#ifndef GENOGATE_MAPPERS_VCF_ANNOTATION_H_
#define GENOGATE_MAPPERS_VCF_ANNOTATION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mappers/common/genomic_report.h"

namespace genogate::mappers::vcf {

// "http://www.sequenceontology.org".
inline constexpr std::string_view kSequenceOntologySystem =
    "http://www.sequenceontology.org";

// The SO accession of a consequence term used by VEP or SnpEff, e.g.
// "missense_variant" -> "SO:0001583". nullopt for terms not in the table
// (the table covers every VEP consequence and SnpEff's extra terms; the
// values were checked against Ensembl's Bio::EnsEMBL::Variation::Utils::
// Constants and the SnpEff documentation).
std::optional<std::string_view> SoAccession(std::string_view term);

// One VEP CSQ entry (one allele x one feature).
struct VepConsequence {
  std::string allele;              // VEP's allele ("-" for a deletion)
  std::vector<std::string> terms;  // Consequence, split on '&'
  std::string impact;              // HIGH | MODERATE | LOW | MODIFIER
  std::string symbol;              // SYMBOL
  std::string gene;                // Gene (ENSG... / Entrez id)
  std::string feature_type;        // Transcript, RegulatoryFeature, ...
  std::string feature;             // ENST... / NM_...
  std::string biotype;
  std::string exon, intron;       // "3/14"
  std::string hgvsc;              // "ENST00000357654.9:c.5266dup"
  std::string hgvsp;              // decoded: "ENSP...:p.Leu36="
  std::string hgnc_id;            // normalised to "HGNC:1100"
  std::string canonical;          // CANONICAL ("YES" or "")
  std::string mane_select;        // MANE_SELECT (NM_... when given)
  std::optional<int> allele_num;  // ALLELE_NUM (1-based ALT index)
  // Every sub-field, decoded, in the order of the header's Format list.
  std::vector<std::string> values;

  // The neutral model's Consequence: SO codings (code "" when the term is
  // not in the table; display is the term), impact, gene, HGNC id,
  // transcript, c./p. HGVS, feature type.
  Consequence ToConsequence() const;
};

// One SnpEff ANN entry (fixed field order, ANN spec 1.0).
struct SnpEffAnnotation {
  std::string allele;                // the ALT as written
  std::vector<std::string> effects;  // Annotation, split on '&'
  std::string impact;                // Annotation_Impact
  std::string gene_name, gene_id;
  std::string feature_type, feature_id;
  std::string biotype;         // Transcript_BioType
  std::string rank;            // "3/14"
  std::string hgvs_c, hgvs_p;  // "c.106_114del", "p.Leu36_Leu38del"
  std::string cdna_pos, cds_pos, aa_pos, distance, messages;

  // As VepConsequence::ToConsequence; hgvs_c is prefixed with the
  // transcript ("NM_000329.2:c.106_114del") when SnpEff left it bare.
  Consequence ToConsequence() const;
};

// The VEP sub-field order assumed when the header has no CSQ Format list
// (VEP's default output fields).
const std::vector<std::string>& DefaultCsqFields();

// Parses a CSQ INFO value (comma-separated entries, '|'-separated fields in
// the order `fields`). Never fails: missing fields are left empty.
std::vector<VepConsequence> ParseCsq(std::string_view value,
                                     const std::vector<std::string>& fields);
// Parses one CSQ entry.
VepConsequence ParseCsqEntry(std::string_view entry,
                             const std::vector<std::string>& fields);

// Parses an ANN INFO value. Never fails.
std::vector<SnpEffAnnotation> ParseAnn(std::string_view value);
SnpEffAnnotation ParseAnnEntry(std::string_view entry);

// The allele string VEP writes in CSQ for ALT number `allele_index`
// (1-based) of a record: when any sequence ALT has a length different from
// REF (an indel) and REF and all sequence ALTs share their first base, that
// base is removed and an empty allele becomes "-" (REF=CA ALT=C -> "-",
// REF=C ALT=CTT -> "TT"). Otherwise the ALT as written. `alts` are all ALTs
// of the record.
std::string VepAlleleString(std::string_view ref,
                            const std::vector<std::string_view>& alts,
                            size_t allele_index);

// VEP's allele for a structural-variant symbolic ALT: "<DEL>" ->
// "deletion", "<DUP>" -> "duplication", "<DUP:TANDEM>" ->
// "tandem_duplication", "<INS>" -> "insertion", "<INV>" -> "inversion",
// "<CNV>" -> "copy_number_variation"; "" otherwise.
std::string_view VepStructuralAllele(std::string_view alt);

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_ANNOTATION_H_

// The neutral model every input format maps into before FHIR is built.
//
// VCF, HL7 v2 ORU^R01 and lab JSON readers each fill a GenomicReportInput
// (what the lab said, in plain terms); one builder turns it into the
// Genomics Reporting IG 3.0.0 resources. So the same variant gives the same
// FHIR whatever format it arrived in.
//
// Conventions:
// - Coordinates are stored as the IG recommends for exact-start-end:
//   0-based interval counting (LOINC LA30100-4), i.e. VCF POS-1 ..
//   POS-1+len(REF) for simple variants. `coordinate_system` records what was
//   used.
// - Text fields keep the lab's exact text (a frequency "0.4500" stays so).
// - Empty string / nullopt means "not given"; the builder omits it.
//
// Thread-safety: plain value types.
#ifndef GENOGATE_MAPPERS_COMMON_GENOMIC_REPORT_H_
#define GENOGATE_MAPPERS_COMMON_GENOMIC_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace genogate::mappers {

// A coded value: system URL, code, display.
struct Coding {
  std::string system;
  std::string code;
  std::string display;
  bool empty() const { return code.empty() && display.empty(); }
};

// An identifier "system|value".
struct IdentifierValue {
  std::string system;
  std::string value;
  bool empty() const { return value.empty(); }
};

// A component the builder does not model specifically (e.g. an unknown LOINC
// code from an HL7 v2 OBX): carried through as an Observation.component.
struct ExtraComponent {
  Coding code;          // usually LOINC
  Coding value_coding;  // one of the value_* is set
  std::string value_string;
  std::string value_quantity;  // decimal text
  std::string value_unit;      // UCUM
  std::string value_integer;
};

// Molecular consequence from VEP CSQ / SnpEff ANN / v2 (one per transcript).
struct Consequence {
  std::vector<Coding> terms;  // SO terms (http://www.sequenceontology.org)
  std::string impact;         // HIGH | MODERATE | LOW | MODIFIER
  std::string gene_symbol;
  std::string hgnc_id;       // "HGNC:1100"
  std::string transcript;    // "NM_007294.4" / "ENST..."
  std::string hgvs_c;        // "NM_007294.4:c.5266dup"
  std::string hgvs_p;        // "NP_009225.1:p.Gln1756fs"
  std::string feature_type;  // Transcript, RegulatoryFeature, ...
};

// A classification (DiagnosticImplication) from the lab or ClinVar.
struct Classification {
  // LOINC LL4034-6 answer: LA6668-3 Pathogenic, LA26332-9 Likely pathogenic,
  // LA26333-7 Uncertain significance, LA26334-5 Likely benign, LA6675-8 Benign.
  Coding clinical_significance;
  std::string source;              // "ClinVar" or the lab's name
  std::string review_status;       // ClinVar CLNREVSTAT, as text
  std::vector<Coding> conditions;  // CLNDN etc.
  std::string evidence_text;
};

struct VariantCall {
  // Where the variant is.
  std::string chromosome;       // "1".."22", "X", "Y", "MT" (no "chr")
  std::string build;            // "GRCh37" | "GRCh38"
  std::string genomic_ref_seq;  // RefSeq NC_ accession, e.g. "NC_000017.11"
  std::string coordinate_system = "0-based interval counting";
  std::optional<int64_t> start;  // per coordinate_system
  std::optional<int64_t> end;
  // Outer/inner bounds for imprecise structural variants (CIPOS/CIEND).
  std::optional<int64_t> outer_start, outer_end, inner_start, inner_end;
  std::string ref_allele;    // A/C/G/T/N sequence
  std::string alt_allele;    // sequence, or "" for symbolic alleles
  std::string symbolic_alt;  // "<DEL>", "<DUP>", "<CNV>", breakend text
  std::optional<int64_t> copy_number;
  std::string structural_type;  // SVTYPE: DEL, DUP, INV, INS, CNV, BND

  // What the variant is.
  std::string gene_symbol;
  std::string hgnc_id;
  std::string transcript_ref_seq;  // NM_...
  std::string hgvs_c;
  std::string hgvs_p;
  std::string hgvs_g;
  Coding variant_type;                  // SO term (SNV, deletion, ...)
  std::vector<Coding> variation_codes;  // dbSNP rs ids, ClinVar ids

  // The call in this sample.
  // LOINC LL381-5 answer: LA6706-1 heterozygous, LA6705-3 homozygous,
  // LA6707-9 hemizygous, LA6703-8 heteroplasmic, LA6704-6 homoplasmic.
  Coding allelic_state;
  std::string allele_frequency;  // decimal text 0..1
  std::optional<int64_t> read_depth;
  std::optional<int64_t> allele_read_depth;
  std::string phase_set;  // VCF PS / v2 phase identifier
  bool phased = false;
  // LOINC LL378-1: LA6683-2 germline, LA6684-0 somatic, LA18194-3 mixed.
  Coding genomic_source_class;

  std::vector<Consequence> consequences;
  std::vector<Classification> classifications;
  std::vector<ExtraComponent> extra_components;

  // Where it came from, for error messages and stable identifiers:
  // "line 1234" (VCF), "OBX-4 sub-ID 2" (v2).
  std::string source_location;
};

// Two variants on the same chromosome copy (cis) or different (trans).
struct PhaseRelation {
  size_t first = 0;  // indexes into GenomicReportInput::variants
  size_t second = 0;
  std::string relationship;  // "Cis" | "Trans" | "Indeterminate" | "Unknown"
};

struct RegionStudied {
  std::string chromosome;
  int64_t start = 0;  // 0-based, half-open (as in BED)
  int64_t end = 0;
  std::string name;
};

struct GenomicReportInput {
  // Who and what.
  IdentifierValue patient;   // required: the lab's patient identifier
  std::string patient_name;  // optional; only ever written into FHIR
  std::string patient_birth_date;
  std::string patient_gender;
  IdentifierValue accession;  // required: report/accession identifier
  IdentifierValue order;      // placer/filler order number
  std::string lab_name;
  IdentifierValue lab_identifier;
  IdentifierValue specimen;
  Coding specimen_type;
  std::string specimen_collected;  // dateTime
  std::string sample_name;         // VCF sample column
  std::string issued;     // instant; else BuildOptions::issued; else omitted
  std::string effective;  // dateTime
  std::string report_status =
      "final";         // final | amended | corrected | preliminary
  Coding report_code;  // default LOINC 51969-4 Genetic analysis report
  std::string conclusion;
  Coding overall_interpretation;

  // The study.
  std::string build;         // GRCh37 | GRCh38
  Coding method;             // e.g. sequencing method
  std::string source_class;  // germline | somatic | mixed
  std::vector<RegionStudied> regions_studied;
  std::string regions_description;

  std::vector<VariantCall> variants;
  std::vector<PhaseRelation> phase_relations;
};

}  // namespace genogate::mappers

#endif  // GENOGATE_MAPPERS_COMMON_GENOMIC_REPORT_H_

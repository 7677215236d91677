// VcfRecord: one VCF data line, parsed into string_views over the line
// (zero-copy); INFO values and sample fields are converted only when asked.
// AlleleView: the record seen from one ALT allele (multi-allelic split).
//
//   VcfRecord rec;  // filled by VcfReader::Next
//   for (size_t i = 1; i <= rec.num_alts(); ++i) {
//     AlleleView a = rec.Allele(i);
//     AlleleCall call = a.Call(0);          // first sample, this allele
//     auto csq = a.Csq();                   // VEP entries for this allele
//   }
//
// Lifetime: every string_view returned (and every AlleleView) points into
// the line the record was parsed from; it is valid until that line changes
// (for VcfReader: the next call to Next). Copy what you keep.
//
// Thread-safety: const methods may be called concurrently; Parse may not.
#ifndef GENOGATE_MAPPERS_VCF_VCF_RECORD_H_
#define GENOGATE_MAPPERS_VCF_VCF_RECORD_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mappers/vcf/annotation.h"
#include "mappers/vcf/vcf_error.h"
#include "mappers/vcf/vcf_header.h"

namespace genogate::mappers::vcf {

// What an ALT allele is.
enum class AltKind {
  kSequence,             // bases: "T", "CTT"
  kSymbolic,             // "<DEL>", "<DUP:TANDEM>", "<CNV>", "<INS>", ...
  kBreakend,             // "G]17:198982]", "]13:123456]T", "C[<ctg1>:7["
  kSingleBreakend,       // ".A", "A."
  kOverlappingDeletion,  // "*": allele missing due to an upstream deletion
  kNonRef,               // "<*>" or "<NON_REF>" (gVCF "any other allele")
};
// "sequence", "symbolic", "breakend", "single-breakend",
// "overlapping-deletion", "non-ref".
std::string_view AltKindName(AltKind kind);

// A parsed GT value.
struct Genotype {
  // Allele indexes (0 = REF, i = i-th ALT); -1 for a missing allele (".").
  std::vector<int> alleles;
  // True when there are 2+ alleles and every separator is '|'.
  bool phased = false;

  bool present() const { return !alleles.empty(); }
  int ploidy() const { return static_cast<int>(alleles.size()); }
  // True if every allele is missing ("./.", ".").
  bool missing() const;
  // Copies of `allele` in the call.
  int Count(int allele) const;
};

// Parses a GT value ("0/1", "1|0", "1", "./.", "0/1/2"). False on a syntax
// error. Does not check allele indexes against the record.
bool ParseGenotype(std::string_view text, Genotype* gt);

// Common FORMAT fields of one sample (missing fields are nullopt/empty).
struct SampleCall {
  Genotype genotype;                                  // GT
  std::vector<std::optional<int64_t>> allele_depths;  // AD, REF first
  std::optional<int64_t> depth;                       // DP
  std::optional<int64_t> genotype_quality;            // GQ
  std::optional<int64_t> copy_number;                 // CN
  std::string_view phase_set;                         // PS ("" if none)
  // AF (or VAF when there is no AF), one per ALT, as written and parsed.
  std::vector<std::string_view> allele_fraction_texts;
  std::vector<std::optional<double>> allele_fractions;
};

// Zygosity of one ALT allele in one sample's genotype.
enum class Zygosity {
  kNoCall,  // no GT, or every allele missing
  kAbsent,  // the allele is not in the called alleles (e.g. 0/1 for ALT 2)
  kHeterozygous,  // present in some copies, other copies called as other
                  // alleles
  kHomozygous,    // every copy (ploidy >= 2) is this allele
  kHemizygous,    // a haploid call of this allele (X/Y/MT in a male, ...)
  kPartial,       // present, but other copies are missing ("./1")
};
// "no-call", "absent", "heterozygous", "homozygous", "hemizygous",
// "partial".
std::string_view ZygosityName(Zygosity z);

// One sample's call seen from one ALT allele.
struct AlleleCall {
  Zygosity zygosity = Zygosity::kNoCall;
  int ploidy = 0;   // number of alleles in GT (0 when no GT)
  int copies = 0;   // copies of this allele
  int missing = 0;  // missing alleles ('.')
  bool phased = false;
  std::string_view phase_set;               // PS
  std::optional<int64_t> ref_depth;         // AD[0]
  std::optional<int64_t> alt_depth;         // AD[i]
  std::optional<int64_t> depth;             // DP
  std::optional<int64_t> genotype_quality;  // GQ
  std::optional<int64_t> copy_number;       // CN
  std::string_view allele_fraction_text;    // AF[i-1] (or VAF) as written
  std::optional<double> allele_fraction;
  // "heterozygous", "homozygous", "hemizygous", "no call", "absent",
  // "partial call", and for ploidy > 2 e.g. "heterozygous (2 of 4 copies)".
  std::string Describe() const;
};

// ClinVar INFO fields (ClinVar's VCF), percent-decoded, "" when absent.
// Underscores are kept as ClinVar writes them (see ClinVarText).
struct ClinVarInfo {
  std::string clnsig;      // CLNSIG, e.g. "Pathogenic/Likely_pathogenic"
  std::string clnrevstat;  // CLNREVSTAT
  std::string clnhgvs;     // CLNHGVS
  std::string clndn;       // CLNDN
  std::string allele_id;   // ALLELEID
  std::string rs;          // RS (digits, no "rs")
  bool empty() const {
    return clnsig.empty() && clnrevstat.empty() && clnhgvs.empty() &&
           clndn.empty() && allele_id.empty() && rs.empty();
  }
};
// ClinVar's underscored text made readable: "criteria_provided,_single_
// submitter" -> "criteria provided, single submitter".
std::string ClinVarText(std::string_view value);

// One INFO entry as written.
struct InfoEntry {
  std::string_view key;
  std::string_view value;  // raw (percent-encoded); "" for a flag
  bool has_value = false;
  const FieldDef* def = nullptr;  // nullptr for undeclared keys
};

struct ParseOptions {
  // Check INFO values against their ##INFO Number and Type.
  bool validate_info = true;
  // Check every sample: field count, GT syntax and allele indexes, and
  // values against their ##FORMAT Number and Type.
  bool validate_samples = true;
};

class AlleleView;

class VcfRecord {
 public:
  // Parses a data line. `line` and `header` must outlive the record's use.
  // On malformed input returns false and fills *error (line_no, 1-based
  // column and name, reason, rule); the record is then unusable.
  bool Parse(std::string_view line, uint64_t line_no, const VcfHeader& header,
             const ParseOptions& options, VcfError* error);

  uint64_t line_number() const { return line_no_; }
  std::string_view line() const { return line_; }
  const VcfHeader& header() const { return *header_; }

  // --- Fixed columns.
  std::string_view chrom() const { return cols_[0]; }
  int64_t pos() const { return pos_; }              // 1-based VCF POS
  std::string_view id() const { return cols_[2]; }  // raw, "." if none
  std::vector<std::string_view> ids() const;        // split on ';', no "."
  std::string_view ref() const { return cols_[3]; }
  size_t num_alts() const { return alts_.size(); }
  // i-th ALT (0-based), as written.
  std::string_view alt(size_t i) const { return alts_[i]; }
  AltKind alt_kind(size_t i) const { return alt_kinds_[i]; }
  const std::vector<std::string_view>& alts() const { return alts_; }
  // Allele by VCF index: 0 = REF, i = i-th ALT.
  std::string_view allele(size_t index) const {
    return index == 0 ? ref() : alts_[index - 1];
  }
  std::string_view qual_text() const { return cols_[5]; }
  std::optional<double> qual() const;  // nullopt for "."
  std::string_view filter_text() const { return cols_[6]; }
  std::vector<std::string_view> filters() const;  // split on ';', no "."
  bool passed() const { return cols_[6] == "PASS"; }

  // --- INFO.
  std::string_view info_text() const { return cols_[7]; }
  const std::vector<InfoEntry>& info() const { return info_; }
  const InfoEntry* FindInfo(std::string_view key) const;
  bool HasInfo(std::string_view key) const { return FindInfo(key); }
  // Raw value: nullopt if absent, "" for a flag.
  std::optional<std::string_view> InfoRaw(std::string_view key) const;
  // The index-th comma-separated value converted; nullopt if absent,
  // missing (".") or not convertible.
  std::optional<int64_t> InfoInt(std::string_view key, size_t index = 0) const;
  std::optional<double> InfoFloat(std::string_view key, size_t index = 0) const;
  // Percent-decoded index-th value; nullopt if absent or ".".
  std::optional<std::string> InfoString(std::string_view key,
                                        size_t index = 0) const;
  // Percent-decoded whole value (commas kept); nullopt if absent.
  std::optional<std::string> InfoText(std::string_view key) const;

  // --- Structural variants, ClinVar, dbSNP.
  std::optional<int64_t> info_end() const { return InfoInt("END"); }
  // INFO END if given, else POS + len(REF) - 1.
  int64_t EndPosition() const;
  std::string_view sv_type() const;  // SVTYPE, "" if absent
  // CIPOS / CIEND pairs (e.g. -10,10); nullopt if absent or malformed.
  std::optional<std::pair<int64_t, int64_t>> cipos() const;
  std::optional<std::pair<int64_t, int64_t>> ciend() const;
  ClinVarInfo ClinVar() const;
  // dbSNP ids from the ID column ("rs123") and INFO RS ("123" -> "rs123"),
  // without duplicates, in that order.
  std::vector<std::string> DbSnpIds() const;

  // --- FORMAT and samples.
  size_t num_samples() const { return samples_.size(); }
  std::string_view format_text() const { return cols_[8]; }
  const std::vector<std::string_view>& format_keys() const {
    return format_keys_;
  }
  std::string_view sample_text(size_t s) const { return samples_[s]; }
  // The raw value of FORMAT `key` in sample `s`; nullopt if the key is not
  // in FORMAT or the sample's trailing fields were dropped.
  std::optional<std::string_view> SampleField(size_t s,
                                              std::string_view key) const;
  // GT of sample s (empty Genotype if absent or unparsable).
  Genotype GetGenotype(size_t s) const;
  SampleCall Sample(size_t s) const;

  // --- Annotations (all entries; see AlleleView for per-allele ones).
  std::vector<VepConsequence> Csq() const;
  std::vector<SnpEffAnnotation> Ann() const;

  // --- Multi-allelic split. allele_index is 1-based; precondition:
  // 1 <= allele_index <= num_alts().
  AlleleView Allele(size_t allele_index) const;
  std::vector<AlleleView> Alleles() const;

 private:
  bool Fail(VcfError* error, uint32_t column, std::string reason,
            std::string rule) const;
  std::string ColumnName(size_t index0) const;
  bool ParseAlts(VcfError* error);
  bool ParseInfo(const ParseOptions& options, VcfError* error);
  bool ParseFormat(VcfError* error);
  bool ValidateSamples(VcfError* error) const;

  const VcfHeader* header_ = nullptr;
  std::string_view line_;
  uint64_t line_no_ = 0;
  std::array<std::string_view, 9> cols_{};
  std::vector<std::string_view> samples_;
  int64_t pos_ = 0;
  std::vector<std::string_view> alts_;
  std::vector<AltKind> alt_kinds_;
  std::vector<InfoEntry> info_;
  std::vector<std::string_view> format_keys_;
  std::vector<const FieldDef*> format_defs_;
};

// The record seen from ALT allele `index()` (1-based). Cheap to copy; holds
// a pointer to the record, which must outlive it.
class AlleleView {
 public:
  AlleleView(const VcfRecord* record, size_t index)
      : rec_(record), index_(index) {}

  const VcfRecord& record() const { return *rec_; }
  size_t index() const { return index_; }
  std::string_view ref() const { return rec_->ref(); }
  std::string_view alt() const { return rec_->alt(index_ - 1); }
  AltKind kind() const { return rec_->alt_kind(index_ - 1); }
  std::string_view chrom() const { return rec_->chrom(); }
  int64_t pos() const { return rec_->pos(); }

  // INFO value for this allele: for Number=A keys the (i-1)-th value, for
  // Number=R the i-th; for other keys the whole raw value. nullopt if
  // absent or too few values.
  std::optional<std::string_view> Info(std::string_view key) const;
  // For Number=R keys, the REF value (index 0); nullopt otherwise.
  std::optional<std::string_view> InfoRef(std::string_view key) const;
  // SVLEN for this allele (per-ALT when there is one value per ALT).
  std::optional<int64_t> sv_len() const;

  // Sample `s`'s genotype, depths and fraction relative to this allele.
  AlleleCall Call(size_t s) const;

  // The allele string VEP uses for this ALT (see VepAlleleString).
  std::string VepAllele() const;
  // CSQ entries of this allele: matched by ALLELE_NUM when the CSQ has it,
  // else by VEP's allele string (and, for symbolic ALTs, the ALT as written
  // or VEP's SV term). A record with one ALT gets all entries.
  std::vector<VepConsequence> Csq() const;
  // ANN entries whose Allele is this ALT as written (all entries for a
  // record with one ALT).
  std::vector<SnpEffAnnotation> Ann() const;

 private:
  const VcfRecord* rec_;
  size_t index_;
};

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_VCF_RECORD_H_

// VcfHeader: the meta-information lines and the #CHROM line of a VCF
// (versions 4.1, 4.2 and 4.3).
//
// VcfReader fills it while reading the header; the Parse* methods are public
// so that tests and tools can build a header from lines directly.
//
// Thread-safety: after the header is complete, all const methods may be
// called from several threads at once.
#ifndef GENOGATE_MAPPERS_VCF_VCF_HEADER_H_
#define GENOGATE_MAPPERS_VCF_VCF_HEADER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/issue.h"
#include "mappers/vcf/refseq.h"
#include "mappers/vcf/vcf_error.h"

namespace genogate::mappers::vcf {

enum class ValueType { kInteger, kFloat, kFlag, kCharacter, kString };
// "Integer", "Float", "Flag", "Character", "String".
std::string_view ValueTypeName(ValueType type);

// How many values an INFO/FORMAT field has.
enum class NumberKind {
  kFixed,        // an integer N (Flag fields have 0)
  kPerAlt,       // "A": one per ALT allele
  kPerAllele,    // "R": one per allele, REF first
  kPerGenotype,  // "G": one per possible genotype
  kUnbounded,    // ".": any number
};

// An ##INFO or ##FORMAT definition.
struct FieldDef {
  std::string id;
  NumberKind number_kind = NumberKind::kUnbounded;
  int number = 0;  // when number_kind == kFixed
  ValueType type = ValueType::kString;
  std::string description;  // unescaped
  uint64_t line = 0;
  // "1", "A", "R", "G" or ".".
  std::string NumberText() const;
};

struct FilterDef {
  std::string id;
  std::string description;
  uint64_t line = 0;
};

struct ContigDef {
  std::string id;
  std::optional<int64_t> length;
  std::string assembly;  // the assembly= attribute, if any
  uint64_t line = 0;
};

// Any "##key=value" line (including INFO/FORMAT/FILTER/contig, whose value
// is kept raw, "<ID=...>").
struct MetaLine {
  std::string key;
  std::string value;
  uint64_t line = 0;
};

class VcfHeader {
 public:
  // --- Building (in file order). Each returns false and fills *error on
  // malformed input (ErrorCode::kInvalidInput).

  // Line 1: "##fileformat=VCFv4.1" .. "VCFv4.3".
  bool ParseFileFormatLine(std::string_view line, uint64_t line_no,
                           VcfError* error);
  // A "##key=value" line after the first.
  bool ParseMetaLine(std::string_view line, uint64_t line_no, VcfError* error);
  // The "#CHROM\tPOS\t..." line.
  bool ParseColumnLine(std::string_view line, uint64_t line_no,
                       VcfError* error);
  // Call once after the #CHROM line: infers the build and reads the CSQ
  // field list.
  void Finish();

  // --- Access.

  const std::string& file_format() const { return file_format_; }  // "VCFv4.2"
  int minor_version() const { return minor_version_; }             // 1..3

  // The definition of an INFO/FORMAT key, or nullptr if undeclared.
  const FieldDef* info(std::string_view id) const;
  const FieldDef* format(std::string_view id) const;
  const FilterDef* filter(std::string_view id) const;
  const ContigDef* contig(std::string_view id) const;
  const std::vector<FieldDef>& infos() const { return infos_; }
  const std::vector<FieldDef>& formats() const { return formats_; }
  const std::vector<FilterDef>& filters() const { return filters_; }
  const std::vector<ContigDef>& contigs() const { return contigs_; }
  // Every meta line after ##fileformat, in order.
  const std::vector<MetaLine>& meta() const { return meta_; }
  // The value of the first "##key=" line, or nullopt.
  std::optional<std::string_view> meta_value(std::string_view key) const;
  // ##reference / ##assembly values ("" if absent).
  std::string_view reference() const;
  std::string_view assembly() const;

  const std::vector<std::string>& samples() const { return samples_; }
  // The index of a sample name, or -1.
  int SampleIndex(std::string_view name) const;
  bool has_format_column() const { return has_format_column_; }
  // 8, or 9 + number of samples when there is a FORMAT column.
  size_t expected_columns() const {
    return has_format_column_ ? 9 + samples_.size() : 8;
  }
  // Line number of the #CHROM line (0 before it is parsed).
  uint64_t column_line() const { return column_line_; }

  // The reference build inferred from ##reference, ##assembly, ##contig
  // assembly= attributes and ##contig lengths of the primary chromosomes.
  // kUnknown when there is no evidence or the evidence conflicts (then
  // warnings() says so).
  GenomeBuild build() const { return build_; }
  // What the build was inferred from, e.g. "##contig 1 length=249250621".
  const std::string& build_evidence() const { return build_evidence_; }

  // The VEP CSQ sub-field names from the ##INFO=<ID=CSQ,...Format: A|B|..>
  // description; empty if the file has no CSQ definition.
  const std::vector<std::string>& csq_fields() const { return csq_fields_; }
  // Index of a CSQ sub-field, or -1.
  int CsqIndex(std::string_view name) const;

  // Non-fatal findings (duplicate definitions, missing Description, build
  // conflicts).
  const IssueList& warnings() const { return warnings_; }

 private:
  bool ParseStructured(std::string_view key, std::string_view body,
                       uint64_t line_no, VcfError* error);
  void Warn(uint64_t line, std::string message, std::string code);

  std::string file_format_;
  int minor_version_ = 0;
  std::vector<FieldDef> infos_, formats_;
  std::map<std::string, size_t, std::less<>> info_index_, format_index_;
  std::vector<FilterDef> filters_;
  std::vector<ContigDef> contigs_;
  std::map<std::string, size_t, std::less<>> contig_index_;
  std::vector<MetaLine> meta_;
  std::vector<std::string> samples_;
  std::map<std::string, int, std::less<>> sample_index_;
  bool has_format_column_ = false;
  uint64_t column_line_ = 0;
  GenomeBuild build_ = GenomeBuild::kUnknown;
  std::string build_evidence_;
  std::vector<std::string> csq_fields_;
  IssueList warnings_;
};

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_VCF_HEADER_H_

// VCF -> neutral GenomicReportInput (see mappers/common/genomic_report.h).
//
// Streaming: VcfMapper reads a VCF record by record and hands out one
// VariantCall per ALT allele present in the chosen sample, so a caller can
// write each variant as it comes without holding the whole file. MapVcfFile
// / MapVcfString collect everything into one GenomicReportInput.
//
//   VcfMapper mapper(options);
//   if (Status s = mapper.OpenFile(path); !s.ok()) ...  // mapper.error()
//   VariantCall call;
//   while (true) {
//     Result<bool> more = mapper.Next(&call);
//     if (!more.ok()) ...;                                // mapper.error()
//     if (!*more) break;
//     ...
//   }
//   // mapper.phase_relations() index the calls in the order returned.
//
// Mapping:
//   - coordinates: 0-based interval counting. Sequence alleles: [POS-1,
//     POS-1+len(REF)). Symbolic SVs with END: [POS, END) (the padding base
//     excluded), INS: [POS, POS); CIPOS/CIEND give outer/inner bounds.
//   - GT -> allelic state (het LA6706-1, hom LA6705-3, hemizygous LA6707-9);
//     alleles absent from the sample or not called are skipped. A VCF
//     without samples gives every ALT, without allelic state.
//   - FORMAT AF (or VAF) -> allele_frequency as written; DP -> read_depth;
//     AD -> allele_read_depth; CN -> copy_number; PS + phased GT ->
//     phase_set / phased and PhaseRelations (Cis: the two alleles are on the
//     same haplotypes; Trans: on disjoint ones; Indeterminate otherwise;
//     homozygous calls are not paired).
//   - CSQ (else ANN) -> consequences; gene, HGNC, transcript, c./p. HGVS from
//     the CANONICAL (or MANE) consequence, else the first.
//   - ClinVar CLNSIG -> Classification (LOINC LL4034-6 answers when the
//     value is one of the five ACMG terms, else text), CLNDN conditions,
//     CLNREVSTAT review status, CLNHGVS -> hgvs_g.
//   - dbSNP ids (ID column, INFO RS) and a ClinVar variation id -> variation
//     codes.
//
// Errors never contain patient identifiers or names.
//
// Thread-safety: one VcfMapper per thread.
#ifndef GENOGATE_MAPPERS_VCF_VCF_MAPPER_H_
#define GENOGATE_MAPPERS_VCF_VCF_MAPPER_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "mappers/common/genomic_report.h"
#include "mappers/vcf/bed.h"
#include "mappers/vcf/vcf_error.h"
#include "mappers/vcf/vcf_reader.h"

namespace genogate::mappers::vcf {

struct VcfMapOptions {
  // "GRCh37" / "GRCh38" (or any form ParseGenomeBuild accepts). Empty: the
  // build inferred from the header; if that is unknown, Open fails.
  std::string build;
  // Sample column to report; empty = the first sample.
  std::string sample;
  // Keep only variants overlapping these regions (when set).
  std::optional<RegionSet> regions;
  // The regions the test studied, recorded in the report (when set).
  std::optional<RegionSet> studied;
  // Keep only records whose FILTER is PASS.
  bool pass_only = false;
  // "germline" | "somatic" | "mixed" | "" (not stated).
  std::string source_class;
  IdentifierValue patient;
  IdentifierValue accession;
  std::string lab;
  IdentifierValue specimen;
  // Skip malformed data lines (see skipped()) instead of failing.
  bool keep_going = false;
};

class VcfMapper {
 public:
  explicit VcfMapper(VcfMapOptions options);
  ~VcfMapper();
  VcfMapper(const VcfMapper&) = delete;
  VcfMapper& operator=(const VcfMapper&) = delete;

  // Opens the VCF and reads its header. Errors (details in error()): those
  // of VcfReader::Open*, kInvalidInput for an unknown build (none given and
  // none inferable), an unknown source class, or a sample not in the VCF.
  Status OpenFile(const std::string& path);
  Status OpenString(std::string data);

  // The report without variants: patient, accession, lab, specimen, build,
  // source class, sample, regions studied. Valid after Open*.
  const GenomicReportInput& report() const { return report_; }

  // The next variant (one per ALT allele kept): true, or false at the end.
  // Errors as VcfReader::Next (details in error(): line, column, reason).
  Result<bool> Next(VariantCall* call);

  // Phase relations between the calls returned so far; indexes count the
  // calls in the order Next returned them, from 0.
  const std::vector<PhaseRelation>& phase_relations() const {
    return phase_relations_;
  }
  // The phase relations found since the last call (they are no longer held:
  // phase_relations() then lists only later ones), for streaming callers.
  std::vector<PhaseRelation> TakePhaseRelations() {
    return std::exchange(phase_relations_, {});
  }

  // Where the last error is (line, column, reason).
  const VcfError& error() const { return error_; }
  // keep_going: the skipped malformed records (the first 1000) and count.
  const std::vector<VcfError>& skipped() const;
  uint64_t skipped_count() const;
  // Records read and calls returned.
  uint64_t records_read() const;
  // Bytes consumed from the source so far (compressed bytes for gzip).
  uint64_t source_bytes() const;
  uint64_t calls_returned() const { return calls_returned_; }

 private:
  Status AfterOpen(Status opened);
  bool MapAllele(const AlleleView& allele, VariantCall* call);
  void TrackPhase(const AlleleView& allele, const VariantCall& call);

  VcfMapOptions options_;
  VcfReader reader_;
  VcfRecord record_;
  VcfError error_;
  GenomicReportInput report_;
  GenomeBuild build_ = GenomeBuild::kUnknown;
  Coding source_class_;
  int sample_ = -1;         // -1: no sample columns
  size_t next_allele_ = 0;  // next ALT of record_ to look at (1-based); 0 =
                            // read a new record
  uint64_t calls_returned_ = 0;
  std::vector<PhaseRelation> phase_relations_;
  // Phased heterozygous calls of the current chromosome, by phase set:
  // (call index, bit mask of the haplotypes carrying the allele), and the
  // index of its latest call. Dropped when the chromosome changes; at most
  // 1024 sets open (the least recently used is closed).
  struct PhaseSet {
    std::vector<std::pair<size_t, uint32_t>> members;
    size_t last = 0;
  };
  std::string phase_chrom_;
  std::map<std::string, PhaseSet, std::less<>> phase_sets_;
};

// Maps a whole VCF into one GenomicReportInput (variants and phase
// relations). `skipped` (optional) receives the records skipped with
// keep_going. On error, `where` (optional) receives the location.
Result<GenomicReportInput> MapVcfFile(const std::string& path,
                                      const VcfMapOptions& options,
                                      std::vector<VcfError>* skipped = nullptr,
                                      VcfError* where = nullptr);
Result<GenomicReportInput> MapVcfString(
    std::string data, const VcfMapOptions& options,
    std::vector<VcfError>* skipped = nullptr, VcfError* where = nullptr);

// ClinVar CLNSIG -> LOINC LL4034-6 answer ("Pathogenic" -> LA6668-3, ...);
// a Coding with only a display (readable text) for other values.
Coding ClinicalSignificance(std::string_view clnsig);

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_VCF_MAPPER_H_

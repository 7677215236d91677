#include "mappers/vcf/vcf_mapper.h"

#include <algorithm>
#include <utility>

#include "mappers/vcf/annotation.h"
#include "mappers/vcf/refseq.h"

namespace genogate::mappers::vcf {
namespace {

constexpr char kLoinc[] = "http://loinc.org";
constexpr char kSo[] = "http://www.sequenceontology.org";
// As the IG examples write it.
constexpr char kDbSnp[] = "http://www.ncbi.nlm.nih.gov/projects/SNP";
constexpr char kClinVar[] = "http://www.ncbi.nlm.nih.gov/clinvar";
// Most members of one phase set paired with each other (pairs grow
// quadratically; a larger block keeps only its first members).
constexpr size_t kMaxPhaseSetMembers = 200;
// Most phase sets open at once on a chromosome: past this, the set whose
// last member is oldest is closed (phase sets are blocks of nearby records,
// so a closed one is not seen again in practice), keeping memory flat.
constexpr size_t kMaxOpenPhaseSets = 1024;

VcfReaderOptions ReaderOptions(bool keep_going) {
  VcfReaderOptions o;
  o.keep_going = keep_going;
  return o;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Coding So(std::string_view code, std::string_view display) {
  return {kSo, std::string(code), std::string(display)};
}

// The SO term of a sequence ALT against REF.
Coding SequenceChangeType(std::string_view ref, std::string_view alt) {
  if (ref.size() == 1 && alt.size() == 1) return So("SO:0001483", "SNV");
  if (ref.size() == alt.size()) return So("SO:0002007", "MNV");
  if (!ref.empty() && !alt.empty() && ref[0] == alt[0]) {
    if (alt.size() == 1) return So("SO:0000159", "deletion");
    if (ref.size() == 1) return So("SO:0000667", "insertion");
  }
  return So("SO:1000032", "delins");
}

// The SO term of a symbolic ALT / SVTYPE.
Coding StructuralChangeType(std::string_view alt, std::string_view svtype) {
  if (alt.starts_with("<DUP:TANDEM")) {
    return So("SO:1000173", "tandem_duplication");
  }
  std::string_view t = svtype;
  if (t.empty() && alt.size() > 2)
    t = alt.substr(1, alt.find_first_of(":>") - 1);
  if (t == "DEL") return So("SO:0000159", "deletion");
  if (t == "DUP") return So("SO:1000035", "duplication");
  if (t == "INV") return So("SO:1000036", "inversion");
  if (t == "INS") return So("SO:0000667", "insertion");
  if (t == "CNV") return So("SO:0001019", "copy_number_variation");
  return {};
}

}  // namespace

Coding ClinicalSignificance(std::string_view clnsig) {
  std::string s = Lower(clnsig);
  std::replace(s.begin(), s.end(), ' ', '_');
  if (s == "pathogenic") return {kLoinc, "LA6668-3", "Pathogenic"};
  if (s == "likely_pathogenic") {
    return {kLoinc, "LA26332-9", "Likely pathogenic"};
  }
  if (s == "uncertain_significance") {
    return {kLoinc, "LA26333-7", "Uncertain significance"};
  }
  if (s == "likely_benign") return {kLoinc, "LA26334-5", "Likely benign"};
  if (s == "benign") return {kLoinc, "LA6675-8", "Benign"};
  return {"", "", ClinVarText(clnsig)};
}

VcfMapper::VcfMapper(VcfMapOptions options)
    : options_(std::move(options)),
      reader_(ReaderOptions(options_.keep_going)) {}

VcfMapper::~VcfMapper() = default;

Status VcfMapper::OpenFile(const std::string& path) {
  return AfterOpen(reader_.OpenFile(path));
}

Status VcfMapper::OpenString(std::string data) {
  return AfterOpen(reader_.OpenString(std::move(data)));
}

const std::vector<VcfError>& VcfMapper::skipped() const {
  return reader_.bad_records();
}
uint64_t VcfMapper::skipped_count() const { return reader_.bad_record_count(); }
uint64_t VcfMapper::records_read() const { return reader_.records_read(); }
uint64_t VcfMapper::source_bytes() const { return reader_.source_bytes(); }

Status VcfMapper::AfterOpen(Status opened) {
  if (!opened.ok()) {
    error_ = reader_.error();
    return opened;
  }
  auto fail = [&](std::string reason) -> Status {
    error_ = VcfError{};
    error_.reason = reason;
    error_.rule = "vcf-mapping";
    return Error(ErrorCode::kInvalidInput, std::move(reason));
  };
  const VcfHeader& h = reader_.header();
  if (!options_.build.empty()) {
    build_ = ParseGenomeBuild(options_.build);
    if (build_ == GenomeBuild::kUnknown) {
      return fail("unknown genome build \"" + options_.build +
                  "\" (expected GRCh37 or GRCh38)");
    }
  } else {
    build_ = h.build();
    if (build_ == GenomeBuild::kUnknown) {
      return fail(
          "the genome build cannot be inferred from the VCF header; give it "
          "(GRCh37 or GRCh38)");
    }
  }
  const std::string& sc = options_.source_class;
  if (sc == "germline") {
    source_class_ = {kLoinc, "LA6683-2", "Germline"};
  } else if (sc == "somatic") {
    source_class_ = {kLoinc, "LA6684-0", "Somatic"};
  } else if (sc == "mixed") {
    source_class_ = {kLoinc, "LA18194-3", "Mixed"};
  } else if (!sc.empty()) {
    return fail("unknown source class \"" + sc +
                "\" (expected germline, somatic or mixed)");
  }
  if (!h.samples().empty()) {
    if (options_.sample.empty()) {
      sample_ = 0;
    } else {
      sample_ = h.SampleIndex(options_.sample);
      // Sample names can be patient identifiers: not repeated here.
      if (sample_ < 0) return fail("the requested sample is not in the VCF");
    }
    report_.sample_name = h.samples()[sample_];
  } else if (!options_.sample.empty()) {
    return fail("the VCF has no sample columns");
  }

  report_.patient = options_.patient;
  report_.accession = options_.accession;
  report_.lab_name = options_.lab;
  report_.specimen = options_.specimen;
  report_.build = std::string(GenomeBuildName(build_));
  report_.source_class = options_.source_class;
  if (options_.studied) {
    for (const BedRegion& r : options_.studied->regions()) {
      report_.regions_studied.push_back({r.chrom, r.start, r.end, r.name});
    }
    report_.regions_description =
        std::to_string(options_.studied->size()) + " regions, " +
        std::to_string(options_.studied->covered_bases()) + " bases";
  }
  return Status::Ok();
}

Result<bool> VcfMapper::Next(VariantCall* call) {
  while (true) {
    if (next_allele_ == 0 || next_allele_ > record_.num_alts()) {
      Result<bool> more = reader_.Next(&record_);
      if (!more.ok()) {
        error_ = reader_.error();
        return more.error();
      }
      if (!*more) return false;
      next_allele_ = 1;
      if (options_.pass_only && !record_.passed()) {
        next_allele_ = 0;
        continue;
      }
      std::string chrom = NormalizeChromosome(record_.chrom());
      if (chrom != phase_chrom_) {
        phase_chrom_ = chrom;
        phase_sets_.clear();
      }
    }
    AlleleView allele = record_.Allele(next_allele_++);
    *call = VariantCall{};
    if (!MapAllele(allele, call)) continue;
    TrackPhase(allele, *call);
    ++calls_returned_;
    return true;
  }
}

bool VcfMapper::MapAllele(const AlleleView& a, VariantCall* v) {
  if (a.kind() == AltKind::kNonRef ||
      a.kind() == AltKind::kOverlappingDeletion) {
    return false;
  }
  const VcfRecord& rec = a.record();
  AlleleCall c;
  if (sample_ >= 0) {
    c = a.Call(static_cast<size_t>(sample_));
    if (c.copies == 0) return false;  // absent, no call, reference
  }
  v->chromosome = NormalizeChromosome(a.chrom());
  v->build = std::string(GenomeBuildName(build_));
  if (auto acc = RefSeqAccession(v->chromosome, build_)) {
    v->genomic_ref_seq = std::string(*acc);
  }
  v->ref_allele = std::string(a.ref());
  const int64_t pos = a.pos();
  if (a.kind() == AltKind::kSequence) {
    v->alt_allele = std::string(a.alt());
    v->start = pos - 1;
    v->end = pos - 1 + static_cast<int64_t>(a.ref().size());
    v->variant_type = SequenceChangeType(a.ref(), a.alt());
  } else {
    v->symbolic_alt = std::string(a.alt());
    v->structural_type = std::string(rec.sv_type());
    if (a.kind() == AltKind::kSymbolic) {
      std::optional<int64_t> end = rec.info_end();
      if (v->structural_type == "INS" || a.alt().starts_with("<INS")) {
        v->start = pos;
        v->end = pos;
      } else if (end && *end >= pos) {
        v->start = pos;
        v->end = *end;
      } else {
        v->start = pos - 1;
        v->end = pos - 1 + static_cast<int64_t>(a.ref().size());
      }
      if (auto ci = rec.cipos()) {
        v->outer_start = *v->start + ci->first;
        v->inner_start = *v->start + ci->second;
      }
      if (auto ce = rec.ciend()) {
        v->inner_end = *v->end + ce->first;
        v->outer_end = *v->end + ce->second;
      }
    } else {
      v->start = pos - 1;
      v->end = pos;
    }
    v->variant_type = StructuralChangeType(a.alt(), rec.sv_type());
  }
  if (options_.regions &&
      !options_.regions->Overlaps(v->chromosome, *v->start,
                                  std::max(*v->end, *v->start + 1))) {
    return false;
  }

  if (sample_ >= 0) {
    switch (c.zygosity) {
      case Zygosity::kHeterozygous:
        v->allelic_state = {kLoinc, "LA6706-1", "Heterozygous"};
        break;
      case Zygosity::kHomozygous:
        v->allelic_state = {kLoinc, "LA6705-3", "Homozygous"};
        break;
      case Zygosity::kHemizygous:
        v->allelic_state = {kLoinc, "LA6707-9", "Hemizygous"};
        break;
      default:
        break;
    }
    v->allele_frequency = std::string(c.allele_fraction_text);
    if (v->allele_frequency == ".") v->allele_frequency.clear();
    v->read_depth = c.depth;
    v->allele_read_depth = c.alt_depth;
    v->copy_number = c.copy_number;
    v->phased = c.phased;
    v->phase_set = std::string(c.phase_set);
    if (v->phase_set == ".") v->phase_set.clear();
  }
  v->genomic_source_class = source_class_;

  // Annotations: VEP CSQ, else SnpEff ANN.
  int chosen = -1;
  std::vector<VepConsequence> csq = a.Csq();
  for (size_t i = 0; i < csq.size(); ++i) {
    v->consequences.push_back(csq[i].ToConsequence());
    if (chosen < 0 &&
        (csq[i].canonical == "YES" || !csq[i].mane_select.empty())) {
      chosen = static_cast<int>(i);
    }
  }
  if (csq.empty()) {
    for (const SnpEffAnnotation& ann : a.Ann()) {
      v->consequences.push_back(ann.ToConsequence());
    }
  }
  if (!v->consequences.empty()) {
    const Consequence& pick = v->consequences[chosen < 0 ? 0 : chosen];
    v->gene_symbol = pick.gene_symbol;
    v->hgnc_id = pick.hgnc_id;
    v->transcript_ref_seq = pick.transcript;
    v->hgvs_c = pick.hgvs_c;
    v->hgvs_p = pick.hgvs_p;
  }

  // ClinVar.
  ClinVarInfo cv = rec.ClinVar();
  if (!cv.clnsig.empty()) {
    Classification cl;
    cl.clinical_significance = ClinicalSignificance(cv.clnsig);
    cl.source = "ClinVar";
    cl.review_status = ClinVarText(cv.clnrevstat);
    size_t from = 0;
    while (from <= cv.clndn.size() && !cv.clndn.empty()) {
      size_t bar = cv.clndn.find('|', from);
      std::string_view part = std::string_view(cv.clndn).substr(
          from, bar == std::string::npos ? std::string::npos : bar - from);
      if (!part.empty()) cl.conditions.push_back({"", "", ClinVarText(part)});
      if (bar == std::string::npos) break;
      from = bar + 1;
    }
    v->classifications.push_back(std::move(cl));
  }
  if (!cv.clnhgvs.empty()) v->hgvs_g = cv.clnhgvs;
  for (const std::string& rs : rec.DbSnpIds()) {
    v->variation_codes.push_back({kDbSnp, rs, ""});
  }
  if (!cv.empty()) {
    // ClinVar's VCF puts its variation id in the ID column.
    for (std::string_view id : rec.ids()) {
      if (!id.empty() && std::all_of(id.begin(), id.end(), [](char ch) {
            return ch >= '0' && ch <= '9';
          })) {
        v->variation_codes.push_back({kClinVar, std::string(id), ""});
      }
    }
  }
  v->source_location = "line " + std::to_string(rec.line_number());
  return true;
}

void VcfMapper::TrackPhase(const AlleleView& a, const VariantCall& call) {
  if (sample_ < 0 || !call.phased || call.phase_set.empty()) return;
  Genotype gt = a.record().GetGenotype(static_cast<size_t>(sample_));
  if (!gt.phased || gt.ploidy() < 2 || gt.ploidy() > 32) return;
  uint32_t mask = 0;
  for (int i = 0; i < gt.ploidy(); ++i) {
    if (gt.alleles[i] == static_cast<int>(a.index())) mask |= 1u << i;
  }
  uint32_t all = gt.ploidy() == 32 ? 0xffffffffu : (1u << gt.ploidy()) - 1;
  if (mask == 0 || mask == all) return;  // absent or homozygous
  size_t index = calls_returned_;        // this call's index once returned
  auto found = phase_sets_.find(call.phase_set);
  if (found == phase_sets_.end()) {
    if (phase_sets_.size() >= kMaxOpenPhaseSets) {
      auto oldest = phase_sets_.begin();
      for (auto it = phase_sets_.begin(); it != phase_sets_.end(); ++it) {
        if (it->second.last < oldest->second.last) oldest = it;
      }
      phase_sets_.erase(oldest);
    }
    found = phase_sets_.emplace(std::string(call.phase_set), PhaseSet{}).first;
  }
  found->second.last = index;
  auto& members = found->second.members;
  for (const auto& [other, other_mask] : members) {
    PhaseRelation p;
    p.first = other;
    p.second = index;
    if (other_mask == mask) {
      p.relationship = "Cis";
    } else if ((other_mask & mask) == 0) {
      p.relationship = "Trans";
    } else {
      p.relationship = "Indeterminate";
    }
    phase_relations_.push_back(std::move(p));
  }
  if (members.size() < kMaxPhaseSetMembers) members.push_back({index, mask});
}

namespace {

Result<GenomicReportInput> Collect(VcfMapper& mapper, Status opened,
                                   std::vector<VcfError>* skipped,
                                   VcfError* where) {
  if (!opened.ok()) {
    if (where) *where = mapper.error();
    return opened.error();
  }
  GenomicReportInput in = mapper.report();
  VariantCall call;
  while (true) {
    Result<bool> more = mapper.Next(&call);
    if (!more.ok()) {
      if (where) *where = mapper.error();
      return more.error();
    }
    if (!*more) break;
    in.variants.push_back(std::move(call));
  }
  in.phase_relations = mapper.phase_relations();
  if (skipped) *skipped = mapper.skipped();
  return in;
}

}  // namespace

Result<GenomicReportInput> MapVcfFile(const std::string& path,
                                      const VcfMapOptions& options,
                                      std::vector<VcfError>* skipped,
                                      VcfError* where) {
  VcfMapper mapper(options);
  Status s = mapper.OpenFile(path);
  return Collect(mapper, s, skipped, where);
}

Result<GenomicReportInput> MapVcfString(std::string data,
                                        const VcfMapOptions& options,
                                        std::vector<VcfError>* skipped,
                                        VcfError* where) {
  VcfMapper mapper(options);
  Status s = mapper.OpenString(std::move(data));
  return Collect(mapper, s, skipped, where);
}

}  // namespace genogate::mappers::vcf

// Fuzzes the VCF reader through its whole API: header parsing (build
// inference, CSQ format), records in keep_going mode, per-ALT views,
// genotypes, depths, SV/ClinVar accessors and CSQ/ANN parsing. The input is
// read as given (plain or gzip, detected by magic bytes) and, for plain
// input, once more as a gzip member (so the inflater sees valid framing
// around fuzzed text). A BED parse of the same bytes is thrown in.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mappers/vcf/bed.h"
#include "mappers/vcf/vcf_reader.h"

namespace vcf = genogate::mappers::vcf;

namespace {

size_t Exercise(std::string_view data) {
  size_t sink = 0;
  vcf::VcfReaderOptions opts;
  opts.keep_going = true;
  opts.max_kept_errors = 8;
  opts.max_line_length = 1 << 16;
  opts.chunk_size = 4096;
  vcf::VcfReader reader(opts);
  if (!reader.OpenBuffer(data).ok()) {
    sink += reader.error().Message().size();
    return sink;
  }
  const vcf::VcfHeader& h = reader.header();
  sink += vcf::GenomeBuildName(h.build()).size() + h.csq_fields().size() +
          h.samples().size() + h.warnings().size();
  vcf::VcfRecord rec;
  for (int n = 0; n < 2000; ++n) {
    genogate::Result<bool> more = reader.Next(&rec);
    if (!more.ok() || !*more) break;
    sink += rec.ids().size() + rec.filters().size() + rec.DbSnpIds().size();
    sink += rec.qual().has_value() + rec.EndPosition() % 7;
    sink += rec.cipos().has_value() + rec.ciend().has_value();
    sink += rec.ClinVar().clnsig.size() + rec.sv_type().size();
    sink += rec.InfoString("CSQ").value_or("").size();
    sink += rec.InfoInt("DP").value_or(0) % 3;
    for (size_t s = 0; s < rec.num_samples() && s < 4; ++s) {
      vcf::SampleCall sc = rec.Sample(s);
      sink += sc.allele_depths.size() + sc.genotype.ploidy();
    }
    for (size_t i = 1; i <= rec.num_alts() && i <= 8; ++i) {
      vcf::AlleleView a = rec.Allele(i);
      sink += a.VepAllele().size() + a.Info("AF").value_or("").size();
      sink += a.InfoRef("AD").value_or("").size() + a.sv_len().value_or(0) % 5;
      for (size_t s = 0; s < rec.num_samples() && s < 4; ++s) {
        vcf::AlleleCall c = a.Call(s);
        sink += c.Describe().size() + c.alt_depth.value_or(0) % 11;
      }
      for (const vcf::VepConsequence& c : a.Csq()) {
        genogate::mappers::Consequence m = c.ToConsequence();
        sink += m.terms.size() + m.hgvs_p.size();
      }
      for (const vcf::SnpEffAnnotation& e : a.Ann()) {
        sink += e.ToConsequence().hgvs_c.size();
      }
    }
  }
  return sink;
}

std::string GzipMember(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return "";
  }
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  volatile size_t sink = Exercise(data);
  if (size > 0 && bytes[0] == '#') {
    std::string gz = GzipMember(data);
    sink = sink + Exercise(gz);
  }
  auto bed = vcf::RegionSet::ReadString(data);
  if (bed.ok()) sink = sink + bed->Contains("1", 1000) + bed->covered_bases();
  (void)sink;
  return 0;
}

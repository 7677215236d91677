// BED regions (e.g. the regions a panel studied): reading and a fast
// "is this position inside any region" lookup.
//
// Coordinates are BED's: 0-based, half-open [start, end). Chromosome names
// are normalised ("chr1" and "1" are the same, "chrM" is "MT"; see
// NormalizeChromosome), so a BED with "chr" names works with a VCF without.
// track/browser lines, '#' comments and blank lines are skipped. Input may be
// plain, gzip or bgzip.
//
//   VcfError where;
//   Result<RegionSet> regions = RegionSet::ReadFile(path, &where);
//   if (regions->ContainsVcfPos(rec.chrom(), rec.pos())) ...
//
// Thread-safety: a finalised RegionSet may be queried from several threads.
#ifndef GENOGATE_MAPPERS_VCF_BED_H_
#define GENOGATE_MAPPERS_VCF_BED_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "mappers/vcf/vcf_error.h"

namespace genogate::mappers::vcf {

struct BedRegion {
  std::string chrom;  // normalised ("1", "X", "MT", other names as written)
  int64_t start = 0;  // 0-based, inclusive
  int64_t end = 0;    // exclusive
  std::string name;   // 4th column, "" if absent
  uint64_t line = 0;  // 1-based source line; 0 when added by Add
};

class RegionSet {
 public:
  // Reads a BED file or text. Errors: kNotFound/kIo (file), kInvalidInput
  // (a malformed line: fewer than 3 columns, a start/end that is not a
  // non-negative integer, end before start; corrupt gzip), kLimitExceeded
  // (line longer than 1 MiB). When `error` is given it receives the line,
  // column (1 chrom, 2 chromStart, 3 chromEnd) and reason.
  static Result<RegionSet> ReadFile(const std::string& path,
                                    VcfError* error = nullptr);
  static Result<RegionSet> ReadString(std::string_view text,
                                      VcfError* error = nullptr);

  // Adds a region ([start, end), 0-based; `line` is recorded as its source
  // line). Call Finalize() after the last Add before querying.
  void Add(std::string_view chrom, int64_t start, int64_t end,
           std::string name = "", uint64_t line = 0);
  // Sorts and merges the intervals for lookup.
  void Finalize();

  // True if 0-based position `pos0` on `chrom` is inside a region.
  bool Contains(std::string_view chrom, int64_t pos0) const;
  // Same for a 1-based VCF POS.
  bool ContainsVcfPos(std::string_view chrom, int64_t pos1) const {
    return Contains(chrom, pos1 - 1);
  }
  // True if [start0, end0) overlaps a region (an empty query never does).
  bool Overlaps(std::string_view chrom, int64_t start0, int64_t end0) const;

  // The regions as read, in input order (not merged).
  const std::vector<BedRegion>& regions() const { return regions_; }
  size_t size() const { return regions_.size(); }
  bool empty() const { return regions_.empty(); }
  // Bases covered, overlaps counted once.
  int64_t covered_bases() const;

 private:
  std::vector<BedRegion> regions_;
  // Per chromosome: sorted, merged, non-overlapping [start, end).
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>, std::less<>>
      merged_;
};

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_BED_H_

#include "mappers/vcf/bed.h"

#include <algorithm>
#include <memory>

#include "mappers/vcf/line_reader.h"
#include "mappers/vcf/refseq.h"
#include "mappers/vcf/text_util.h"

namespace genogate::mappers::vcf {
namespace {

constexpr std::string_view kBedColumns[] = {"chrom", "chromStart", "chromEnd",
                                            "name"};

bool IsDirective(std::string_view line, std::string_view word) {
  return line.substr(0, word.size()) == word &&
         (line.size() == word.size() || line[word.size()] == ' ' ||
          line[word.size()] == '\t');
}

// Splits on tabs, or on runs of spaces when the line has no tab.
std::vector<std::string_view> SplitBed(std::string_view line) {
  std::vector<std::string_view> out;
  if (line.find('\t') != std::string_view::npos) {
    ForEachSplit(line, '\t', [&](std::string_view f) { out.push_back(f); });
    return out;
  }
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

Result<RegionSet> ReadLines(LineReader& lines, VcfError* error_out) {
  RegionSet set;
  std::string_view line;
  auto fail = [&](VcfError e) -> Result<RegionSet> {
    Error err = e.ToError();
    if (error_out) *error_out = std::move(e);
    return err;
  };
  while (true) {
    Result<bool> more = lines.ReadLine(&line);
    const uint64_t n = lines.line_number();
    if (!more.ok()) {
      return fail({more.error().code(), n + 1, 0, "", more.error().message(),
                   "bed-input"});
    }
    if (!*more) break;
    std::string_view t = line;
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) {
      t.remove_suffix(1);
    }
    if (t.empty() || t[0] == '#' || IsDirective(t, "track") ||
        IsDirective(t, "browser")) {
      continue;
    }
    std::vector<std::string_view> f = SplitBed(t);
    if (f.size() < 3) {
      return fail({ErrorCode::kInvalidInput, n,
                   static_cast<uint32_t>(f.size() + 1),
                   std::string(kBedColumns[f.size()]),
                   "a BED line needs at least 3 columns (chrom, chromStart, "
                   "chromEnd), found " +
                       std::to_string(f.size()),
                   "bed-columns"});
    }
    if (f[0].empty()) {
      return fail({ErrorCode::kInvalidInput, n, 1, "chrom", "chrom is empty",
                   "bed-chrom"});
    }
    int64_t start = 0, end = 0;
    for (int k = 1; k <= 2; ++k) {
      int64_t* v = k == 1 ? &start : &end;
      if (!ParseInt64(f[k], v) || f[k][0] == '+') {
        return fail({ErrorCode::kInvalidInput, n, static_cast<uint32_t>(k + 1),
                     std::string(kBedColumns[k]),
                     QuoteText(f[k]) + " is not an integer", "bed-coordinate"});
      }
      if (*v < 0) {
        return fail({ErrorCode::kInvalidInput, n, static_cast<uint32_t>(k + 1),
                     std::string(kBedColumns[k]),
                     QuoteText(f[k]) + " is negative", "bed-coordinate"});
      }
    }
    if (end < start) {
      return fail({ErrorCode::kInvalidInput, n, 3, "chromEnd",
                   "chromEnd " + std::to_string(end) +
                       " is before chromStart " + std::to_string(start),
                   "bed-interval"});
    }
    set.Add(f[0], start, end, f.size() > 3 ? std::string(f[3]) : "", n);
  }
  set.Finalize();
  return set;
}

LineReaderOptions BedLineOptions() {
  LineReaderOptions o;
  o.max_line_length = size_t{1} << 20;
  o.chunk_size = size_t{64} << 10;
  return o;
}

}  // namespace

Result<RegionSet> RegionSet::ReadFile(const std::string& path,
                                      VcfError* error) {
  auto lr = LineReader::OpenFile(path, BedLineOptions());
  if (!lr.ok()) {
    if (error) {
      *error = {lr.error().code(), 0, 0, "", lr.error().message(), "bed-input"};
    }
    return lr.error();
  }
  return ReadLines(**lr, error);
}

Result<RegionSet> RegionSet::ReadString(std::string_view text,
                                        VcfError* error) {
  auto lr = LineReader::FromBuffer(text, BedLineOptions());
  if (!lr.ok()) {
    if (error) {
      *error = {lr.error().code(), 0, 0, "", lr.error().message(), "bed-input"};
    }
    return lr.error();
  }
  return ReadLines(**lr, error);
}

void RegionSet::Add(std::string_view chrom, int64_t start, int64_t end,
                    std::string name, uint64_t line) {
  BedRegion r;
  r.line = line;
  r.chrom = NormalizeChromosome(chrom);
  r.start = start;
  r.end = end;
  r.name = std::move(name);
  regions_.push_back(std::move(r));
}

void RegionSet::Finalize() {
  merged_.clear();
  for (const BedRegion& r : regions_) {
    if (r.end > r.start) merged_[r.chrom].emplace_back(r.start, r.end);
  }
  for (auto& [chrom, iv] : merged_) {
    std::sort(iv.begin(), iv.end());
    size_t out = 0;
    for (size_t i = 0; i < iv.size(); ++i) {
      if (out > 0 && iv[i].first <= iv[out - 1].second) {
        iv[out - 1].second = std::max(iv[out - 1].second, iv[i].second);
      } else {
        iv[out++] = iv[i];
      }
    }
    iv.resize(out);
  }
}

bool RegionSet::Overlaps(std::string_view chrom, int64_t start0,
                         int64_t end0) const {
  if (end0 <= start0) return false;
  auto it = merged_.find(NormalizeChromosome(chrom));
  if (it == merged_.end()) return false;
  const auto& iv = it->second;
  // First interval whose end is after start0.
  auto p =
      std::upper_bound(iv.begin(), iv.end(), start0,
                       [](int64_t v, const std::pair<int64_t, int64_t>& r) {
                         return v < r.second;
                       });
  return p != iv.end() && p->first < end0;
}

bool RegionSet::Contains(std::string_view chrom, int64_t pos0) const {
  return Overlaps(chrom, pos0, pos0 + 1);
}

int64_t RegionSet::covered_bases() const {
  int64_t total = 0;
  for (const auto& [chrom, iv] : merged_) {
    for (const auto& [s, e] : iv) total += e - s;
  }
  return total;
}

}  // namespace genogate::mappers::vcf

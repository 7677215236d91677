// What ReportStreamBuilder remembers per variant, in compact form, so that
// a whole-genome VCF can be written as a stream: the variant keys (for the
// identifiers of phase relations and of the report's results) and the shape
// of the report's result list (from which every result's fullUrl is
// recomputed at the end instead of being kept).
//
// Memory is bounded: at most `spill_after` keys (and as many result-list
// words) are held in memory; older ones go to an unlinked temporary file
// (tmpfile(3) in $TMPDIR: nothing named is left behind, the space is freed
// when the builder goes) and are read back on demand, sequential reads
// served from a 1 MiB window. Repeated keys are found with a table of the
// keys of the current locus only while the variants come sorted (each
// chromosome once, positions not decreasing, as in a VCF); on the first
// variant out of order the table of all base keys is rebuilt (read back
// from the file when spilled) and kept from then on, so the "#n" suffixes
// are the same either way and unsorted input costs ~10 bytes per variant.
//
// Thread-safety: none (one per builder).
#ifndef GENOGATE_MAPPERS_COMMON_INTERNAL_VARIANT_KEYS_H_
#define GENOGATE_MAPPERS_COMMON_INTERNAL_VARIANT_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace genogate::mappers::internal {

// An unlinked temporary file written by appending and read at offsets.
class SpillFile {
 public:
  SpillFile() = default;
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  ~SpillFile();
  // Appends `n` bytes; kIo when the file cannot be made or written.
  Status Append(const void* data, size_t n);
  // Reads `n` bytes at `offset` into `out`; kIo on failure.
  Status Read(uint64_t offset, size_t n, char* out) const;
  uint64_t size() const { return size_; }

 private:
  FILE* file_ = nullptr;
  uint64_t size_ = 0;
};

class VariantKeys {
 public:
  // Keys beyond `spill_after` (>= 1) held in memory go to a temporary file.
  explicit VariantKeys(size_t spill_after = 65536);
  // Records the next variant's key: `base`, with "#n" appended when the
  // same base key was added n-1 times before. `chrom` and `pos` (-1: none)
  // are the variant's locus, used only to know whether variants come
  // sorted. Returns the key as stored. kLimitExceeded past 2^32 variants or
  // a 16 MiB key; kIo when the temporary file fails.
  Result<std::string> Add(std::string base, std::string_view chrom,
                          int64_t pos);
  size_t size() const { return count_; }
  // Key `i` (< size()). "" after a read failure (see status()).
  std::string Get(size_t i) const;
  // The first failure of the temporary file, else ok.
  Status status() const { return io_; }
  // Bytes held in memory (chunks, index, tables), for tests of the bound.
  size_t MemoryBytes() const;
  // Keys written to the temporary file so far.
  size_t spilled() const { return spilled_; }

 private:
  // Key `i` without its "#n" suffix flag: the view is valid until the next
  // call; `repeat` (optional) says whether it carries a "#n" suffix.
  std::string_view View(size_t i, bool* repeat) const;
  Status Spill();
  Status RebuildTable();
  void Insert(std::string_view base, uint32_t index);
  uint32_t* Find(std::string_view base, uint64_t hash);
  void Grow();

  size_t spill_after_;
  size_t count_ = 0;
  // In memory: keys [spilled_, count_), each a LEB128 (length * 2 + repeat
  // flag) and the bytes, in `mem_`; offsets in `mem_refs_`.
  std::string mem_;
  std::vector<uint32_t> mem_refs_;
  // Spilled: keys [0, spilled_) in `data_` (same encoding) and their 8-byte
  // offsets in `index_`.
  size_t spilled_ = 0;
  SpillFile data_;
  SpillFile index_;
  mutable Status io_;
  mutable std::string window_;  // bytes of data_ from window_at_
  mutable uint64_t window_at_ = 0;
  mutable std::vector<uint64_t> index_window_;  // offsets from index_first_
  mutable size_t index_first_ = 0;
  mutable std::string scratch_;
  // Sorted mode: the keys of the current locus -> times seen.
  bool sorted_ = true;
  std::string chrom_;
  int64_t pos_ = -1;
  std::set<std::string, std::less<>> done_chroms_;
  std::unordered_map<std::string, uint32_t> locus_;
  // Full table (unsorted mode): linear probing over 1 + first index.
  std::vector<uint32_t> slots_;
  std::vector<uint8_t> tags_;
  size_t slots_used_ = 0;
  std::unordered_map<uint32_t, uint32_t> repeats_;  // first index -> count
};

// The report's result list: per variant its implication and consequence
// counts, per phase relation its two variants, in the order added. Words
// beyond `spill_after` go to a temporary file.
class ResultLog {
 public:
  explicit ResultLog(size_t spill_after = 65536)
      : spill_after_(spill_after ? spill_after : 1) {}
  void AddVariant(uint64_t implications, uint64_t consequences);
  void AddPhase(uint32_t first, uint32_t second);
  // Calls variant(index, implications, consequences) and phase(first,
  // second) in the order added. A read failure ends the walk early and
  // shows in status().
  template <typename V, typename P>
  void ForEach(V&& variant, P&& phase) const {
    uint64_t pos = 0;
    const uint64_t total = file_.size() / 4 + words_.size();
    auto next = [&]() -> uint32_t { return Word(pos++); };
    size_t variant_index = 0;
    while (pos < total && io_.ok()) {
      const uint32_t w = next();
      switch (w & 3) {
        case 0:
          variant(variant_index++, (w >> 2) & 0x3f, w >> 8);
          break;
        case 1: {
          const uint32_t a = next();
          const uint32_t b = next();
          phase(a, b);
          break;
        }
        default: {
          const uint64_t i1 = next(), i2 = next(), c1 = next(), c2 = next();
          variant(variant_index++, i1 << 32 | i2, c1 << 32 | c2);
          break;
        }
      }
    }
  }
  Status status() const { return io_; }
  size_t MemoryBytes() const {
    return (words_.capacity() + read_.capacity()) * sizeof(uint32_t);
  }

 private:
  void Push(uint32_t w);
  uint32_t Word(uint64_t i) const;  // word i of the whole log

  size_t spill_after_;
  std::vector<uint32_t> words_;  // after the file's words
  SpillFile file_;
  mutable Status io_;
  mutable std::vector<uint32_t> read_;  // file words from read_first_
  mutable uint64_t read_first_ = 0;
};

}  // namespace genogate::mappers::internal

#endif  // GENOGATE_MAPPERS_COMMON_INTERNAL_VARIANT_KEYS_H_

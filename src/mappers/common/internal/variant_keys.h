// What ReportStreamBuilder remembers per variant, in compact form, so that
// a whole-genome VCF can be written as a stream: the variant keys (for the
// identifiers of phase relations and of the report's results) and the shape
// of the report's result list (from which every result's fullUrl is
// recomputed at the end instead of being kept).
//
// Memory: a key costs its length + 1-5 bytes in 1 MiB chunks, plus 4 bytes
// of index and ~7 bytes of hash table; a variant's results 4 bytes. Nothing
// is reallocated by doubling except the hash table (at most 1.5x its size
// while growing).
//
// Thread-safety: none (one per builder).
#ifndef GENOGATE_MAPPERS_COMMON_INTERNAL_VARIANT_KEYS_H_
#define GENOGATE_MAPPERS_COMMON_INTERNAL_VARIANT_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace genogate::mappers::internal {

class VariantKeys {
 public:
  // Records the next variant's key: `base`, with "#n" appended when the
  // same base key was added n-1 times before. Returns the key as stored.
  // kLimitExceeded past 2^32 variants, 4 GiB of keys or a 16 MiB key.
  Result<std::string> Add(std::string base);
  size_t size() const { return refs_.size(); }
  // Key `i` (< size()).
  std::string_view Get(size_t i) const;
  // Bytes held (chunks, index, table), for tests of the memory bound.
  size_t MemoryBytes() const;

 private:
  static constexpr int kChunkBits = 20;
  uint64_t Hash(std::string_view s) const;
  void Grow();

  // Virtual offset space: chunk c holds offsets [c << 20, (c + 1) << 20);
  // a key longer than a chunk takes a chunk of its own size and the chunk
  // numbers it spans (the following ones left empty).
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t used_in_last_ = size_t{1} << kChunkBits;  // forces the first chunk
  std::deque<uint32_t> refs_;                      // virtual offset per key
  std::vector<uint32_t> slots_;  // 1 + index of a base key's first variant
  std::vector<uint8_t> tags_;    // 8 more bits of the slot's hash
  size_t slots_used_ = 0;
  std::unordered_map<uint32_t, uint32_t> repeats_;  // first index -> count
};

// The report's result list: per variant its implication and consequence
// counts, per phase relation its two variants, in the order added.
class ResultLog {
 public:
  void AddVariant(uint64_t implications, uint64_t consequences);
  void AddPhase(uint32_t first, uint32_t second);
  // Calls variant(index, implications, consequences) and phase(first,
  // second) in the order added.
  template <typename V, typename P>
  void ForEach(V&& variant, P&& phase) const {
    size_t variant_index = 0;
    for (size_t i = 0; i < words_.size(); ++i) {
      const uint32_t w = words_[i];
      switch (w & 3) {
        case 0:
          variant(variant_index++, (w >> 2) & 0x3f, w >> 8);
          break;
        case 1:
          phase(words_[i + 1], words_[i + 2]);
          i += 2;
          break;
        default:
          variant(variant_index++,
                  uint64_t{words_[i + 1]} << 32 | words_[i + 2],
                  uint64_t{words_[i + 3]} << 32 | words_[i + 4]);
          i += 4;
          break;
      }
    }
  }
  size_t MemoryBytes() const { return words_.size() * sizeof(uint32_t); }

 private:
  std::deque<uint32_t> words_;
};

}  // namespace genogate::mappers::internal

#endif  // GENOGATE_MAPPERS_COMMON_INTERNAL_VARIANT_KEYS_H_

#include "mappers/common/internal/variant_keys.h"

#include <cstring>
#include <functional>
#include <utility>

namespace genogate::mappers::internal {
namespace {

constexpr size_t kMaxKey = size_t{16} << 20;

// LEB128 length prefix.
size_t PutLength(char* out, size_t n) {
  size_t i = 0;
  while (n >= 0x80) {
    out[i++] = static_cast<char>((n & 0x7f) | 0x80);
    n >>= 7;
  }
  out[i++] = static_cast<char>(n);
  return i;
}

}  // namespace

uint64_t VariantKeys::Hash(std::string_view s) const {
  return std::hash<std::string_view>()(s);
}

std::string_view VariantKeys::Get(size_t i) const {
  const uint32_t ref = refs_[i];
  const char* p = chunks_[ref >> kChunkBits].get() +
                  (ref & ((uint32_t{1} << kChunkBits) - 1));
  size_t n = 0;
  int shift = 0;
  while (true) {
    const unsigned char b = static_cast<unsigned char>(*p++);
    n |= size_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  return std::string_view(p, n);
}

void VariantKeys::Grow() {
  std::vector<uint32_t> slots(std::max<size_t>(1024, slots_.size() * 2));
  std::vector<uint8_t> tags(slots.size());
  const size_t mask = slots.size() - 1;
  for (uint32_t s : slots_) {
    if (!s) continue;
    const uint64_t hash = Hash(Get(s - 1));
    size_t h = hash;
    while (slots[h & mask]) ++h;
    slots[h & mask] = s;
    tags[h & mask] = static_cast<uint8_t>(hash >> 56);
  }
  slots_ = std::move(slots);
  tags_ = std::move(tags);
}

Result<std::string> VariantKeys::Add(std::string base) {
  if (refs_.size() >= 0xfffffffeu) {
    return Error(ErrorCode::kLimitExceeded, "too many variants in a report");
  }
  if (base.size() > kMaxKey) {
    return Error(ErrorCode::kLimitExceeded, "a variant key is too long");
  }
  // Base keys seen: linear probing, load at most 3/4.
  if ((slots_used_ + 1) * 4 > slots_.size() * 3) Grow();
  const size_t mask = slots_.size() - 1;
  const uint64_t hash = Hash(base);
  const uint8_t tag = static_cast<uint8_t>(hash >> 56);
  size_t h = hash;
  while (slots_[h & mask] &&
         (tags_[h & mask] != tag || Get(slots_[h & mask] - 1) != base)) {
    ++h;
  }
  uint32_t& slot = slots_[h & mask];
  if (!slot) {
    slot = static_cast<uint32_t>(refs_.size() + 1);
    tags_[h & mask] = tag;
    ++slots_used_;
  } else {
    const uint32_t times = ++repeats_[slot - 1];
    base += "#" + std::to_string(times + 1);
  }
  // Store it.
  char prefix[10];
  const size_t prefix_len = PutLength(prefix, base.size());
  const size_t need = prefix_len + base.size();
  constexpr size_t kChunk = size_t{1} << kChunkBits;
  if (used_in_last_ + need > kChunk) {
    const size_t spans = (need + kChunk - 1) / kChunk;
    if ((chunks_.size() + spans) << kChunkBits > 0xffffffffu) {
      return Error(ErrorCode::kLimitExceeded,
                   "the variant keys of a report exceed 4 GiB");
    }
    chunks_.push_back(std::make_unique<char[]>(std::max(need, kChunk)));
    for (size_t i = 1; i < spans; ++i) chunks_.emplace_back();
    used_in_last_ = spans > 1 ? kChunk : 0;
    if (spans > 1) {
      // The long key fills its own chunk; the next key starts a new one.
      refs_.push_back(
          static_cast<uint32_t>((chunks_.size() - spans) << kChunkBits));
      char* out = chunks_[chunks_.size() - spans].get();
      std::memcpy(out, prefix, prefix_len);
      std::memcpy(out + prefix_len, base.data(), base.size());
      return base;
    }
  }
  refs_.push_back(static_cast<uint32_t>(((chunks_.size() - 1) << kChunkBits) |
                                        used_in_last_));
  char* out = chunks_.back().get() + used_in_last_;
  std::memcpy(out, prefix, prefix_len);
  std::memcpy(out + prefix_len, base.data(), base.size());
  used_in_last_ += need;
  return base;
}

size_t VariantKeys::MemoryBytes() const {
  size_t bytes = slots_.size() * (sizeof(uint32_t) + 1) +
                 refs_.size() * sizeof(uint32_t) + repeats_.size() * 16;
  for (size_t i = 0; i < chunks_.size(); ++i) {
    if (chunks_[i]) bytes += size_t{1} << kChunkBits;
  }
  return bytes;
}

void ResultLog::AddVariant(uint64_t implications, uint64_t consequences) {
  if (implications < 64 && consequences < (uint64_t{1} << 24)) {
    words_.push_back(
        static_cast<uint32_t>(consequences << 8 | implications << 2));
    return;
  }
  words_.push_back(2);
  words_.push_back(static_cast<uint32_t>(implications >> 32));
  words_.push_back(static_cast<uint32_t>(implications));
  words_.push_back(static_cast<uint32_t>(consequences >> 32));
  words_.push_back(static_cast<uint32_t>(consequences));
}

void ResultLog::AddPhase(uint32_t first, uint32_t second) {
  words_.push_back(1);
  words_.push_back(first);
  words_.push_back(second);
}

}  // namespace genogate::mappers::internal

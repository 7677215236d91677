#include "mappers/common/internal/variant_keys.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <utility>

namespace genogate::mappers::internal {
namespace {

constexpr size_t kMaxKey = size_t{16} << 20;
constexpr size_t kWindow = size_t{1} << 20;
constexpr size_t kIndexBlock = 8192;
constexpr size_t kWordBlock = 16384;

// LEB128.
void PutLength(std::string& out, uint64_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

// Decodes a LEB128 at `p` (at most `avail` bytes); returns bytes used, 0 if
// truncated.
size_t GetLength(const char* p, size_t avail, uint64_t* n) {
  *n = 0;
  for (size_t i = 0; i < avail && i < 10; ++i) {
    const unsigned char b = static_cast<unsigned char>(p[i]);
    *n |= uint64_t{b & 0x7fu} << (7 * i);
    if (!(b & 0x80)) return i + 1;
  }
  return 0;
}

uint64_t Hash(std::string_view s) { return std::hash<std::string_view>()(s); }

}  // namespace

// --- SpillFile ---------------------------------------------------------------

SpillFile::~SpillFile() {
  if (file_) std::fclose(file_);
}

Status SpillFile::Append(const void* data, size_t n) {
  if (!file_) {
    // Unlinked from the start: O_TMPFILE in $TMPDIR, else tmpfile(3).
    const char* dir = std::getenv("TMPDIR");
    if (!dir || !*dir) dir = P_tmpdir;
    const int fd = ::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    file_ = fd >= 0 ? ::fdopen(fd, "w+") : std::tmpfile();
    if (!file_) {
      if (fd >= 0) ::close(fd);
      return Error(ErrorCode::kIo,
                   "cannot create a temporary file for the report's results");
    }
  }
  const int fd = ::fileno(file_);
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(size_));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      return Error(ErrorCode::kIo,
                   "cannot write the report's temporary file (disk full?)");
    }
    p += w;
    n -= static_cast<size_t>(w);
    size_ += static_cast<uint64_t>(w);
  }
  return Status();
}

Status SpillFile::Read(uint64_t offset, size_t n, char* out) const {
  if (!file_ || offset + n > size_) {
    return Error(ErrorCode::kInternal, "read past the report's temporary file");
  }
  const int fd = ::fileno(file_);
  while (n > 0) {
    const ssize_t r = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      return Error(ErrorCode::kIo, "cannot read the report's temporary file");
    }
    out += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status();
}

// --- VariantKeys -------------------------------------------------------------

VariantKeys::VariantKeys(size_t spill_after)
    : spill_after_(spill_after ? spill_after : 1) {}

std::string_view VariantKeys::View(size_t i, bool* repeat) const {
  const char* p;
  size_t avail;
  if (i >= spilled_) {
    p = mem_.data() + mem_refs_[i - spilled_];
    avail = mem_.size() - mem_refs_[i - spilled_];
  } else {
    if (!io_.ok()) return {};
    if (i < index_first_ || i >= index_first_ + index_window_.size()) {
      const size_t n = std::min(kIndexBlock, spilled_ - i);
      index_window_.resize(n);
      io_ = index_.Read(uint64_t{i} * 8, n * 8,
                        reinterpret_cast<char*>(index_window_.data()));
      if (!io_.ok()) return {};
      index_first_ = i;
    }
    const uint64_t at = index_window_[i - index_first_];
    auto ensure = [&](uint64_t n) {
      n = std::min<uint64_t>(n, data_.size() - at);
      if (at >= window_at_ && at + n <= window_at_ + window_.size()) {
        return true;
      }
      window_.resize(std::min<uint64_t>(std::max<uint64_t>(n, kWindow),
                                        data_.size() - at));
      io_ = data_.Read(at, window_.size(), window_.data());
      window_at_ = at;
      return io_.ok();
    };
    if (!ensure(10)) return {};
    uint64_t word = 0;
    size_t used = GetLength(window_.data() + (at - window_at_),
                            window_.size() - (at - window_at_), &word);
    if (!ensure(used + (word >> 1))) return {};
    p = window_.data() + (at - window_at_);
    avail = window_.size() - (at - window_at_);
  }
  uint64_t word = 0;
  const size_t used = GetLength(p, avail, &word);
  if (repeat) *repeat = word & 1;
  return std::string_view(p + used, static_cast<size_t>(word >> 1));
}

std::string VariantKeys::Get(size_t i) const {
  return std::string(View(i, nullptr));
}

uint32_t* VariantKeys::Find(std::string_view base, uint64_t hash) {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  const uint8_t tag = static_cast<uint8_t>(hash >> 56);
  for (size_t h = hash;; ++h) {
    uint32_t& s = slots_[h & mask];
    if (!s) return nullptr;
    if (tags_[h & mask] == tag && View(s - 1, nullptr) == base) return &s;
  }
}

void VariantKeys::Grow() {
  std::vector<uint32_t> slots(std::max<size_t>(1024, slots_.size() * 2));
  std::vector<uint8_t> tags(slots.size());
  const size_t mask = slots.size() - 1;
  for (uint32_t s : slots_) {
    if (!s) continue;
    const uint64_t hash = Hash(View(s - 1, nullptr));
    size_t h = hash;
    while (slots[h & mask]) ++h;
    slots[h & mask] = s;
    tags[h & mask] = static_cast<uint8_t>(hash >> 56);
  }
  slots_ = std::move(slots);
  tags_ = std::move(tags);
}

void VariantKeys::Insert(std::string_view base, uint32_t index) {
  if ((slots_used_ + 1) * 4 > slots_.size() * 3) Grow();
  const size_t mask = slots_.size() - 1;
  const uint64_t hash = Hash(base);
  size_t h = hash;
  while (slots_[h & mask]) ++h;
  slots_[h & mask] = index + 1;
  tags_[h & mask] = static_cast<uint8_t>(hash >> 56);
  ++slots_used_;
}

Status VariantKeys::RebuildTable() {
  // Every earlier key back into the full table (first occurrences) or its
  // repeat count.
  for (size_t i = 0; i < count_; ++i) {
    bool repeat = false;
    std::string key(View(i, &repeat));
    if (!io_.ok()) return io_;
    if (!repeat) {
      Insert(key, static_cast<uint32_t>(i));
      continue;
    }
    key.resize(key.rfind('#'));
    if (uint32_t* s = Find(key, Hash(key))) ++repeats_[*s - 1];
  }
  return io_;
}

Status VariantKeys::Spill() {
  std::vector<uint64_t> offsets(mem_refs_.size());
  for (size_t k = 0; k < mem_refs_.size(); ++k) {
    offsets[k] = data_.size() + mem_refs_[k];
  }
  if (Status s = index_.Append(offsets.data(), offsets.size() * 8); !s.ok()) {
    return s;
  }
  if (Status s = data_.Append(mem_.data(), mem_.size()); !s.ok()) return s;
  spilled_ = count_;
  mem_.clear();
  mem_refs_.clear();
  return Status();
}

Result<std::string> VariantKeys::Add(std::string base, std::string_view chrom,
                                     int64_t pos) {
  if (!io_.ok()) return io_.error();
  if (count_ >= 0xfffffffeu) {
    return Error(ErrorCode::kLimitExceeded, "too many variants in a report");
  }
  if (base.size() > kMaxKey) {
    return Error(ErrorCode::kLimitExceeded, "a variant key is too long");
  }
  // Still sorted? (each chromosome once, positions not decreasing)
  if (sorted_) {
    bool in_order = pos >= 0;
    if (in_order && count_ > 0) {
      if (chrom == chrom_) {
        in_order = pos >= pos_;
        if (pos > pos_) locus_.clear();
      } else {
        done_chroms_.insert(chrom_);
        in_order = done_chroms_.find(chrom) == done_chroms_.end();
        locus_.clear();
      }
    }
    if (in_order) {
      chrom_.assign(chrom);
      pos_ = pos;
    } else {
      sorted_ = false;
      locus_.clear();
      done_chroms_.clear();
      if (Status s = RebuildTable(); !s.ok()) return s.error();
    }
  }
  bool repeat = false;
  if (sorted_) {
    const uint32_t times = ++locus_[base];
    if (times > 1) {
      repeat = true;
      base += "#" + std::to_string(times);
    }
  } else if (uint32_t* s = Find(base, Hash(base))) {
    const uint32_t times = ++repeats_[*s - 1];
    repeat = true;
    base += "#" + std::to_string(times + 1);
  } else {
    Insert(base, static_cast<uint32_t>(count_));
  }
  mem_refs_.push_back(static_cast<uint32_t>(mem_.size()));
  PutLength(mem_, uint64_t{base.size()} << 1 | (repeat ? 1 : 0));
  mem_ += base;
  ++count_;
  if (mem_refs_.size() >= spill_after_) {
    if (Status s = Spill(); !s.ok()) {
      io_ = s;
      return s.error();
    }
  }
  return base;
}

size_t VariantKeys::MemoryBytes() const {
  size_t bytes = mem_.capacity() + mem_refs_.capacity() * sizeof(uint32_t) +
                 window_.capacity() + index_window_.capacity() * 8 +
                 slots_.size() * (sizeof(uint32_t) + 1) + repeats_.size() * 16;
  for (const auto& [k, v] : locus_) bytes += k.capacity() + 32;
  for (const std::string& c : done_chroms_) bytes += c.capacity() + 48;
  return bytes;
}

// --- ResultLog ---------------------------------------------------------------

void ResultLog::Push(uint32_t w) {
  words_.push_back(w);
  if (words_.size() >= spill_after_ && io_.ok()) {
    io_ = file_.Append(words_.data(), words_.size() * sizeof(uint32_t));
    words_.clear();
  }
}

uint32_t ResultLog::Word(uint64_t i) const {
  const uint64_t in_file = file_.size() / 4;
  if (i >= in_file) return words_[i - in_file];
  if (i < read_first_ || i >= read_first_ + read_.size()) {
    read_.resize(std::min<uint64_t>(kWordBlock, in_file - i));
    io_ = file_.Read(i * 4, read_.size() * 4,
                     reinterpret_cast<char*>(read_.data()));
    read_first_ = i;
    if (!io_.ok()) return 0;
  }
  return read_[i - read_first_];
}

void ResultLog::AddVariant(uint64_t implications, uint64_t consequences) {
  if (implications < 64 && consequences < (uint64_t{1} << 24)) {
    Push(static_cast<uint32_t>(consequences << 8 | implications << 2));
    return;
  }
  Push(2);
  Push(static_cast<uint32_t>(implications >> 32));
  Push(static_cast<uint32_t>(implications));
  Push(static_cast<uint32_t>(consequences >> 32));
  Push(static_cast<uint32_t>(consequences));
}

void ResultLog::AddPhase(uint32_t first, uint32_t second) {
  Push(1);
  Push(first);
  Push(second);
}

}  // namespace genogate::mappers::internal

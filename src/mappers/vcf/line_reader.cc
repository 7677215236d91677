#include "mappers/vcf/line_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace genogate::mappers::vcf {

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kBgzf:
      return "bgzf";
  }
  return "none";
}

struct LineReader::Inflater {
  z_stream zs{};
  bool initialised = false;
  // True while inside a gzip member: bytes of it were consumed and its end
  // has not been seen. Input ending here means the data is truncated.
  bool in_member = false;
  ~Inflater() {
    if (initialised) inflateEnd(&zs);
  }
};

LineReader::LineReader(LineReaderOptions options) : options_(options) {
  if (options_.chunk_size < 4096) options_.chunk_size = 4096;
  if (options_.max_line_length == 0) options_.max_line_length = 1;
}

LineReader::~LineReader() {
  if (file_) std::fclose(file_);
}

Result<std::unique_ptr<LineReader>> LineReader::OpenFile(
    const std::string& path, LineReaderOptions options) {
  std::unique_ptr<LineReader> r(new LineReader(options));
  r->file_ = std::fopen(path.c_str(), "rb");
  if (!r->file_) {
    int e = errno;
    return Error(e == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                 "cannot open " + path + ": " + std::strerror(e));
  }
  r->raw_.resize(r->options_.chunk_size);
  if (Status s = r->Init(); !s.ok()) return s.error();
  return r;
}

Result<std::unique_ptr<LineReader>> LineReader::FromString(
    std::string data, LineReaderOptions options) {
  std::unique_ptr<LineReader> r(new LineReader(options));
  r->owned_ = std::move(data);
  r->mem_ = r->owned_;
  r->from_memory_ = true;
  if (Status s = r->Init(); !s.ok()) return s.error();
  return r;
}

Result<std::unique_ptr<LineReader>> LineReader::FromBuffer(
    std::string_view data, LineReaderOptions options) {
  std::unique_ptr<LineReader> r(new LineReader(options));
  r->mem_ = data;
  r->from_memory_ = true;
  if (Status s = r->Init(); !s.ok()) return s.error();
  return r;
}

Status LineReader::FillRaw() {
  if (raw_eof_) return Status::Ok();
  if (from_memory_) {
    // zlib counts input in uInt; feed at most 1 GiB at a time.
    size_t n = std::min<size_t>(mem_.size() - mem_pos_, size_t{1} << 30);
    raw_ptr_ = mem_.data() + mem_pos_;
    raw_avail_ = n;
    mem_pos_ += n;
    if (mem_pos_ == mem_.size()) raw_eof_ = true;
    source_bytes_ += n;
    return Status::Ok();
  }
  size_t n = std::fread(raw_.data(), 1, raw_.size(), file_);
  if (n < raw_.size()) {
    if (std::ferror(file_)) {
      return Error(ErrorCode::kIo,
                   std::string("read error: ") + std::strerror(errno));
    }
    raw_eof_ = true;
  }
  raw_ptr_ = raw_.data();
  raw_avail_ = n;
  source_bytes_ += n;
  return Status::Ok();
}

Status LineReader::Init() {
  if (Status s = FillRaw(); !s.ok()) return s;
  // A short first chunk may hide the magic of a tiny file; that is fine:
  // gzip needs 18 bytes at least, and we only look at the first 6.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(raw_ptr_);
  size_t n = raw_avail_;
  auto starts = [&](std::initializer_list<unsigned char> magic) {
    if (n < magic.size()) return false;
    size_t i = 0;
    for (unsigned char m : magic) {
      if (p[i++] != m) return false;
    }
    return true;
  };
  if (starts({0x1f, 0x8b})) {
    compression_ = Compression::kGzip;
    // BGZF: FLG.FEXTRA set and the first extra subfield is "BC".
    if (n >= 14 && p[2] == 8 && (p[3] & 4) && p[12] == 'B' && p[13] == 'C') {
      compression_ = Compression::kBgzf;
    }
    inflater_ = std::make_unique<Inflater>();
    if (inflateInit2(&inflater_->zs, 15 + 32) != Z_OK) {
      return Error(ErrorCode::kInternal, "cannot initialise zlib");
    }
    inflater_->initialised = true;
  } else if (starts({'B', 'Z', 'h'})) {
    return Error(ErrorCode::kInvalidInput,
                 "input is bzip2-compressed; only plain, gzip and bgzip "
                 "input is supported");
  } else if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) {
    return Error(ErrorCode::kInvalidInput,
                 "input is xz-compressed; only plain, gzip and bgzip input "
                 "is supported");
  } else if (starts({0x28, 0xb5, 0x2f, 0xfd})) {
    return Error(ErrorCode::kInvalidInput,
                 "input is zstd-compressed; only plain, gzip and bgzip input "
                 "is supported");
  }
  if (compression_ == Compression::kNone && from_memory_) {
    zero_copy_ = true;  // lines are views into mem_
    mem_pos_ = 0;
    return Status::Ok();
  }
  cap_ = std::min(options_.chunk_size, options_.max_line_length + 2);
  cap_ = std::max<size_t>(cap_, 4096);
  buf_.reset(new char[cap_]);
  return Status::Ok();
}

Result<size_t> LineReader::Decode(char* out, size_t cap) {
  if (!inflater_) {
    // Plain file: copy what is buffered, else read more.
    if (raw_avail_ == 0) {
      if (raw_eof_) return size_t{0};
      if (Status s = FillRaw(); !s.ok()) return s.error();
      if (raw_avail_ == 0) return size_t{0};
    }
    size_t n = std::min(cap, raw_avail_);
    std::memcpy(out, raw_ptr_, n);
    raw_ptr_ += n;
    raw_avail_ -= n;
    return n;
  }
  z_stream& zs = inflater_->zs;
  constexpr size_t kMaxStep = std::numeric_limits<uInt>::max();
  zs.next_out = reinterpret_cast<Bytef*>(out);
  zs.avail_out = static_cast<uInt>(std::min(cap, kMaxStep));
  while (true) {
    if (raw_avail_ == 0) {
      if (raw_eof_) {
        if (inflater_->in_member) {
          return Error(ErrorCode::kInvalidInput,
                       "gzip data is truncated: the input ends inside a "
                       "compressed member");
        }
        return size_t{0};
      }
      if (Status s = FillRaw(); !s.ok()) return s.error();
      continue;
    }
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw_ptr_));
    zs.avail_in = static_cast<uInt>(std::min(raw_avail_, kMaxStep));
    uInt before_in = zs.avail_in;
    uInt before_out = zs.avail_out;
    int ret = inflate(&zs, Z_NO_FLUSH);
    size_t consumed = before_in - zs.avail_in;
    size_t produced = before_out - zs.avail_out;
    raw_ptr_ += consumed;
    raw_avail_ -= consumed;
    if (consumed > 0) inflater_->in_member = true;
    if (ret == Z_STREAM_END) {
      inflater_->in_member = false;
      if (inflateReset(&zs) != Z_OK) {
        return Error(ErrorCode::kInternal, "cannot reset zlib");
      }
      if (produced > 0) return produced;
      continue;
    }
    if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT) {
      return Error(ErrorCode::kInvalidInput,
                   std::string("gzip data is corrupt (") +
                       (zs.msg ? zs.msg : "data error") +
                       "); trailing bytes after a gzip member or a damaged "
                       "block");
    }
    if (ret == Z_MEM_ERROR) {
      return Error(ErrorCode::kInternal, "zlib is out of memory");
    }
    // Z_OK or Z_BUF_ERROR (no progress: needs more input).
    if (produced > 0) return produced;
    if (consumed == 0 && raw_avail_ > 0) {
      return Error(ErrorCode::kInvalidInput,
                   "gzip data is corrupt: the decoder made no progress");
    }
  }
}

Result<bool> LineReader::ReadLine(std::string_view* line) {
  const size_t max = options_.max_line_length;
  if (zero_copy_) {
    if (mem_pos_ >= mem_.size()) return false;
    const char* start = mem_.data() + mem_pos_;
    size_t left = mem_.size() - mem_pos_;
    const void* nl = std::memchr(start, '\n', left);
    size_t len =
        nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : left;
    if (len > max) {
      return Error(
          ErrorCode::kLimitExceeded,
          "line is longer than the limit of " + std::to_string(max) + " bytes");
    }
    mem_pos_ += len + (nl ? 1 : 0);
    text_bytes_ += len + (nl ? 1 : 0);
    if (len > 0 && start[len - 1] == '\r') --len;
    *line = std::string_view(start, len);
    ++line_number_;
    return true;
  }
  while (true) {
    const void* nl = std::memchr(buf_.get() + scan_, '\n', end_ - scan_);
    if (nl) {
      const char* start = buf_.get() + begin_;
      size_t len = static_cast<size_t>(static_cast<const char*>(nl) - start);
      if (len > max) {
        return Error(ErrorCode::kLimitExceeded,
                     "line is longer than the limit of " + std::to_string(max) +
                         " bytes");
      }
      begin_ = scan_ = begin_ + len + 1;
      if (len > 0 && start[len - 1] == '\r') --len;
      *line = std::string_view(start, len);
      ++line_number_;
      return true;
    }
    scan_ = end_;
    if (end_ - begin_ > max) {
      return Error(
          ErrorCode::kLimitExceeded,
          "line is longer than the limit of " + std::to_string(max) + " bytes");
    }
    if (text_eof_) {
      if (begin_ == end_) return false;
      const char* start = buf_.get() + begin_;
      size_t len = end_ - begin_;
      begin_ = scan_ = end_;
      if (len > 0 && start[len - 1] == '\r') --len;
      *line = std::string_view(start, len);
      ++line_number_;
      return true;
    }
    if (end_ == cap_) {
      if (begin_ > 0) {
        std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        scan_ -= begin_;
        begin_ = 0;
      }
      if (end_ == cap_) {
        // The current line fills the buffer: grow, bounded by the limit.
        size_t new_cap = std::min(cap_ * 2, max + 2);
        if (new_cap <= cap_) new_cap = cap_ + 1;
        std::unique_ptr<char[]> bigger(new char[new_cap]);
        std::memcpy(bigger.get(), buf_.get(), end_);
        buf_ = std::move(bigger);
        cap_ = new_cap;
      }
    }
    Result<size_t> n = Decode(buf_.get() + end_, cap_ - end_);
    if (!n.ok()) return n.error();
    if (*n == 0) text_eof_ = true;
    end_ += *n;
    text_bytes_ += *n;
  }
}

}  // namespace genogate::mappers::vcf

// LineReader: streams text lines from a file or an in-memory buffer that is
// plain, gzip or bgzip (BGZF) compressed.
//
// The compression is detected from the magic bytes, never the file name.
// gzip and BGZF are decoded with zlib (windowBits 15+32), resetting the
// inflater at each member end, so concatenated gzip members (BGZF blocks,
// `cat a.gz b.gz`) are read as one stream. Input is read in fixed-size chunks;
// memory stays bounded by chunk_size + the longest line, whatever the input
// size. Lines longer than max_line_length fail with kLimitExceeded.
//
//   auto lr = LineReader::OpenFile(path);
//   if (!lr.ok()) return lr.error();
//   std::string_view line;
//   while (true) {
//     Result<bool> more = (*lr)->ReadLine(&line);
//     if (!more.ok()) return more.error();
//     if (!*more) break;
//     Use(line);  // valid until the next ReadLine
//   }
//
// Thread-safety: not thread-safe; one reader per thread.
#ifndef GENOGATE_MAPPERS_VCF_LINE_READER_H_
#define GENOGATE_MAPPERS_VCF_LINE_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace genogate::mappers::vcf {

enum class Compression { kNone, kGzip, kBgzf };

// "none", "gzip", "bgzf".
std::string_view CompressionName(Compression c);

struct LineReaderOptions {
  // Longest accepted line, excluding the line terminator.
  size_t max_line_length = size_t{64} << 20;
  // Size of each read from the file and of each inflate step.
  size_t chunk_size = size_t{256} << 10;
};

class LineReader {
 public:
  // Opens `path` and detects its compression from the first bytes.
  // Errors: kNotFound (no such file), kIo (cannot read), kInvalidInput
  // (bzip2/xz/zstd input, which is not supported).
  static Result<std::unique_ptr<LineReader>> OpenFile(
      const std::string& path, LineReaderOptions options = {});
  // Reads from `data`, which the reader owns. Errors as OpenFile.
  static Result<std::unique_ptr<LineReader>> FromString(
      std::string data, LineReaderOptions options = {});
  // Reads from `data`, which the caller keeps alive and unchanged for the
  // reader's lifetime. Plain text is served without copying.
  static Result<std::unique_ptr<LineReader>> FromBuffer(
      std::string_view data, LineReaderOptions options = {});

  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Sets *line to the next line without its "\n" or "\r\n" and returns true;
  // returns false at the end of the input. *line stays valid until the next
  // call. A final line without a newline is returned as a line.
  // Errors: kLimitExceeded (line longer than max_line_length),
  // kInvalidInput (corrupt or truncated gzip data, trailing garbage after a
  // gzip member), kIo (read failure). The message does not name the line;
  // line_number() + 1 is the line that failed.
  Result<bool> ReadLine(std::string_view* line);

  // 1-based number of the last line returned (0 before the first).
  uint64_t line_number() const { return line_number_; }
  Compression compression() const { return compression_; }
  // Bytes consumed from the source (compressed size) and lines' bytes
  // produced (decompressed size) so far.
  uint64_t source_bytes() const { return source_bytes_; }
  uint64_t text_bytes() const { return text_bytes_; }

 private:
  struct Inflater;
  explicit LineReader(LineReaderOptions options);
  Status Init();     // reads the first bytes, detects
  Status FillRaw();  // next compressed/plain chunk
  Result<size_t> Decode(char* out, size_t cap);  // into the line buffer

  LineReaderOptions options_;
  std::FILE* file_ = nullptr;
  std::string owned_;
  std::string_view mem_;
  bool from_memory_ = false;
  bool zero_copy_ = false;  // plain in-memory text: lines view mem_
  size_t mem_pos_ = 0;

  std::vector<char> raw_;  // file chunks
  const char* raw_ptr_ = nullptr;
  size_t raw_avail_ = 0;
  bool raw_eof_ = false;

  std::unique_ptr<Inflater> inflater_;
  Compression compression_ = Compression::kNone;

  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, begin_ = 0, end_ = 0, scan_ = 0;
  bool text_eof_ = false;

  uint64_t line_number_ = 0;
  uint64_t source_bytes_ = 0;
  uint64_t text_bytes_ = 0;
};

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_LINE_READER_H_

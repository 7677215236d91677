// VcfReader: streams a VCF 4.1-4.3 file (plain, gzip or bgzip) record by
// record, with constant memory whatever the file size.
//
//   VcfReader reader;
//   if (Status s = reader.OpenFile(path); !s.ok()) {
//     const VcfError& where = reader.error();  // line / column / reason
//     return s.error();
//   }
//   VcfRecord rec;
//   while (true) {
//     Result<bool> more = reader.Next(&rec);
//     if (!more.ok()) return more.error();  // reader.error() has details
//     if (!*more) break;
//     ...  // rec's views are valid until the next Next()
//   }
//
// keep_going: a malformed data line is reported (bad_records(), and the
// on_bad_record callback) and skipped; Next() then returns the next good
// record. Header errors, I/O and decompression errors and limits always stop
// reading.
//
// Thread-safety: not thread-safe; use one reader per thread. header() may
// be shared read-only once Open* has returned.
#ifndef GENOGATE_MAPPERS_VCF_VCF_READER_H_
#define GENOGATE_MAPPERS_VCF_VCF_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "mappers/vcf/line_reader.h"
#include "mappers/vcf/vcf_error.h"
#include "mappers/vcf/vcf_header.h"
#include "mappers/vcf/vcf_record.h"

namespace genogate::mappers::vcf {

struct VcfReaderOptions {
  // Report malformed data lines and continue with the next one.
  bool keep_going = false;
  // keep_going: how many bad-record errors bad_records() keeps (all are
  // counted in bad_record_count(), all go to on_bad_record).
  size_t max_kept_errors = 1000;
  // keep_going: called for every skipped record.
  std::function<void(const VcfError&)> on_bad_record;
  // Longest line (kLimitExceeded beyond).
  size_t max_line_length = size_t{64} << 20;
  // Most header lines accepted (kLimitExceeded beyond).
  size_t max_header_lines = 1000000;
  // Read chunk size.
  size_t chunk_size = size_t{256} << 10;
  ParseOptions parse;
};

class VcfReader {
 public:
  explicit VcfReader(VcfReaderOptions options = {});
  ~VcfReader();
  VcfReader(const VcfReader&) = delete;
  VcfReader& operator=(const VcfReader&) = delete;

  // Opens the input and reads the whole header. Errors (details in
  // error()): kNotFound/kIo (file), kInvalidInput (unsupported compression,
  // missing or unsupported ##fileformat, malformed meta line, missing or
  // malformed #CHROM line, duplicate sample), kLimitExceeded (line or header
  // too long). Call one Open* once per reader.
  Status OpenFile(const std::string& path);
  // Reads from `data`, owned by the reader (e.g. an HTTP body).
  Status OpenString(std::string data);
  // Reads from `data`, which the caller keeps alive while reading.
  Status OpenBuffer(std::string_view data);

  // Valid after a successful Open*.
  const VcfHeader& header() const { return header_; }

  // Reads the next record into *record: true, or false at the end of the
  // input. Errors (details in error()): kInvalidInput (malformed record,
  // unless keep_going; corrupt or truncated gzip), kLimitExceeded, kIo.
  // After an error the reader is finished: Next keeps returning it.
  Result<bool> Next(VcfRecord* record);

  // The details of the last Error returned by Open* or Next.
  const VcfError& error() const { return error_; }
  // keep_going: the first max_kept_errors skipped records, and the count.
  const std::vector<VcfError>& bad_records() const { return bad_records_; }
  uint64_t bad_record_count() const { return bad_record_count_; }

  uint64_t records_read() const { return records_read_; }
  // 1-based number of the last line read.
  uint64_t line_number() const;
  Compression compression() const;
  uint64_t source_bytes() const;  // compressed bytes consumed
  uint64_t text_bytes() const;    // decompressed bytes produced

 private:
  Status ReadHeader();
  Status FailWith(VcfError error);

  VcfReaderOptions options_;
  std::unique_ptr<LineReader> lines_;
  VcfHeader header_;
  VcfError error_;
  bool failed_ = false;
  bool done_ = false;
  std::vector<VcfError> bad_records_;
  uint64_t bad_record_count_ = 0;
  uint64_t records_read_ = 0;
};

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_VCF_READER_H_

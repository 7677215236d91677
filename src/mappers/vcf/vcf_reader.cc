#include "mappers/vcf/vcf_reader.h"

#include <utility>

#include "mappers/vcf/text_util.h"

namespace genogate::mappers::vcf {

VcfReader::VcfReader(VcfReaderOptions options) : options_(std::move(options)) {}

VcfReader::~VcfReader() = default;

Status VcfReader::FailWith(VcfError error) {
  error_ = std::move(error);
  failed_ = true;
  return error_.ToError();
}

namespace {

LineReaderOptions LineOptions(const VcfReaderOptions& o) {
  LineReaderOptions l;
  l.max_line_length = o.max_line_length;
  l.chunk_size = o.chunk_size;
  return l;
}

VcfError FromError(const Error& e, uint64_t line, std::string rule) {
  VcfError v;
  v.code = e.code();
  v.line = line;
  v.reason = e.message();
  v.rule = std::move(rule);
  return v;
}

std::string RuleForCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kLimitExceeded:
      return "vcf-limit";
    case ErrorCode::kInvalidInput:
      return "vcf-compression";
    default:
      return "vcf-io";
  }
}

}  // namespace

Status VcfReader::OpenFile(const std::string& path) {
  auto lr = LineReader::OpenFile(path, LineOptions(options_));
  if (!lr.ok()) {
    return FailWith(FromError(lr.error(), 0, RuleForCode(lr.error().code())));
  }
  lines_ = std::move(*lr);
  return ReadHeader();
}

Status VcfReader::OpenString(std::string data) {
  auto lr = LineReader::FromString(std::move(data), LineOptions(options_));
  if (!lr.ok()) {
    return FailWith(FromError(lr.error(), 0, RuleForCode(lr.error().code())));
  }
  lines_ = std::move(*lr);
  return ReadHeader();
}

Status VcfReader::OpenBuffer(std::string_view data) {
  auto lr = LineReader::FromBuffer(data, LineOptions(options_));
  if (!lr.ok()) {
    return FailWith(FromError(lr.error(), 0, RuleForCode(lr.error().code())));
  }
  lines_ = std::move(*lr);
  return ReadHeader();
}

Status VcfReader::ReadHeader() {
  std::string_view line;
  VcfError err;
  bool first = true;
  while (true) {
    Result<bool> more = lines_->ReadLine(&line);
    const uint64_t line_no = lines_->line_number();
    if (!more.ok()) {
      return FailWith(FromError(more.error(), line_no + 1,
                                RuleForCode(more.error().code())));
    }
    if (!*more) {
      if (first) {
        return FailWith({ErrorCode::kInvalidInput, 0, 0, "",
                         "the input is empty; expected a VCF starting with "
                         "##fileformat",
                         "vcf-fileformat"});
      }
      return FailWith({ErrorCode::kInvalidInput, line_no + 1, 0, "",
                       "the input ends before the #CHROM header line",
                       "vcf-header-missing-columns"});
    }
    if (line_no > options_.max_header_lines) {
      return FailWith({ErrorCode::kLimitExceeded, line_no, 0, "",
                       "the header has more than " +
                           std::to_string(options_.max_header_lines) + " lines",
                       "vcf-limit"});
    }
    if (first) {
      first = false;
      std::string_view l = line;
      // A UTF-8 byte order mark is tolerated.
      if (l.substr(0, 3) == "\xEF\xBB\xBF") l.remove_prefix(3);
      if (!header_.ParseFileFormatLine(l, line_no, &err)) {
        return FailWith(std::move(err));
      }
      continue;
    }
    if (line.substr(0, 2) == "##") {
      if (!header_.ParseMetaLine(line, line_no, &err)) {
        return FailWith(std::move(err));
      }
      continue;
    }
    if (line.substr(0, 1) == "#") {
      if (!header_.ParseColumnLine(line, line_no, &err)) {
        return FailWith(std::move(err));
      }
      header_.Finish();
      return Status::Ok();
    }
    return FailWith({ErrorCode::kInvalidInput, line_no, 0, "",
                     "missing #CHROM header line before the first record",
                     "vcf-header-missing-columns"});
  }
}

Result<bool> VcfReader::Next(VcfRecord* record) {
  if (failed_) return error_.ToError();
  if (done_ || !lines_) return false;
  std::string_view line;
  VcfError err;
  while (true) {
    Result<bool> more = lines_->ReadLine(&line);
    const uint64_t line_no = lines_->line_number();
    if (!more.ok()) {
      return FailWith(FromError(more.error(), line_no + 1,
                                RuleForCode(more.error().code())))
          .error();
    }
    if (!*more) {
      done_ = true;
      return false;
    }
    if (line.empty()) continue;  // tolerated (e.g. a trailing blank line)
    bool ok;
    if (line[0] == '#') {
      err = {ErrorCode::kInvalidInput,
             line_no,
             0,
             "",
             "header line " + QuoteText(line) + " after the #CHROM line",
             "vcf-header-order"};
      ok = false;
    } else {
      ok = record->Parse(line, line_no, header_, options_.parse, &err);
    }
    if (ok) {
      ++records_read_;
      return true;
    }
    if (!options_.keep_going) return FailWith(std::move(err)).error();
    ++bad_record_count_;
    if (options_.on_bad_record) options_.on_bad_record(err);
    if (bad_records_.size() < options_.max_kept_errors) {
      bad_records_.push_back(std::move(err));
    }
  }
}

uint64_t VcfReader::line_number() const {
  return lines_ ? lines_->line_number() : 0;
}

Compression VcfReader::compression() const {
  return lines_ ? lines_->compression() : Compression::kNone;
}

uint64_t VcfReader::source_bytes() const {
  return lines_ ? lines_->source_bytes() : 0;
}

uint64_t VcfReader::text_bytes() const {
  return lines_ ? lines_->text_bytes() : 0;
}

}  // namespace genogate::mappers::vcf

// Convert: one lab input (VCF, HL7 v2 ORU^R01 or lab JSON) to the entries of
// a FHIR transaction Bundle of Genomics Reporting IG 3.0.0 resources. The
// one conversion path behind `genogate convert`, the HTTP submission API and
// the MLLP listener, so every front end maps the same input the same way.
//
//   ConvertOptions o;  o.format = InputFormat::kVcf;  o.patient = ...;
//   Result<ConvertReport> r = ConvertFile(path, o, schema, sink);
//   if (!r.ok())          -> the conversion could not run (r.error())
//   else if (!r->ok())    -> the input is malformed: r->issues says where/why
//   else                  -> every entry went to `sink`, in Bundle order
//
// Entries go to the sink as they are built (a whole-genome VCF is never held
// in memory); when the input turns out to be malformed half-way, entries
// already emitted must be thrown away by the caller (the CLI writes its
// output atomically, the server queues only a complete bundle).
//
// Thread-safety: the functions are reentrant; `schema` is shared read-only.
#ifndef GENOGATE_MAPPERS_CONVERT_H_
#define GENOGATE_MAPPERS_CONVERT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/issue.h"
#include "base/result.h"
#include "fhir/schema.h"
#include "mappers/common/genomic_report.h"
#include "mappers/common/report_builder.h"
#include "mappers/hl7v2/problem.h"
#include "mappers/vcf/bed.h"
#include "mappers/vcf/vcf_error.h"

namespace genogate::mappers {

enum class InputFormat { kVcf, kHl7v2, kLabJson };

// "vcf", "hl7v2", "labjson".
std::string_view InputFormatName(InputFormat format);
// The inverse of InputFormatName; nullopt for anything else.
std::optional<InputFormat> ParseInputFormat(std::string_view name);

// HL7 v2 messages and lab JSON documents larger than this are refused (the
// same limit for convert, the HTTP API and the MLLP listener).
inline constexpr size_t kMaxMessageBytes = size_t{10} << 20;

// "SYSTEM|VALUE" (or "VALUE") -> identifier; the last '|' splits.
IdentifierValue ParseIdentifierText(std::string_view text);

// How far a VCF conversion has got (for a progress display).
struct ConvertProgress {
  uint64_t source_bytes = 0;  // bytes read from the input (gzip: compressed)
  uint64_t records = 0;       // data lines read
  uint64_t variants = 0;      // variant Observations emitted
};

struct ConvertOptions {
  InputFormat format = InputFormat::kVcf;
  // Genome build ("GRCh37" / "GRCh38"); empty: from the input (VCF header,
  // message, document), else an issue.
  std::string build;
  // VCF: the sample column (empty: the first).
  std::string sample;
  // VCF: keep only variants inside these regions.
  std::optional<vcf::RegionSet> regions;
  // VCF: the regions the test studied (recorded in the analysis).
  std::optional<vcf::RegionSet> studied;
  // VCF: keep only records whose FILTER is PASS.
  bool pass_only = false;
  // "germline" | "somatic" | "mixed" | "" (VCF: not stated; others: from
  // the input).
  std::string source_class;
  // VCF: required. Others: override the message/document when set.
  IdentifierValue patient;
  IdentifierValue accession;
  std::string lab;
  IdentifierValue specimen;
  // VCF: when patient.value / specimen.value is empty, take it from the
  // chosen sample column's name (a lab profile's `from: sample-name`); a VCF
  // without samples is then an options error.
  bool patient_from_sample = false;
  bool specimen_from_sample = false;
  // VCF: skip malformed data lines (listed in ConvertReport::skipped)
  // instead of refusing the file.
  bool keep_going = false;
  // HL7 v2 and lab JSON: refuse larger inputs (a kLimitExceeded issue).
  size_t max_message_bytes = kMaxMessageBytes;
  // Passed to the builder (issued time, identifier system, fullUrls).
  BuildOptions build_options;
  // VCF: called every `progress_every` records and once at the end, on the
  // converting thread (the mappers never read the clock: the caller times).
  std::function<void(const ConvertProgress&)> progress;
  uint64_t progress_every = 16384;
};

// What the conversion found out about the input.
struct ConvertReport {
  // Findings with location (line/column for VCF and BED, HL7 location for
  // v2, JSON pointer for lab JSON) and a message that names where and why
  // (e.g. "line 12, column 2 (POS): \"12a\" is not a positive integer").
  // Any error: the input is malformed and what was emitted is unusable.
  IssueList issues;
  // HL7 v2 input: every problem as read, for an ACK's ERR segments.
  std::vector<hl7v2::Problem> hl7v2_problems;
  // HL7 v2: the message was refused as a whole (unreadable header,
  // unsupported type/version/processing id): an ACK says AR, not AE.
  bool hl7v2_rejected = false;
  // VCF with keep_going: the records skipped (the first 1000) and count.
  std::vector<vcf::VcfError> skipped;
  uint64_t skipped_count = 0;
  // One per report built ("lab slug|accession system|accession value"):
  // the ordering key of the report in the delivery queue.
  std::vector<std::string> report_keys;
  // Variant Observations emitted.
  uint64_t variants = 0;
  // Entries emitted.
  uint64_t entries = 0;

  bool ok() const { return !issues.HasErrors(); }
};

// Converts the file at `path` ("-": standard input). Errors: kNotFound /
// kIo when the file cannot be read, kInvalidInput when the options are
// unusable (a VCF without patient or accession: the message names the
// option), the sink's own errors, kInternal for bugs. Malformed input is
// not an Error: it is reported in ConvertReport::issues.
Result<ConvertReport> ConvertFile(const std::string& path,
                                  const ConvertOptions& options,
                                  const fhir::Schema& schema, EntrySink sink);

// As ConvertFile, over bytes in memory (a VCF may be gzip/bgzip).
Result<ConvertReport> ConvertBytes(std::string data,
                                   const ConvertOptions& options,
                                   const fhir::Schema& schema, EntrySink sink);

// As ConvertFile / ConvertBytes, with the entries as FHIR JSON text (see
// JsonEntrySink in report_builder.h): the same entries, byte for byte as
// fhir::WriteJson writes them, built without element trees for the
// per-variant resources; the fast path for writing JSON or NDJSON and the
// one whose memory stays flat on a whole-genome VCF. `sink` must outlive
// the call.
Result<ConvertReport> ConvertFileToJson(const std::string& path,
                                        const ConvertOptions& options,
                                        const fhir::Schema& schema,
                                        JsonEntrySink* sink);
Result<ConvertReport> ConvertBytesToJson(std::string data,
                                         const ConvertOptions& options,
                                         const fhir::Schema& schema,
                                         JsonEntrySink* sink);

// An OperationOutcome (FHIR JSON) listing the VCF records skipped under
// keep_going, each as an error issue naming line, column and reason, plus a
// warning for the skipped records not listed.
std::string SkippedRecordsOutcome(const ConvertReport& report);

// "line 12, column 2 (POS): reason": where a VCF/BED error is, without the
// column name of sample columns (sample names can identify a patient).
std::string DescribeVcfError(const vcf::VcfError& error);

}  // namespace genogate::mappers

#endif  // GENOGATE_MAPPERS_CONVERT_H_

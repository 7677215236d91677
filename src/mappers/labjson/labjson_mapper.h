// Lab JSON ("genogate-lab-result/1"): the documented JSON format for labs
// that send neither VCF nor HL7 v2 (docs/lab-json.md,
// schemas/lab-result.schema.json), read into the neutral
// GenomicReportInput.
//
// Reading is strict: every field is checked against the format, unknown
// fields are rejected (so a typo is caught rather than silently dropped),
// duplicate keys are rejected, and every problem names the JSON pointer of
// the offending field, e.g. "/variants/2/start: must be an integer >= 0".
// All problems of a document are collected (up to Limits::max_problems).
// Problems never quote patient values (identifier, name, birth date,
// gender): they name the field and what is expected.
//
// Coordinates: the document states `coordinateSystem` per variant and per
// studied region; "1-based" (inclusive start and end) is converted to the
// model's 0-based interval counting (start - 1 .. end).
//
// Thread-safety: ReadLabJson is reentrant.
#ifndef GENOGATE_MAPPERS_LABJSON_LABJSON_MAPPER_H_
#define GENOGATE_MAPPERS_LABJSON_LABJSON_MAPPER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "mappers/common/genomic_report.h"

namespace genogate::mappers::labjson {

// The value of the document's "format" member.
inline constexpr std::string_view kFormat = "genogate-lab-result/1";

struct Limits {
  size_t max_bytes = size_t{16} << 20;  // whole document
  size_t max_depth = 16;                // nesting of arrays and objects
  size_t max_variants = 100000;
  size_t max_string_bytes = size_t{64} << 10;
  size_t max_problems = 100;  // collected before reading stops
};

// One finding about the document.
struct Problem {
  std::string pointer;  // RFC 6901 JSON pointer; "" = the whole document
  std::string reason;   // e.g. "must be an integer >= 0"

  // "/variants/2/start: must be an integer >= 0" ("(document): ..." for "").
  std::string ToString() const;
};

// Reads a lab JSON document. On success the report is returned and
// `problems` (if not null) is left empty. On any problem the Error is
// kInvalidInput (kLimitExceeded when a size/depth limit was hit) whose
// message is the first problem and the count of others, and every problem
// is appended to `problems`. Each VariantCall's source_location is its
// pointer ("/variants/0").
Result<GenomicReportInput> ReadLabJson(std::string_view text,
                                       std::vector<Problem>* problems,
                                       const Limits& limits = Limits());

}  // namespace genogate::mappers::labjson

#endif  // GENOGATE_MAPPERS_LABJSON_LABJSON_MAPPER_H_

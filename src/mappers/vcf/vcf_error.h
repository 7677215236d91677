// VcfError: where a VCF (or BED) input is malformed, and why.
//
// Every failure of the VCF/BED readers carries the 1-based line number, the
// 1-based tab-separated column (with its name, e.g. "POS" or a sample name)
// and a reason, so a caller can build an OperationOutcome issue that points
// at the exact spot:
//
//   line 12, column 2 (POS): "12a" is not a positive integer
//
// Thread-safety: a plain value type.
#ifndef GENOGATE_MAPPERS_VCF_VCF_ERROR_H_
#define GENOGATE_MAPPERS_VCF_VCF_ERROR_H_

#include <cstdint>
#include <string>

#include "base/error.h"
#include "base/issue.h"

namespace genogate::mappers::vcf {

struct VcfError {
  // kInvalidInput for malformed data, kLimitExceeded for a configured limit,
  // kNotFound / kIo when the file cannot be opened or read.
  ErrorCode code = ErrorCode::kInvalidInput;
  // 1-based line number; 0 when the error is not about one line (e.g. the
  // file cannot be opened).
  uint64_t line = 0;
  // 1-based tab-separated column; 0 when the error is about the whole line.
  uint32_t column = 0;
  // "CHROM", "POS", ..., "FORMAT", or the sample name for sample columns;
  // empty when column is 0.
  std::string column_name;
  // What is wrong, without the location, e.g. "\"12a\" is not a positive
  // integer".
  std::string reason;
  // Stable rule id for tests and metrics, e.g. "vcf-pos", "vcf-info-type".
  std::string rule;

  // "line 12, column 2 (POS): <reason>", "line 3: <reason>" or "<reason>".
  std::string Message() const;
  // Error(code, Message()).
  Error ToError() const;
  // An Issue of severity error with line, column, code = rule and
  // type "structure" (kInvalidInput) or "too-long" (kLimitExceeded).
  Issue ToIssue() const;
};

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_VCF_ERROR_H_

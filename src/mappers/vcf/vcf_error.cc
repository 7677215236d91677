#include "mappers/vcf/vcf_error.h"

#include <algorithm>
#include <limits>

namespace genogate::mappers::vcf {

std::string VcfError::Message() const {
  std::string out;
  if (line > 0) {
    out = "line " + std::to_string(line);
    if (column > 0) {
      out += ", column " + std::to_string(column);
      if (!column_name.empty()) out += " (" + column_name + ")";
    }
    out += ": ";
  }
  out += reason;
  return out;
}

Error VcfError::ToError() const { return Error(code, Message()); }

Issue VcfError::ToIssue() const {
  Issue issue;
  issue.severity = Severity::kError;
  issue.type = code == ErrorCode::kLimitExceeded ? "too-long" : "structure";
  issue.message = Message();
  constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
  issue.line = static_cast<uint32_t>(std::min<uint64_t>(line, kMax));
  issue.column = column;
  issue.code = rule.empty() ? "vcf-syntax" : rule;
  return issue;
}

}  // namespace genogate::mappers::vcf

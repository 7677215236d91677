#include "mappers/hl7v2/problem.h"

#include <string>

namespace genogate::mappers::hl7v2 {

std::string_view Hl7ErrorText(Hl7Error code) {
  switch (code) {
    case Hl7Error::kSegmentSequence:
      return "Segment sequence error";
    case Hl7Error::kRequiredFieldMissing:
      return "Required field missing";
    case Hl7Error::kDataType:
      return "Data type error";
    case Hl7Error::kTableValueNotFound:
      return "Table value not found";
    case Hl7Error::kValueTooLong:
      return "Value too long";
    case Hl7Error::kUnsupportedMessageType:
      return "Unsupported message type";
    case Hl7Error::kUnsupportedEventCode:
      return "Unsupported event code";
    case Hl7Error::kUnsupportedProcessingId:
      return "Unsupported processing id";
    case Hl7Error::kUnsupportedVersionId:
      return "Unsupported version id";
    case Hl7Error::kUnknownKeyIdentifier:
      return "Unknown key identifier";
    case Hl7Error::kDuplicateKeyIdentifier:
      return "Duplicate key identifier";
    case Hl7Error::kApplicationRecordLocked:
      return "Application record locked";
    case Hl7Error::kApplicationInternalError:
      return "Application internal error";
  }
  return "Application internal error";
}

std::string_view SeverityCode(ProblemSeverity s) {
  switch (s) {
    case ProblemSeverity::kError:
      return "E";
    case ProblemSeverity::kWarning:
      return "W";
    case ProblemSeverity::kInformation:
      return "I";
  }
  return "E";
}

std::string ErrorLocation::ToString() const {
  std::string out;
  if (!segment.empty()) {
    out = segment;
    if (sequence > 0) out += " #" + std::to_string(sequence);
    if (line > 0) out += " (line " + std::to_string(line) + ")";
  }
  auto add = [&out](std::string_view what, size_t n) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += what;
    out += ' ';
    out += std::to_string(n);
  };
  add("field", field);
  if (repetition > 1) add("repetition", repetition);
  add("component", component);
  add("subcomponent", subcomponent);
  if (out.empty()) out = "message";
  return out;
}

std::string Problem::ToString() const {
  return where.ToString() + ": " + reason;
}

Issue ToIssue(const Problem& p) {
  Issue issue;
  switch (p.severity) {
    case ProblemSeverity::kError:
      issue.severity = p.rejects_message ? Severity::kFatal : Severity::kError;
      break;
    case ProblemSeverity::kWarning:
      issue.severity = Severity::kWarning;
      break;
    case ProblemSeverity::kInformation:
      issue.severity = Severity::kInformation;
      break;
  }
  switch (p.code) {
    case Hl7Error::kSegmentSequence:
      issue.type = "structure";
      break;
    case Hl7Error::kRequiredFieldMissing:
      issue.type = "required";
      break;
    case Hl7Error::kDataType:
      issue.type = "value";
      break;
    case Hl7Error::kTableValueNotFound:
      issue.type = "code-invalid";
      break;
    case Hl7Error::kValueTooLong:
      issue.type = "too-long";
      break;
    case Hl7Error::kApplicationInternalError:
      issue.type = "exception";
      break;
    case Hl7Error::kDuplicateKeyIdentifier:
      issue.type = "duplicate";
      break;
    default:
      issue.type = "not-supported";
      break;
  }
  issue.message = p.reason;
  const ErrorLocation& w = p.where;
  if (!w.segment.empty()) {
    issue.location = w.segment;
    if (w.sequence > 0)
      issue.location += "[" + std::to_string(w.sequence) + "]";
    if (w.field > 0) {
      issue.location += "-" + std::to_string(w.field);
      if (w.repetition > 1) {
        issue.location += "(" + std::to_string(w.repetition) + ")";
      }
      if (w.component > 0) issue.location += "." + std::to_string(w.component);
      if (w.subcomponent > 0) {
        issue.location += "." + std::to_string(w.subcomponent);
      }
    }
  }
  issue.line = static_cast<uint32_t>(w.line);
  issue.code = "v2-" + std::to_string(static_cast<int>(p.code));
  return issue;
}

}  // namespace genogate::mappers::hl7v2

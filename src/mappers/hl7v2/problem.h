// Problem: one finding about an HL7 v2 message, located precisely enough for
// an ERR segment (ERR-2 location, ERR-3 HL7 table 0357 code, ERR-4 severity)
// and for a person reading a log.
//
// Problems never quote patient data: readers name segments, fields and data
// types, and quote values only from OBX-5 / coded fields whose content is a
// test result (never PID, NK1, PV1 contents).
//
// Thread-safety: plain value types.
#ifndef GENOGATE_MAPPERS_HL7V2_PROBLEM_H_
#define GENOGATE_MAPPERS_HL7V2_PROBLEM_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/issue.h"

namespace genogate::mappers::hl7v2 {

// HL7 table 0357 "Message error condition codes".
enum class Hl7Error : int {
  kSegmentSequence = 100,
  kRequiredFieldMissing = 101,
  kDataType = 102,
  kTableValueNotFound = 103,
  kValueTooLong = 104,
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersionId = 203,
  kUnknownKeyIdentifier = 204,
  kDuplicateKeyIdentifier = 205,
  kApplicationRecordLocked = 206,
  kApplicationInternalError = 207,
};

// The table 0357 display text, e.g. "Data type error".
std::string_view Hl7ErrorText(Hl7Error code);

// HL7 table 0516 "Error severity".
enum class ProblemSeverity { kError, kWarning, kInformation };

// "E", "W", "I".
std::string_view SeverityCode(ProblemSeverity s);

// Where a problem is, in HL7 numbering (all 1-based; 0 = not applicable).
struct ErrorLocation {
  std::string segment;    // "OBX"; empty when no segment could be read
  size_t sequence = 0;    // occurrence of `segment` in the message (OBX #3)
  size_t field = 0;       // OBX-5 -> 5 (MSH-1 is the field separator)
  size_t repetition = 0;  // 0 = not given (written as 1 when field > 0)
  size_t component = 0;
  size_t subcomponent = 0;
  size_t line = 0;  // segment's position in the message (1-based)

  // "OBX #3 (line 7), field 5, component 2"; "message" if nothing is set.
  std::string ToString() const;
};

struct Problem {
  ErrorLocation where;
  Hl7Error code = Hl7Error::kApplicationInternalError;
  ProblemSeverity severity = ProblemSeverity::kError;
  // What is wrong, without patient data, e.g.
  // "\"abc\" is not a number (OBX-2 is NM)".
  std::string reason;
  // True when the message as a whole is refused (MSA-1 AR): unreadable
  // header, unsupported type, event, version or processing id.
  bool rejects_message = false;

  // "OBX #3 (line 7), field 5: \"abc\" is not a number (OBX-2 is NM)".
  std::string ToString() const;
};

// The same finding as a genogate Issue: code "v2-<0357 code>", location like
// "OBX[3]-5.2", line = segment line.
Issue ToIssue(const Problem& p);

}  // namespace genogate::mappers::hl7v2

#endif  // GENOGATE_MAPPERS_HL7V2_PROBLEM_H_

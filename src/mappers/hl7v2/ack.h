// ACK builder: the answer to an HL7 v2 message, in original acknowledgment
// mode.
//
//   OruReadResult r = ReadOruR01(text);
//   AckOptions o;  o.control_id = NextId();  o.timestamp = NowAsHl7();
//   std::string ack = BuildAck(r, o);   // "MSH|...\rMSA|AE|...\rERR|...\r"
//
// MSH: sender and receiver of the original swapped (MSH-3..6), the same
// encoding characters, MSH-7 = options.timestamp, MSH-9 ACK^R01^ACK,
// MSH-10 = options.control_id, MSH-11 and MSH-12 echoed (defaults "P" and
// options.default_version when the original has none or an unusable one).
// MSA-1: AR if a problem rejects the message, AE if any problem is an error,
// else AA; MSA-2 = the original MSH-10.
// One ERR per problem (up to options.max_err_segments): ERR-2 location
// (segment^sequence^field^repetition^component^sub-component), ERR-3 table
// 0357 code (code^text^HL70357), ERR-4 severity (E/W/I), ERR-8 the problem
// as text, escaped. For versions before 2.5 (no ERR-2..8), ERR-1 carries
// segment^sequence^field^code&text&HL70357 and MSA-3 the first error's text.
// Segments end with CR.
//
// Thread-safety: pure functions.
#ifndef GENOGATE_MAPPERS_HL7V2_ACK_H_
#define GENOGATE_MAPPERS_HL7V2_ACK_H_

#include <string>
#include <string_view>
#include <vector>

#include "mappers/hl7v2/er7.h"
#include "mappers/hl7v2/mllp.h"
#include "mappers/hl7v2/oru_r01.h"
#include "mappers/hl7v2/problem.h"

namespace genogate::mappers::hl7v2 {

enum class AckCode { kAccept, kError, kReject };

// "AA", "AE", "AR".
std::string_view AckCodeText(AckCode code);

// AR if any problem rejects the message, else AE if any is an error, else AA.
AckCode DecideAck(const std::vector<Problem>& problems);

struct AckOptions {
  // MSH-10 of the ACK; the caller makes it unique.
  std::string control_id;
  // MSH-7, an HL7 DTM such as "20240501120000+0000"; empty leaves MSH-7
  // empty (the library reads no clock).
  std::string timestamp;
  // Our MSH-3 / MSH-4 when the original names no receiver (MSH-5 / MSH-6),
  // and in the ACK for text without a readable MSH.
  std::string application = "GENOGATE";
  std::string facility;
  // MSH-12 when the original has no usable version.
  std::string default_version = "2.5.1";
  // More problems than this: the last ERR says how many were left out.
  size_t max_err_segments = 50;
};

// The ACK for `message` (nullptr when no MSH could be read: a generic header
// with the default delimiters, MSA-1 AR and MSA-2 = `fallback_control_id`,
// which is written only if it is plain printable text).
std::string BuildAck(const Message* message,
                     const std::vector<Problem>& problems,
                     const AckOptions& options,
                     std::string_view fallback_control_id = {});

// The ACK for a ReadOruR01 result.
std::string BuildAck(const OruReadResult& result, const AckOptions& options);

// The ACK (AR) for an MLLP framing error: the header is echoed from the
// event's partial payload when it has a readable MSH, else generic.
std::string BuildFramingAck(const MllpEvent& event, const AckOptions& options);

}  // namespace genogate::mappers::hl7v2

#endif  // GENOGATE_MAPPERS_HL7V2_ACK_H_

// libFuzzer target: ER7 parse + ORU^R01 extraction + ACK building, and the
// path accessor, on arbitrary bytes. Checks the invariants the ACK relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mappers/hl7v2/ack.h"
#include "mappers/hl7v2/er7.h"
#include "mappers/hl7v2/oru_r01.h"

using namespace genogate::mappers::hl7v2;  // NOLINT: fuzz driver

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  OruReadOptions options;
  options.default_utc_offset = size % 2 ? "+00:00" : "";
  OruReadResult r = ReadOruR01(text, options);
  AckOptions ack_options;
  ack_options.control_id = "F1";
  ack_options.max_err_segments = 20;
  std::string ack = BuildAck(r, ack_options);
  // An ACK is always a readable ER7 message with MSA.
  genogate::Result<Message> parsed = ParseEr7(ack);
  if (!parsed.ok() || parsed->Find("MSA") == nullptr ||
      parsed->Get("MSH-9.1") != "ACK" || parsed->Get("MSH-9.2") != "R01" ||
      parsed->Get("MSH-10") != "F1") {
    std::abort();
  }
  if (r.message) {
    const Message& m = *r.message;
    // Walk every element through both APIs.
    for (const Segment& s : m.segments()) {
      for (size_t f = 1; f <= s.FieldCount() && f < 40; ++f) {
        Element e = s.Field(f);
        for (size_t rep = 1; rep <= e.RepetitionCount() && rep < 8; ++rep) {
          Element re = e.Repetition(rep);
          for (size_t c = 1; c <= re.ComponentCount() && c < 12; ++c) {
            Element ce = re.Component(c);
            (void)ce.Sub(2).Value();
            (void)ce.Value();
          }
        }
      }
    }
    if (size > 8) {
      std::string path(text.substr(size - 8));
      (void)m.Get(path);
    }
    // Escape/unescape round trip of arbitrary text with these delimiters.
    std::string esc = Escape(text.substr(0, 256), m.delimiters());
    std::string back;
    if (Unescape(esc, m.delimiters(), &back) != EscapeStatus::kOk) {
      std::abort();
    }
  }
  for (const Problem& p : r.problems) (void)ToIssue(p);
  return 0;
}

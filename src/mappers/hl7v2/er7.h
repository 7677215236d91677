// ER7 ("pipe and hat") reader for HL7 v2 messages.
//
//   Result<Message> msg = ParseEr7(text);
//   if (!msg.ok()) return msg.error();
//   std::string mrn = msg->Get("PID-3(2).1");          // unescaped
//   Element obx5 = msg->Find("OBX", 3)->Field(5);       // raw, lazy split
//   std::string unit = obx5.Component(2).Value();
//
// Segments are separated by CR; LF and CRLF are tolerated. Delimiters come
// from MSH-1 and MSH-2 (4 characters, or 5 with the v2.7+ truncation
// character). Numbering is HL7's, 1-based: MSH-1 is the field separator
// itself and MSH-2 the encoding characters (both returned literally, never
// split or unescaped).
//
// Zero-copy: the Message keeps one copy of the text; Segment and Element are
// views into it and valid while the Message lives (moving the Message keeps
// them valid). Splitting into repetitions/components/sub-components and
// unescaping happen on access.
//
// Thread-safety: a parsed Message is immutable; const access from several
// threads is safe.
#ifndef GENOGATE_MAPPERS_HL7V2_ER7_H_
#define GENOGATE_MAPPERS_HL7V2_ER7_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "mappers/hl7v2/problem.h"

namespace genogate::mappers::hl7v2 {

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  char truncation = '\0';  // '\0' when MSH-2 has only 4 characters

  // MSH-2 as it would be written: "^~\\&" (+ truncation character).
  std::string EncodingCharacters() const;
};

enum class EscapeStatus {
  kOk,
  kUnknownSequence,  // e.g. "\Q\": kept verbatim in the output
  kUnterminated,     // an escape character without its closing partner
  kBadHex,           // "\X..\" with an odd length or non-hex digits
};

// Appends the unescaped form of `raw` to *out: \F\ \S\ \T\ \R\ \E\ become the
// delimiters, \Xhh..\ bytes, \.br\ a newline, \.sp\ (\.sp n\) newlines;
// highlighting (\H\ \N\) and other formatting commands are dropped; \Z..\,
// \C..\ and \M..\ and unknown sequences are kept verbatim; an unterminated
// or malformed sequence is kept verbatim from its escape character on.
// Returns the first non-kOk status met, else kOk.
EscapeStatus Unescape(std::string_view raw, const Delimiters& d,
                      std::string* out);

// The inverse for plain text: delimiters and the escape character become
// escape sequences, CR/LF become \.br\ (CRLF one \.br\), other control
// characters \Xhh\.
std::string Escape(std::string_view text, const Delimiters& d);

// A field, one repetition of it, a component or a sub-component: a view into
// the message text. A default-constructed Element is "not present".
class Element {
 public:
  enum class Level { kField, kRepetition, kComponent, kSubcomponent };

  Element() = default;
  Element(std::string_view raw, const Delimiters& d, Level level,
          bool literal = false)
      : raw_(raw), delims_(d), level_(level), literal_(literal) {}

  // The text as it stands in the message (still escaped).
  std::string_view raw() const { return raw_; }
  bool empty() const { return raw_.empty(); }
  // HL7's explicit null: the value "" (two double quotes).
  bool is_null() const { return raw_ == "\"\""; }
  Level level() const { return level_; }

  // The unescaped text. For a field or component this is the whole raw text
  // unescaped (its inner delimiters stay as they are). *status, if given,
  // receives the escape status (see Unescape).
  std::string Value(EscapeStatus* status = nullptr) const;

  // Number of repetitions/components/sub-components (at least 1 when
  // present, 0 when empty).
  size_t RepetitionCount() const;
  size_t ComponentCount() const;
  size_t SubcomponentCount() const;

  // 1-based. Component() of a field applies to its first repetition and
  // Sub() of a field or repetition to its first component, as HL7 reads
  // them. Out of range or level mismatch (a repetition of a component)
  // returns an empty Element.
  Element Repetition(size_t r) const;
  // All repetitions, split in one pass (use this, not Repetition(k) in a
  // loop, on fields that may repeat many times). Empty when empty.
  std::vector<Element> Repetitions() const;
  Element Component(size_t c) const;
  Element Sub(size_t s) const;

 private:
  std::string_view raw_;
  Delimiters delims_;
  Level level_ = Level::kField;
  bool literal_ = false;  // MSH-1 / MSH-2: never split
};

class Segment {
 public:
  std::string_view id() const { return fields_.empty() ? "" : fields_[0]; }
  // The occurrence of this segment id in the message (the 3rd OBX -> 3).
  size_t sequence() const { return sequence_; }
  // The position of this segment in the message, 1-based.
  size_t line() const { return line_; }
  // The highest field number present (MSH counts MSH-1 and MSH-2).
  size_t FieldCount() const { return fields_.empty() ? 0 : fields_.size() - 1; }
  // 1-based; an absent field is an empty Element.
  Element Field(size_t i) const;
  std::string_view raw() const { return raw_; }
  // Location of this segment (and optionally a field) for a Problem.
  ErrorLocation Where(size_t field = 0, size_t component = 0) const;

 private:
  friend class MessageBuilder;
  std::string_view raw_;
  std::vector<std::string_view> fields_;  // [0] = id
  Delimiters delims_;
  size_t sequence_ = 0;
  size_t line_ = 0;
  bool is_msh_ = false;
};

// The largest HL7 v2 message genogate reads by default, everywhere: `convert
// --from hl7v2`, the MLLP decoder and the MLLP listener (10 MiB).
inline constexpr size_t kMaxMessageBytes = size_t{10} << 20;

struct ParseOptions {
  // Larger texts fail with kLimitExceeded.
  size_t max_bytes = kMaxMessageBytes;
  size_t max_segments = 100000;
  size_t max_fields_per_segment = 1000;
};

class Message {
 public:
  Message(Message&&) = default;
  Message& operator=(Message&&) = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  const Delimiters& delimiters() const { return delims_; }
  const std::vector<Segment>& segments() const { return segments_; }
  // The `occurrence`-th segment with this id (1-based), or nullptr.
  const Segment* Find(std::string_view id, size_t occurrence = 1) const;
  // The segment count with this id.
  size_t Count(std::string_view id) const;

  // Path access: "SEG[(n)]-F[(r)][.C[.S]]", e.g. "PID-3", "PID-3(2).1",
  // "OBX(3)-5.2", "MSH-9.2", "MSH-2". Returns nullopt when the path is
  // malformed or the segment is absent; an absent field is an empty Element.
  std::optional<Element> At(std::string_view path) const;
  // Unescaped value at `path`; "" when absent or the path is malformed.
  std::string Get(std::string_view path) const;

  // Problems found while reading that did not stop it (a malformed segment
  // id, a segment with too many fields, ...).
  const std::vector<Problem>& problems() const { return problems_; }
  // The message text as given (line breaks untouched).
  std::string_view text() const { return *text_; }

 private:
  friend class MessageBuilder;
  Message() = default;
  std::unique_ptr<std::string> text_;  // heap: views stay valid across moves
  Delimiters delims_;
  std::vector<Segment> segments_;
  std::vector<Problem> problems_;
};

// Parses ER7 text. Leading/trailing blank lines and a trailing NUL are
// tolerated.
// Fails with:
//  - kLimitExceeded when the text is larger than options.max_bytes or has
//    more than options.max_segments segments;
//  - kInvalidInput when the text does not start with an MSH segment or MSH-1
//    / MSH-2 are unusable (missing, too short, repeated or alphanumeric
//    characters).
// The Error message names the location ("MSH (line 1), field 2: ...") and
// never quotes message content. If `fatal` is given, the failure is also
// appended to it as a Problem (rejects_message = true) for an ACK.
Result<Message> ParseEr7(std::string_view text,
                         const ParseOptions& options = {},
                         std::vector<Problem>* fatal = nullptr);

// Best effort for the ACK of a text ParseEr7 refused: MSH-10 of the first
// line that starts with "MSH", split at the character after "MSH". Returns
// "" when there is none or it holds anything but printable ASCII without
// the usual delimiters (^~\&|#), or is longer than 199 characters.
std::string SalvageControlId(std::string_view text);

}  // namespace genogate::mappers::hl7v2

#endif  // GENOGATE_MAPPERS_HL7V2_ER7_H_

// UTF-8 validation for untrusted input, and encoding of code points.
//
// Thread-safety: pure functions.
#ifndef GENOGATE_BASE_UTF8_H_
#define GENOGATE_BASE_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace genogate {

// Returns text.size() if `text` is well-formed UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), else the byte
// offset of the first ill-formed sequence. ASCII runs are checked eight
// bytes at a time.
size_t FindInvalidUtf8(std::string_view text);

inline bool IsValidUtf8(std::string_view text) {
  return FindInvalidUtf8(text) == text.size();
}

// Appends the UTF-8 encoding of code point `cp` (one to four bytes) to
// `out`. `cp` must be at most U+10FFFF; a surrogate code point is encoded
// as it is (three bytes that FindInvalidUtf8 rejects), so callers that want
// well-formed text pass Unicode scalar values. Never fails.
void AppendUtf8(std::string& out, char32_t cp);

}  // namespace genogate

#endif  // GENOGATE_BASE_UTF8_H_

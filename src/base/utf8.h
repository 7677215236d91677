// UTF-8 validation for untrusted input.
//
// Thread-safety: pure functions.
#ifndef GENOGATE_BASE_UTF8_H_
#define GENOGATE_BASE_UTF8_H_

#include <cstddef>
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

}  // namespace genogate

#endif  // GENOGATE_BASE_UTF8_H_

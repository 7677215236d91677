// Small ASCII helpers for protocol text (HTTP header values, media types).
//
// Thread-safety: pure functions.
#ifndef GENOGATE_BASE_ASCII_H_
#define GENOGATE_BASE_ASCII_H_

#include <string>
#include <string_view>

namespace genogate {

// `s` with A-Z lowered; other bytes (UTF-8 included) unchanged.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// `s` without leading and trailing spaces and tabs (HTTP's optional
// whitespace).
inline std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace genogate

#endif  // GENOGATE_BASE_ASCII_H_

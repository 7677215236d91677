#include "base/json_text.h"

#include "base/utf8.h"

namespace genogate {

void AppendJsonEscaped(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  while (!s.empty()) {
    size_t bad = FindInvalidUtf8(s);
    std::string_view good = s.substr(0, bad);
    for (char ch : good) {
      auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"':
          *out += "\\\"";
          break;
        case '\\':
          *out += "\\\\";
          break;
        case '\n':
          *out += "\\n";
          break;
        case '\r':
          *out += "\\r";
          break;
        case '\t':
          *out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            *out += "\\u00";
            *out += kHex[c >> 4];
            *out += kHex[c & 15];
          } else {
            *out += ch;
          }
      }
    }
    if (bad >= s.size()) break;
    *out += "\xEF\xBF\xBD";  // U+FFFD for one ill-formed byte
    s.remove_prefix(bad + 1);
  }
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  AppendJsonEscaped(&out, s);
  out += '"';
  return out;
}

}  // namespace genogate

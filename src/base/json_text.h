// JSON string text for the places that write JSON by hand (logs, streamed
// bundles, command output): escaping per RFC 8259, never invalid output.
//
// Thread-safety: stateless functions.
#ifndef GENOGATE_BASE_JSON_TEXT_H_
#define GENOGATE_BASE_JSON_TEXT_H_

#include <string>
#include <string_view>

namespace genogate {

// Appends the contents of `s` escaped for a JSON string, without quotes:
// `"` and `\` escaped, \n \r \t as such, other control characters and DEL
// as \u00XX, and each ill-formed UTF-8 byte replaced by U+FFFD.
void AppendJsonEscaped(std::string* out, std::string_view s);

// `s` as a JSON string literal, quotes included.
std::string JsonString(std::string_view s);

}  // namespace genogate

#endif  // GENOGATE_BASE_JSON_TEXT_H_

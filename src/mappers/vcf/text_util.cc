#include "mappers/vcf/text_util.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace genogate::mappers::vcf {

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
    if (s.size() == 1) return false;
  }
  uint64_t v = 0;
  constexpr uint64_t kLimit =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (; i < s.size(); ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return false;
    if (v > (kLimit + (neg ? 1 : 0) - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    *out = v == kLimit + 1 ? std::numeric_limits<int64_t>::min()
                           : -static_cast<int64_t>(v);
  } else {
    *out = static_cast<int64_t>(v);
  }
  return true;
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string_view body = s;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body.empty()) return false;
  if (EqualsIgnoreCase(body, "nan")) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    *out = neg ? -std::numeric_limits<double>::infinity()
               : std::numeric_limits<double>::infinity();
    return true;
  }
  // from_chars accepts "inf"/"nan" spellings we handled above, and hex is
  // off in general format. Reject a second sign ("+-1").
  if (body[0] == '+' || body[0] == '-') return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), v,
                                   std::chars_format::general);
  if (ptr != body.data() + body.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // Denormal underflow or overflow: still a number; keep what we have.
    v = std::strtod(std::string(body).c_str(), nullptr);
  } else if (ec != std::errc()) {
    return false;
  }
  *out = neg ? -v : v;
  return true;
}

bool IsBases(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    switch (c) {
      case 'A':
      case 'C':
      case 'G':
      case 'T':
      case 'N':
      case 'a':
      case 'c':
      case 'g':
      case 't':
      case 'n':
        break;
      default:
        return false;
    }
  }
  return true;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool NthSplit(std::string_view s, char sep, size_t index,
              std::string_view* out) {
  size_t start = 0;
  for (size_t k = 0; k < index; ++k) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) return false;
    start = p + 1;
  }
  size_t p = s.find(sep, start);
  *out = s.substr(
      start, p == std::string_view::npos ? std::string_view::npos : p - start);
  return true;
}

size_t CountSplit(std::string_view s, char sep) {
  size_t n = 1;
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const void* hit = std::memchr(p, sep, static_cast<size_t>(end - p));
    if (!hit) break;
    ++n;
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

std::string QuoteText(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  size_t n = s.size() > 60 ? 57 : s.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (n < s.size()) out += "...";
  out += "\"";
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace genogate::mappers::vcf

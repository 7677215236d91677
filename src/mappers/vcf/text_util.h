// Small, allocation-free text helpers shared by the VCF and BED readers.
//
// All functions are pure and thread-safe.
#ifndef GENOGATE_MAPPERS_VCF_TEXT_UTIL_H_
#define GENOGATE_MAPPERS_VCF_TEXT_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace genogate::mappers::vcf {

// Parses an optionally signed decimal integer ("-12", "+3", "42") that fits
// in int64_t. False (and *out untouched) on anything else, including "" and
// surrounding spaces.
bool ParseInt64(std::string_view s, int64_t* out);

// Parses a decimal floating-point number ("0.5", "-1e-3", "+2", ".5"), or
// NaN / Inf / Infinity (any case, optionally signed). False on anything else.
bool ParseDouble(std::string_view s, double* out);

// True if `s` is non-empty and made only of A, C, G, T, N (any case).
bool IsBases(std::string_view s);

// Decodes VCF percent-encoding (%3A %3B %3D %25 %2C %0D %0A %09 ...): every
// "%XX" with two hex digits becomes that byte; anything else is kept as is.
std::string PercentDecode(std::string_view s);

// Calls f(piece) for each piece of `s` split on `sep` (one piece for "").
template <typename F>
void ForEachSplit(std::string_view s, char sep, F&& f) {
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      f(s.substr(start));
      return;
    }
    f(s.substr(start, p - start));
    start = p + 1;
  }
}

// The `index`-th (0-based) piece of `s` split on `sep`; false if there are
// fewer pieces.
bool NthSplit(std::string_view s, char sep, size_t index,
              std::string_view* out);

// Number of pieces of `s` split on `sep` (1 for "").
size_t CountSplit(std::string_view s, char sep);

// `s` in double quotes for an error message, shortened to 60 characters
// ("...") and with control bytes shown as \xNN.
std::string QuoteText(std::string_view s);

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_TEXT_UTIL_H_

// FHIRPath system values: Decimal, Date/DateTime/Time, Quantity.
//
// Decimal is exact: a 128-bit scaled integer (unscaled * 10^-scale) with at
// most 36 significant digits and a scale of at most 28, so `0.1 + 0.2 = 0.3`
// and `1.0 ~ 1.04` behave as the FHIRPath specification says (section 4.1,
// "Decimal"). Division gives 8 decimal places (the precision used by the
// specification's own examples), trailing zeros removed.
//
// DateTimeValue holds a Date, DateTime or Time with partial precision
// (year ... millisecond) and an optional timezone offset. Values without a
// timezone are compared as if they were UTC (the specification leaves the
// default timezone to the engine; genogate never uses the host's zone).
//
// Quantity is a Decimal with a UCUM unit or a calendar duration keyword
// ("year", "days", ...). Comparison converts the common UCUM units to a
// canonical unit (see ucum table in value.cc); quantities whose units cannot
// be converted into each other are incomparable (empty result).
//
// Thread-safety: value types.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_VALUE_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace genogate::fhirpath {

__extension__ typedef __int128 Int128;

class Decimal {
 public:
  static constexpr int kMaxScale = 28;
  Decimal() = default;
  static Decimal FromInt(int64_t v) { return Decimal(v, 0); }
  // Parses [+-]digits[.digits][e[+-]digits]; nullopt if not a decimal.
  static std::optional<Decimal> Parse(std::string_view text);
  // Nearest decimal to a double (15 significant digits); nullopt for
  // NaN/infinity.
  static std::optional<Decimal> FromDouble(double d);

  // Canonical text: "-1.50" keeps its scale.
  std::string ToString() const;
  double ToDouble() const;
  int scale() const { return scale_; }
  Int128 unscaled() const { return v_; }
  bool is_negative() const { return v_ < 0; }
  bool is_zero() const { return v_ == 0; }
  // True if it has no fractional part (scale 0 or trailing zeros).
  bool IsInteger() const;
  // The integer part if it fits in int64.
  std::optional<int64_t> ToInt64() const;

  // Exact three-way comparison (-1, 0, 1).
  static int Compare(const Decimal& a, const Decimal& b);
  // Equal when rounded to the smaller of the two scales (FHIRPath `~`).
  static bool Equivalent(const Decimal& a, const Decimal& b);

  // Arithmetic; nullopt on overflow (or division by zero).
  static std::optional<Decimal> Add(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Sub(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Mul(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Div(const Decimal& a, const Decimal& b);
  // Truncated division (FHIRPath `div`) and remainder (`mod`).
  static std::optional<Decimal> IntDiv(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Mod(const Decimal& a, const Decimal& b);
  Decimal Negate() const { return Decimal(-v_, scale_); }
  Decimal Abs() const { return Decimal(v_ < 0 ? -v_ : v_, scale_); }
  // Rounds half away from zero to `digits` decimal places (>= 0).
  Decimal Round(int digits) const;
  Decimal Truncate() const;  // toward zero, scale 0
  Decimal Floor() const;
  Decimal Ceiling() const;
  // Same value with scale `s` (rounding half away from zero when s shrinks);
  // nullopt on overflow.
  std::optional<Decimal> Rescale(int s) const;
  // Removes trailing fractional zeros down to scale `min_scale`.
  Decimal Trimmed(int min_scale = 0) const;

 private:
  Decimal(Int128 v, int scale) : v_(v), scale_(scale) {}
  static std::optional<Decimal> Make(Int128 v, int scale);
  Int128 v_ = 0;
  int scale_ = 0;
};

struct DateTimeValue {
  enum class Kind : uint8_t { kDate, kDateTime, kTime };
  enum class Precision : uint8_t {
    kYear,
    kMonth,
    kDay,
    kHour,
    kMinute,
    kSecond,
    kMillisecond
  };
  Kind kind = Kind::kDateTime;
  Precision precision = Precision::kYear;
  int year = 0;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
  bool has_tz = false;
  int tz_minutes = 0;  // offset east of UTC

  // FHIR/ISO text without the FHIRPath '@': "2019-02-03", "2019-02",
  // "2019-02-03T10:00:00.000+01:00", "2019T" (FHIRPath partial dateTime).
  // ParseDate accepts a date only, ParseDateTime a date with an optional
  // time part (a date alone gives a DateTime of day precision or less),
  // ParseTime "hh[:mm[:ss[.fff]]]" without 'T'. nullopt if malformed or a
  // field is out of range.
  static std::optional<DateTimeValue> ParseDate(std::string_view text);
  static std::optional<DateTimeValue> ParseDateTime(std::string_view text);
  static std::optional<DateTimeValue> ParseTime(std::string_view text);

  // ISO text at this value's precision ("2019-02", "10:00:00.000").
  std::string ToString() const;

  // Three-way comparison per FHIRPath: values are compared field by field
  // down to the coarser precision (seconds and milliseconds count as one
  // precision); nullopt when equal at that precision but the precisions
  // differ, or when the kinds cannot be compared (Time vs Date).
  static std::optional<int> Compare(const DateTimeValue& a,
                                    const DateTimeValue& b);
  // The value as a DateTime (a Date converts; a Time does not).
  DateTimeValue AsDateTime() const;

  // Adds `amount` units ("year", "month", "week", "day", "hour", "minute",
  // "second", "millisecond", singular or plural, or the UCUM codes a, mo,
  // wk, d, h, min, s, ms). nullopt for other units or out of range.
  std::optional<DateTimeValue> Add(int64_t amount, std::string_view unit) const;
};

struct Quantity {
  Decimal value;
  // UCUM code, or a calendar keyword ("year", "days"...) as written.
  std::string unit = "1";

  std::string ToString() const;  // "4 'mg'" / "3 days"
  // Three-way comparison after unit conversion; nullopt if incomparable.
  static std::optional<int> Compare(const Quantity& a, const Quantity& b);
  // `~`: as Compare == 0 but with decimal equivalence.
  static std::optional<bool> Equivalent(const Quantity& a, const Quantity& b);
  // The same quantity in `unit` (through the canonical units); nullopt if
  // the units are not convertible.
  std::optional<Quantity> ConvertTo(std::string_view unit) const;
  // True for "year", "month", "days", ... (the FHIRPath calendar keywords).
  static bool IsCalendarKeyword(std::string_view unit);
};

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_VALUE_H_

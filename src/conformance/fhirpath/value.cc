#include "conformance/fhirpath/value.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace genogate::fhirpath {
namespace {

// 10^36: the magnitude limit for unscaled values.
constexpr int kMaxDigits = 36;

Int128 Pow10(int n) {
  Int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

Int128 Abs128(Int128 v) { return v < 0 ? -v : v; }

const Int128 kLimit = Pow10(kMaxDigits);

// Divides by 10^n rounding half away from zero.
Int128 DivRound(Int128 v, int n) {
  if (n <= 0) return v;
  if (n > 38) return 0;
  Int128 p = Pow10(n);
  Int128 q = v / p;
  Int128 r = v % p;
  if (Abs128(r) * 2 >= p) q += (v < 0 ? -1 : 1);
  return q;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<Decimal> Decimal::Make(Int128 v, int scale) {
  // Drop fractional digits while the value is too large.
  while (Abs128(v) >= kLimit && scale > 0) {
    v = DivRound(v, 1);
    --scale;
  }
  if (Abs128(v) >= kLimit) return std::nullopt;
  while (scale > kMaxScale) {
    v = DivRound(v, 1);
    --scale;
  }
  return Decimal(v, scale);
}

std::optional<Decimal> Decimal::Parse(std::string_view t) {
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    neg = t[i] == '-';
    ++i;
  }
  Int128 v = 0;
  int scale = 0;
  int digits = 0;
  int dropped = 0;  // integer digits beyond capacity (not representable)
  size_t start = i;
  while (i < t.size() && IsDigit(t[i])) {
    if (digits < kMaxDigits) {
      if (v != 0 || t[i] != '0') ++digits;
      v = v * 10 + (t[i] - '0');
    } else {
      ++dropped;
    }
    ++i;
  }
  if (i == start) return std::nullopt;
  if (dropped > 0) return std::nullopt;
  if (i < t.size() && t[i] == '.') {
    ++i;
    size_t fs = i;
    while (i < t.size() && IsDigit(t[i])) {
      if (digits < kMaxDigits && scale < kMaxScale) {
        if (v != 0 || t[i] != '0') ++digits;
        v = v * 10 + (t[i] - '0');
        ++scale;
      }
      ++i;
    }
    if (i == fs) return std::nullopt;
  }
  int exp = 0;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
      eneg = t[i] == '-';
      ++i;
    }
    size_t es = i;
    while (i < t.size() && IsDigit(t[i])) {
      if (exp < 10000) exp = exp * 10 + (t[i] - '0');
      ++i;
    }
    if (i == es) return std::nullopt;
    if (eneg) exp = -exp;
  }
  if (i != t.size()) return std::nullopt;
  if (neg) v = -v;
  scale -= exp;
  if (scale < 0) {
    if (-scale > kMaxDigits)
      return v == 0 ? std::optional(Decimal(0, 0)) : std::nullopt;
    Int128 p = Pow10(-scale);
    if (Abs128(v) >= kLimit / p) return std::nullopt;
    v *= p;
    scale = 0;
  }
  if (scale > kMaxScale + kMaxDigits) return Decimal(0, kMaxScale);
  return Make(v, scale);
}

std::optional<Decimal> Decimal::FromDouble(double d) {
  if (!std::isfinite(d)) return std::nullopt;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  auto r = Parse(buf);
  if (!r) return std::nullopt;
  return r->Trimmed();
}

std::string Decimal::ToString() const {
  Int128 a = Abs128(v_);
  std::string digits;
  if (a == 0) digits = "0";
  while (a > 0) {
    digits.insert(digits.begin(),
                  static_cast<char>('0' + static_cast<int>(a % 10)));
    a /= 10;
  }
  if (scale_ > 0) {
    if (static_cast<int>(digits.size()) <= scale_) {
      digits.insert(0, scale_ - digits.size() + 1, '0');
    }
    digits.insert(digits.size() - scale_, ".");
  }
  if (v_ < 0) digits.insert(0, "-");
  return digits;
}

double Decimal::ToDouble() const {
  return std::strtod(ToString().c_str(), nullptr);
}

bool Decimal::IsInteger() const {
  return scale_ == 0 || v_ % Pow10(scale_) == 0;
}

std::optional<int64_t> Decimal::ToInt64() const {
  Int128 i = v_ / Pow10(scale_);
  if (i > INT64_MAX || i < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(i);
}

int Decimal::Compare(const Decimal& a, const Decimal& b) {
  int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  // Compare integer parts first to avoid overflow when aligning.
  Int128 ai = a.v_ / Pow10(a.scale_);
  Int128 bi = b.v_ / Pow10(b.scale_);
  Int128 af = a.v_ % Pow10(a.scale_);
  Int128 bf = b.v_ % Pow10(b.scale_);
  if (ai != bi) return ai < bi ? -1 : 1;
  Int128 x = af * Pow10(s - a.scale_);
  Int128 y = bf * Pow10(s - b.scale_);
  if (x == y) return 0;
  return x < y ? -1 : 1;
}

bool Decimal::Equivalent(const Decimal& a, const Decimal& b) {
  int s = a.scale_ < b.scale_ ? a.scale_ : b.scale_;
  Decimal x = a.Round(s);
  Decimal y = b.Round(s);
  return Compare(x, y) == 0;
}

std::optional<Decimal> Decimal::Rescale(int s) const {
  if (s == scale_) return *this;
  if (s < scale_) return Decimal(DivRound(v_, scale_ - s), s);
  int d = s - scale_;
  if (d > kMaxDigits) return std::nullopt;
  Int128 p = Pow10(d);
  if (Abs128(v_) >= kLimit / p) return std::nullopt;
  return Decimal(v_ * p, s);
}

Decimal Decimal::Trimmed(int min_scale) const {
  Int128 v = v_;
  int s = scale_;
  while (s > min_scale && v % 10 == 0) {
    v /= 10;
    --s;
  }
  return Decimal(v, s);
}

std::optional<Decimal> Decimal::Add(const Decimal& a, const Decimal& b) {
  int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  auto x = a.Rescale(s);
  auto y = b.Rescale(s);
  if (!x || !y) {
    auto r = FromDouble(a.ToDouble() + b.ToDouble());
    return r;
  }
  return Make(x->v_ + y->v_, s);
}

std::optional<Decimal> Decimal::Sub(const Decimal& a, const Decimal& b) {
  return Add(a, b.Negate());
}

std::optional<Decimal> Decimal::Mul(const Decimal& a, const Decimal& b) {
  Int128 x = a.v_, y = b.v_;
  int sa = a.scale_, sb = b.scale_;
  // Reduce operands until the product fits.
  auto fits = [&] {
    if (x == 0 || y == 0) return true;
    return Abs128(x) < kLimit / Abs128(y);
  };
  while (!fits()) {
    if (sa >= sb && sa > 0) {
      x = DivRound(x, 1);
      --sa;
    } else if (sb > 0) {
      y = DivRound(y, 1);
      --sb;
    } else {
      return std::nullopt;
    }
  }
  return Make(x * y, sa + sb);
}

std::optional<Decimal> Decimal::Div(const Decimal& a, const Decimal& b) {
  if (b.v_ == 0) return std::nullopt;
  // result = a / b with 8 fractional digits: (a.v * 10^(8 + sb - sa)) / b.v
  constexpr int kDigits = 8;
  int shift = kDigits + b.scale_ - a.scale_;
  Int128 num = a.v_;
  Int128 den = b.v_;
  // One extra digit for rounding.
  shift += 1;
  while (shift > 0) {
    if (Abs128(num) >= kLimit) break;
    num *= 10;
    --shift;
  }
  while (shift < 0) {
    den *= 10;
    ++shift;
    if (Abs128(den) >= kLimit) return FromDouble(a.ToDouble() / b.ToDouble());
  }
  if (shift > 0) return FromDouble(a.ToDouble() / b.ToDouble());
  Int128 q = num / den;
  q = DivRound(q, 1);
  auto r = Make(q, kDigits);
  if (!r) return std::nullopt;
  return r->Trimmed();
}

std::optional<Decimal> Decimal::IntDiv(const Decimal& a, const Decimal& b) {
  if (b.v_ == 0) return std::nullopt;
  int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  auto x = a.Rescale(s);
  auto y = b.Rescale(s);
  if (!x || !y) return std::nullopt;
  return Decimal(x->v_ / y->v_, 0);
}

std::optional<Decimal> Decimal::Mod(const Decimal& a, const Decimal& b) {
  if (b.v_ == 0) return std::nullopt;
  int s = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
  auto x = a.Rescale(s);
  auto y = b.Rescale(s);
  if (!x || !y) return std::nullopt;
  return Decimal(x->v_ % y->v_, s);
}

Decimal Decimal::Round(int digits) const {
  if (digits < 0) digits = 0;
  if (digits >= scale_) return *this;
  return Decimal(DivRound(v_, scale_ - digits), digits);
}

Decimal Decimal::Truncate() const { return Decimal(v_ / Pow10(scale_), 0); }

Decimal Decimal::Floor() const {
  Int128 p = Pow10(scale_);
  Int128 q = v_ / p;
  if (v_ % p != 0 && v_ < 0) --q;
  return Decimal(q, 0);
}

Decimal Decimal::Ceiling() const {
  Int128 p = Pow10(scale_);
  Int128 q = v_ / p;
  if (v_ % p != 0 && v_ > 0) ++q;
  return Decimal(q, 0);
}

// ---------------------------------------------------------------- dates

namespace {

using P = DateTimeValue::Precision;

bool ReadDigits(std::string_view t, size_t& i, int n, int* out) {
  if (i + n > t.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    if (!IsDigit(t[i + k])) return false;
    v = v * 10 + (t[i + k] - '0');
  }
  *out = v;
  i += n;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
  const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yy + (mm <= 2));
  *m = static_cast<int>(mm);
  *d = static_cast<int>(dd);
}

// Parses "hh[:mm[:ss[.fff...]]]" into v; precision set.
bool ParseTimePart(std::string_view t, size_t& i, DateTimeValue* v) {
  if (!ReadDigits(t, i, 2, &v->hour) || v->hour > 23) return false;
  v->precision = P::kHour;
  if (i < t.size() && t[i] == ':') {
    ++i;
    if (!ReadDigits(t, i, 2, &v->minute) || v->minute > 59) return false;
    v->precision = P::kMinute;
    if (i < t.size() && t[i] == ':') {
      ++i;
      if (!ReadDigits(t, i, 2, &v->second) || v->second > 60) return false;
      v->precision = P::kSecond;
      if (i < t.size() && t[i] == '.') {
        ++i;
        size_t s = i;
        int ms = 0, n = 0;
        while (i < t.size() && IsDigit(t[i])) {
          if (n < 3) ms = ms * 10 + (t[i] - '0');
          ++n;
          ++i;
        }
        if (i == s) return false;
        while (n < 3) {
          ms *= 10;
          ++n;
        }
        v->millis = ms;
        v->precision = P::kMillisecond;
      }
    }
  }
  return true;
}

bool ParseTz(std::string_view t, size_t& i, DateTimeValue* v) {
  if (i >= t.size()) return true;
  if (t[i] == 'Z') {
    ++i;
    v->has_tz = true;
    v->tz_minutes = 0;
    return true;
  }
  if (t[i] == '+' || t[i] == '-') {
    int sign = t[i] == '-' ? -1 : 1;
    ++i;
    int h, m;
    if (!ReadDigits(t, i, 2, &h) || i >= t.size() || t[i] != ':') return false;
    ++i;
    if (!ReadDigits(t, i, 2, &m) || h > 14 || m > 59) return false;
    v->has_tz = true;
    v->tz_minutes = sign * (h * 60 + m);
    return true;
  }
  return true;
}

bool ParseDatePart(std::string_view t, size_t& i, DateTimeValue* v) {
  if (!ReadDigits(t, i, 4, &v->year)) return false;
  v->precision = P::kYear;
  if (i + 1 < t.size() && t[i] == '-' && IsDigit(t[i + 1])) {
    ++i;
    if (!ReadDigits(t, i, 2, &v->month) || v->month < 1 || v->month > 12) {
      return false;
    }
    v->precision = P::kMonth;
    if (i + 1 < t.size() && t[i] == '-' && IsDigit(t[i + 1])) {
      ++i;
      if (!ReadDigits(t, i, 2, &v->day) || v->day < 1 ||
          v->day > DaysInMonth(v->year, v->month)) {
        return false;
      }
      v->precision = P::kDay;
    }
  }
  return true;
}

int PrecisionRank(P p) {
  // Seconds and milliseconds are one precision for comparison.
  return p == P::kMillisecond ? static_cast<int>(P::kSecond)
                              : static_cast<int>(p);
}

}  // namespace

std::optional<DateTimeValue> DateTimeValue::ParseDate(std::string_view t) {
  DateTimeValue v;
  v.kind = Kind::kDate;
  size_t i = 0;
  if (!ParseDatePart(t, i, &v) || i != t.size()) return std::nullopt;
  return v;
}

std::optional<DateTimeValue> DateTimeValue::ParseDateTime(std::string_view t) {
  DateTimeValue v;
  v.kind = Kind::kDateTime;
  size_t i = 0;
  if (!ParseDatePart(t, i, &v)) return std::nullopt;
  if (i < t.size() && t[i] == 'T') {
    ++i;
    if (i < t.size() && IsDigit(t[i])) {
      if (v.precision != P::kDay) return std::nullopt;
      if (!ParseTimePart(t, i, &v)) return std::nullopt;
      if (!ParseTz(t, i, &v)) return std::nullopt;
    }
  } else if (v.precision == P::kDay && i < t.size()) {
    // "2019-02-03Z" is not valid; fall through to the size check.
  }
  if (i != t.size()) return std::nullopt;
  return v;
}

std::optional<DateTimeValue> DateTimeValue::ParseTime(std::string_view t) {
  DateTimeValue v;
  v.kind = Kind::kTime;
  v.year = 0;
  size_t i = 0;
  if (!ParseTimePart(t, i, &v) || i != t.size()) return std::nullopt;
  return v;
}

std::string DateTimeValue::ToString() const {
  char buf[64];
  std::string out;
  if (kind != Kind::kTime) {
    std::snprintf(buf, sizeof buf, "%04d", year);
    out += buf;
    if (precision >= P::kMonth) {
      std::snprintf(buf, sizeof buf, "-%02d", month);
      out += buf;
    }
    if (precision >= P::kDay) {
      std::snprintf(buf, sizeof buf, "-%02d", day);
      out += buf;
    }
    if (kind == Kind::kDate || precision <= P::kDay) return out;
    out += 'T';
  }
  std::snprintf(buf, sizeof buf, "%02d", hour);
  out += buf;
  if (precision >= P::kMinute) {
    std::snprintf(buf, sizeof buf, ":%02d", minute);
    out += buf;
  }
  if (precision >= P::kSecond) {
    std::snprintf(buf, sizeof buf, ":%02d", second);
    out += buf;
  }
  if (precision >= P::kMillisecond) {
    std::snprintf(buf, sizeof buf, ".%03d", millis);
    out += buf;
  }
  if (kind == Kind::kDateTime && has_tz) {
    if (tz_minutes == 0) {
      out += 'Z';
    } else {
      int a = tz_minutes < 0 ? -tz_minutes : tz_minutes;
      std::snprintf(buf, sizeof buf, "%c%02d:%02d", tz_minutes < 0 ? '-' : '+',
                    a / 60, a % 60);
      out += buf;
    }
  }
  return out;
}

DateTimeValue DateTimeValue::AsDateTime() const {
  DateTimeValue v = *this;
  if (kind == Kind::kDate) v.kind = Kind::kDateTime;
  return v;
}

std::optional<int> DateTimeValue::Compare(const DateTimeValue& a0,
                                          const DateTimeValue& b0) {
  bool at = a0.kind == Kind::kTime, bt = b0.kind == Kind::kTime;
  if (at != bt) return std::nullopt;
  DateTimeValue a = a0, b = b0;
  // Normalise to UTC when a time of day is present.
  auto norm = [](DateTimeValue& v) {
    if (!v.has_tz || v.tz_minutes == 0 || v.precision < P::kHour ||
        v.kind == Kind::kTime) {
      return;
    }
    int64_t days = DaysFromCivil(v.year, v.month, v.day);
    int64_t mins = days * 1440 + v.hour * 60 + v.minute - v.tz_minutes;
    int64_t d = mins >= 0 ? mins / 1440 : -((-mins + 1439) / 1440);
    int64_t rem = mins - d * 1440;
    CivilFromDays(d, &v.year, &v.month, &v.day);
    v.hour = static_cast<int>(rem / 60);
    v.minute = static_cast<int>(rem % 60);
    v.tz_minutes = 0;
  };
  norm(a);
  norm(b);
  int pa = PrecisionRank(a.precision), pb = PrecisionRank(b.precision);
  int common = pa < pb ? pa : pb;
  int fa[7], fb[7];
  auto fill = [](const DateTimeValue& v, int* f) {
    f[0] = v.year;
    f[1] = v.month;
    f[2] = v.day;
    f[3] = v.hour;
    f[4] = v.minute;
    f[5] = v.second * 1000 + v.millis;
  };
  fill(a, fa);
  fill(b, fb);
  int first = at ? 3 : 0;
  for (int k = first; k <= common && k <= 5; ++k) {
    if (fa[k] != fb[k]) return fa[k] < fb[k] ? -1 : 1;
  }
  if (pa != pb) return std::nullopt;
  return 0;
}

std::optional<DateTimeValue> DateTimeValue::Add(int64_t amount,
                                                std::string_view unit) const {
  std::string u(unit);
  if (u.size() > 1 && u.back() == 's' && u != "ms" && u != "s") u.pop_back();
  DateTimeValue v = *this;
  if (amount > 1000000000 || amount < -1000000000) return std::nullopt;
  if (u == "year" || u == "a") {
    if (kind == Kind::kTime) return std::nullopt;
    v.year += static_cast<int>(amount);
  } else if (u == "month" || u == "mo") {
    if (kind == Kind::kTime) return std::nullopt;
    int64_t m = v.year * 12LL + (v.month - 1) + amount;
    v.year = static_cast<int>(m / 12);
    v.month = static_cast<int>(m % 12) + 1;
  } else {
    int64_t ms;
    if (u == "week" || u == "wk") {
      ms = amount * 7 * 86400000LL;
    } else if (u == "day" || u == "d") {
      ms = amount * 86400000LL;
    } else if (u == "hour" || u == "h") {
      ms = amount * 3600000LL;
    } else if (u == "minute" || u == "min") {
      ms = amount * 60000LL;
    } else if (u == "second" || u == "s") {
      ms = amount * 1000LL;
    } else if (u == "millisecond" || u == "ms") {
      ms = amount;
    } else {
      return std::nullopt;
    }
    if (kind == Kind::kTime) {
      int64_t t =
          ((v.hour * 60LL + v.minute) * 60 + v.second) * 1000 + v.millis;
      t = ((t + ms) % 86400000 + 86400000) % 86400000;
      v.millis = static_cast<int>(t % 1000);
      v.second = static_cast<int>(t / 1000 % 60);
      v.minute = static_cast<int>(t / 60000 % 60);
      v.hour = static_cast<int>(t / 3600000);
      return v;
    }
    // Below the value's precision the amount is truncated to whole units.
    if (v.precision < P::kDay) {
      int64_t days = ms / 86400000LL;
      if (u != "day" && u != "d" && u != "week" && u != "wk") days = 0;
      if (v.precision == P::kYear) {
        v.year += static_cast<int>(days / 365);
      } else {
        int64_t m = v.year * 12LL + (v.month - 1) + days / 30;
        v.year = static_cast<int>(m / 12);
        v.month = static_cast<int>(m % 12) + 1;
      }
      return v;
    }
    int64_t day0 = DaysFromCivil(v.year, v.month, v.day);
    int64_t t = ((day0 * 24 + v.hour) * 60 + v.minute) * 60000LL +
                v.second * 1000LL + v.millis + ms;
    int64_t d = t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000);
    int64_t rem = t - d * 86400000;
    CivilFromDays(d, &v.year, &v.month, &v.day);
    v.hour = static_cast<int>(rem / 3600000);
    v.minute = static_cast<int>(rem / 60000 % 60);
    v.second = static_cast<int>(rem / 1000 % 60);
    v.millis = static_cast<int>(rem % 1000);
    return v;
  }
  if (v.year < 1 || v.year > 9999) return std::nullopt;
  if (v.precision >= P::kDay) {
    int dim = DaysInMonth(v.year, v.month);
    if (v.day > dim) v.day = dim;
  }
  return v;
}

// ------------------------------------------------------------- quantity

namespace {

// A UCUM unit reduced to base dimensions and a rational factor:
// 1 unit = num / den * (m^d[0] g^d[1] s^d[2] mol^d[3] K^d[4] C^d[5] cd^d[6]
// [IU]^d[7]). `special` names units that are not a multiple of base units
// (Cel, [degF]; the calendar years and months; units genogate does not
// parse): those compare only with the same unit.
constexpr int kDims = 8;
struct Unit {
  Decimal num = Decimal::FromInt(1);
  Decimal den = Decimal::FromInt(1);
  std::array<int8_t, kDims> dims{};
  std::string special;
};

struct AtomDef {
  const char* code;
  bool metric;         // takes a prefix
  const char* factor;  // decimal text, in terms of `base`
  const char* base;    // a unit expression of atoms defined above it, or a
                       // base dimension "#0".."#7"
};

// The UCUM atoms clinical data uses (base units, SI derived units, time,
// volume, pressure, amount, enzyme and international units, customary
// length and mass). Order matters: an atom's base uses only atoms above it.
constexpr AtomDef kAtoms[] = {
    {"m", true, "1", "#0"},
    {"g", true, "1", "#1"},
    {"s", true, "1", "#2"},
    {"mol", true, "1", "#3"},
    {"K", true, "1", "#4"},
    {"C", true, "1", "#5"},
    {"cd", true, "1", "#6"},
    {"[iU]", true, "1", "#7"},
    {"[IU]", true, "1", "[iU]"},
    {"rad", true, "1", "1"},
    {"sr", true, "1", "1"},
    {"%", false, "0.01", "1"},
    {"[ppth]", false, "0.001", "1"},
    {"[ppm]", false, "0.000001", "1"},
    {"[ppb]", false, "0.000000001", "1"},
    {"min", false, "60", "s"},
    {"h", false, "3600", "s"},
    {"d", false, "86400", "s"},
    {"wk", false, "604800", "s"},
    {"mo", false, "2629800", "s"},
    {"a", false, "31557600", "s"},
    {"L", true, "0.001", "m3"},
    {"l", true, "0.001", "m3"},
    {"t", true, "1000000", "g"},
    {"Hz", true, "1", "/s"},
    {"N", true, "1000", "g.m/s2"},
    {"Pa", true, "1", "N/m2"},
    {"J", true, "1", "N.m"},
    {"W", true, "1", "J/s"},
    {"A", true, "1", "C/s"},
    {"V", true, "1", "J/C"},
    {"bar", true, "100000", "Pa"},
    {"m[Hg]", true, "133322", "Pa"},
    {"m[H2O]", true, "9806.65", "Pa"},
    {"[mmHg]", false, "133.322", "Pa"},
    {"atm", false, "101325", "Pa"},
    {"cal", true, "4.184", "J"},
    {"[Cal]", false, "4184", "J"},
    {"eq", true, "1", "mol"},
    {"osm", true, "1", "mol"},
    {"kat", true, "1", "mol/s"},
    {"U", true, "1", "umol/min"},
    {"[in_i]", false, "0.0254", "m"},
    {"[ft_i]", false, "0.3048", "m"},
    {"[yd_i]", false, "0.9144", "m"},
    {"[mi_i]", false, "1609.344", "m"},
    {"[lb_av]", false, "453.59237", "g"},
    {"[oz_av]", false, "28.349523125", "g"},
    {"[gr]", false, "0.06479891", "g"},
    {"[foz_us]", false, "0.0295735295625", "L"},
    {"[pt_us]", false, "0.473176473", "L"},
    {"[gal_us]", false, "3.785411784", "L"},
    {"[drp]", false, "0.00005", "L"},
    {"mcg", false, "0.000001", "g"},  // not UCUM, but common for ug
};

struct PrefixDef {
  const char* code;
  const char* factor;
};
constexpr PrefixDef kPrefixes[] = {
    {"da", "10"},
    {"T", "1000000000000"},
    {"G", "1000000000"},
    {"M", "1000000"},
    {"k", "1000"},
    {"h", "100"},
    {"d", "0.1"},
    {"c", "0.01"},
    {"m", "0.001"},
    {"u", "0.000001"},
    {"n", "0.000000001"},
    {"p", "0.000000000001"},
    {"f", "0.000000000000001"},
};

bool MulInto(Decimal* d, const Decimal& by) {
  auto r = Decimal::Mul(*d, by);
  if (!r) return false;
  *d = *r;
  return true;
}

// Multiplies `into` by `u` raised to `exp`.
bool Combine(Unit* into, const Unit& u, int exp) {
  if (!u.special.empty()) return false;
  for (int i = 0; i < (exp < 0 ? -exp : exp); ++i) {
    if (!MulInto(exp > 0 ? &into->num : &into->den, u.num) ||
        !MulInto(exp > 0 ? &into->den : &into->num, u.den)) {
      return false;
    }
  }
  for (int i = 0; i < kDims; ++i) into->dims[i] += u.dims[i] * exp;
  return true;
}

std::optional<Unit> ParseUnit(std::string_view text, int depth);

// An atom (with its definition resolved), or nullopt.
std::optional<Unit> AtomUnit(std::string_view code, int depth) {
  for (const AtomDef& a : kAtoms) {
    if (code != a.code) continue;
    Unit u;
    std::string_view base = a.base;
    if (base.size() == 2 && base[0] == '#') {
      u.dims[base[1] - '0'] = 1;
    } else if (auto b = ParseUnit(base, depth + 1)) {
      u = *b;
    } else {
      return std::nullopt;
    }
    auto f = Decimal::Parse(a.factor);
    if (!f || !MulInto(&u.num, *f)) return std::nullopt;
    return u;
  }
  return std::nullopt;
}

bool IsMetric(std::string_view code) {
  for (const AtomDef& a : kAtoms)
    if (code == a.code) return a.metric;
  return false;
}

// A simple unit: atom or prefix + metric atom.
std::optional<Unit> SimpleUnit(std::string_view code, int depth) {
  if (auto u = AtomUnit(code, depth)) return u;
  for (const PrefixDef& p : kPrefixes) {
    std::string_view pc = p.code;
    if (code.size() <= pc.size() || code.substr(0, pc.size()) != pc) continue;
    std::string_view rest = code.substr(pc.size());
    if (!IsMetric(rest)) continue;
    auto u = AtomUnit(rest, depth);
    auto f = Decimal::Parse(p.factor);
    if (!u || !f || !MulInto(&u->num, *f)) return std::nullopt;
    return u;
  }
  return std::nullopt;
}

// One component: "mg", "m2", "s-1", "10*3", "10^-6", "1000", "{beats}",
// "mg{creat}", "(mg/dL)".
std::optional<Unit> Component(std::string_view c, int depth) {
  // Annotations are ignored ("{beats}" alone is the unity).
  while (!c.empty() && c.back() == '}') {
    size_t open = c.rfind('{');
    if (open == std::string_view::npos) return std::nullopt;
    c = c.substr(0, open);
  }
  if (c.empty()) return Unit{};
  if (c.front() == '(' && c.back() == ')')
    return ParseUnit(c.substr(1, c.size() - 2), depth + 1);
  if (c.size() > 3 && c.substr(0, 2) == "10" && (c[2] == '*' || c[2] == '^')) {
    int e = 0;
    auto r = std::from_chars(c.data() + 3, c.data() + c.size(), e);
    if (r.ec != std::errc() || r.ptr != c.data() + c.size() || e < -24 ||
        e > 24) {
      return std::nullopt;
    }
    Unit u;
    Decimal ten = Decimal::FromInt(10);
    for (int i = 0; i < (e < 0 ? -e : e); ++i)
      if (!MulInto(e > 0 ? &u.num : &u.den, ten)) return std::nullopt;
    return u;
  }
  if (std::isdigit(static_cast<unsigned char>(c.front()))) {
    // A plain integer factor.
    for (char ch : c)
      if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
    auto f = Decimal::Parse(c);
    if (!f) return std::nullopt;
    Unit u;
    u.num = *f;
    return u;
  }
  // Trailing exponent: [+-]digits after the unit symbol (not inside []).
  size_t end = c.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(c[end - 1]))) --end;
  int exp = 1;
  if (end < c.size()) {
    size_t sign = end;
    if (sign > 0 && (c[sign - 1] == '-' || c[sign - 1] == '+')) --sign;
    if (sign == 0) return std::nullopt;
    auto r = std::from_chars(c.data() + (c[sign] == '+' ? sign + 1 : sign),
                             c.data() + c.size(), exp);
    if (r.ec != std::errc() || exp == 0 || exp > 8 || exp < -8)
      return std::nullopt;
    end = sign;
  }
  auto s = SimpleUnit(c.substr(0, end), depth);
  if (!s) return std::nullopt;
  Unit u;
  if (!Combine(&u, *s, exp)) return std::nullopt;
  return u;
}

// A UCUM term: components joined by '.' and '/', "/min" = 1/min.
std::optional<Unit> ParseUnit(std::string_view text, int depth) {
  if (depth > 8 || text.empty()) return std::nullopt;
  Unit out;
  int sign = 1;
  size_t i = 0;
  if (text[0] == '/') {
    sign = -1;
    i = 1;
  }
  while (i <= text.size()) {
    size_t j = i;
    int paren = 0, brace = 0, bracket = 0;
    for (; j < text.size(); ++j) {
      char ch = text[j];
      if (ch == '(') ++paren;
      if (ch == ')') --paren;
      if (ch == '{') ++brace;
      if (ch == '}') --brace;
      if (ch == '[') ++bracket;
      if (ch == ']') --bracket;
      if (paren == 0 && brace == 0 && bracket == 0 && (ch == '.' || ch == '/'))
        break;
    }
    auto c = Component(text.substr(i, j - i), depth);
    if (!c || !Combine(&out, *c, sign)) return std::nullopt;
    if (j >= text.size()) break;
    sign = text[j] == '/' ? -1 : 1;
    i = j + 1;
  }
  return out;
}

// Calendar keyword -> UCUM code for the units where the two are equal
// (weeks and below); years and months stay calendar-only.
const char* CalendarToUcum(std::string_view k) {
  if (k == "week" || k == "weeks") return "wk";
  if (k == "day" || k == "days") return "d";
  if (k == "hour" || k == "hours") return "h";
  if (k == "minute" || k == "minutes") return "min";
  if (k == "second" || k == "seconds") return "s";
  if (k == "millisecond" || k == "milliseconds") return "ms";
  return nullptr;
}

// The unit of a quantity as dimensions and factor.
Unit UnitOf(std::string_view u) {
  if (u == "year" || u == "years") return Unit{.special = "$year"};
  if (u == "month" || u == "months") return Unit{.special = "$month"};
  if (const char* c = CalendarToUcum(u)) u = c;
  if (u == "Cel" || u == "[degF]") return Unit{.special = std::string(u)};
  if (auto parsed = ParseUnit(u, 0)) return *parsed;
  return Unit{.special = "?" + std::string(u)};
}

bool SameDimension(const Unit& x, const Unit& y) {
  return x.special == y.special && x.dims == y.dims;
}

// a.value * a.num * b.den and b.value * b.num * a.den: the two values in
// a common unit, for comparison.
std::optional<std::pair<Decimal, Decimal>> Common(const Quantity& a,
                                                  const Unit& ua,
                                                  const Quantity& b,
                                                  const Unit& ub) {
  Decimal x = a.value, y = b.value;
  if (!MulInto(&x, ua.num) || !MulInto(&x, ub.den) || !MulInto(&y, ub.num) ||
      !MulInto(&y, ua.den)) {
    return std::nullopt;
  }
  return std::make_pair(x, y);
}

}  // namespace

std::optional<Quantity> Quantity::ConvertTo(std::string_view u) const {
  if (u == unit) return *this;
  Unit from = UnitOf(unit), to = UnitOf(u);
  if (!SameDimension(from, to)) return std::nullopt;
  // value * from.num / from.den / (to.num / to.den)
  Decimal n = value, d = from.den;
  if (!MulInto(&n, from.num) || !MulInto(&n, to.den) || !MulInto(&d, to.num))
    return std::nullopt;
  auto v = Decimal::Div(n, d);
  if (!v) return std::nullopt;
  return Quantity{v->Trimmed(), std::string(u)};
}

bool Quantity::IsCalendarKeyword(std::string_view u) {
  return u == "year" || u == "years" || u == "month" || u == "months" ||
         CalendarToUcum(u) != nullptr;
}

std::string Quantity::ToString() const {
  if (IsCalendarKeyword(unit)) return value.ToString() + " " + unit;
  return value.ToString() + " '" + unit + "'";
}

std::optional<int> Quantity::Compare(const Quantity& a, const Quantity& b) {
  if (a.unit == b.unit) return Decimal::Compare(a.value, b.value);
  Unit ua = UnitOf(a.unit), ub = UnitOf(b.unit);
  if (!SameDimension(ua, ub)) return std::nullopt;
  auto c = Common(a, ua, b, ub);
  if (!c) return std::nullopt;
  return Decimal::Compare(c->first, c->second);
}

std::optional<bool> Quantity::Equivalent(const Quantity& a, const Quantity& b) {
  if (a.unit == b.unit) return Decimal::Equivalent(a.value, b.value);
  Unit ua = UnitOf(a.unit), ub = UnitOf(b.unit);
  if (!SameDimension(ua, ub)) return false;
  auto c = Common(a, ua, b, ub);
  if (!c) return false;
  return Decimal::Equivalent(c->first, c->second);
}

}  // namespace genogate::fhirpath

#include "mappers/vcf/vcf_record.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "mappers/vcf/text_util.h"

namespace genogate::mappers::vcf {
namespace {

constexpr std::string_view kColumnNames[9] = {
    "CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"};

// Positions above this are rejected so that POS + len(REF) cannot overflow.
constexpr int64_t kMaxPos = int64_t{1} << 40;

// Up to this many keys, duplicates are found by a linear scan per key.
constexpr size_t kLinearDuplicateScan = 32;

// Sorts *keys and returns a duplicated key, or "" if all are distinct.
std::string_view FirstDuplicate(std::vector<std::string_view>* keys) {
  std::sort(keys->begin(), keys->end());
  auto it = std::adjacent_find(keys->begin(), keys->end());
  return it == keys->end() ? std::string_view() : *it;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Number of distinct unordered genotypes of `ploidy` alleles drawn from
// `n_alleles`: C(n_alleles + ploidy - 1, ploidy). Capped at 1e9.
int64_t NumGenotypes(int64_t n_alleles, int64_t ploidy) {
  int64_t r = 1;
  for (int64_t k = 1; k <= ploidy; ++k) {
    r = r * (n_alleles + k - 1) / k;
    if (r > 1000000000) return 1000000000;
  }
  return r;
}

bool IsBreakend(std::string_view a) {
  size_t i = a.find_first_of("[]");
  if (i == std::string_view::npos) return false;
  char b = a[i];
  size_t j = a.find(b, i + 1);
  if (j == std::string_view::npos) return false;
  if (a.find_first_of("[]", j + 1) != std::string_view::npos) return false;
  std::string_view mate = a.substr(i + 1, j - i - 1);
  if (mate.find_first_of("[]") != std::string_view::npos) return false;
  size_t colon = mate.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view contig = mate.substr(0, colon);
  if (contig.front() == '<' && (contig.size() < 3 || contig.back() != '>')) {
    return false;
  }
  if (!AllDigits(mate.substr(colon + 1))) return false;
  std::string_view before = a.substr(0, i);
  std::string_view after = a.substr(j + 1);
  if (before.empty() == after.empty()) return false;
  return IsBases(before.empty() ? after : before);
}

bool ClassifyAlt(std::string_view a, AltKind* kind) {
  if (a == "*") {
    *kind = AltKind::kOverlappingDeletion;
    return true;
  }
  if (a.front() == '<') {
    if (a.size() < 3 || a.back() != '>') return false;
    std::string_view inner = a.substr(1, a.size() - 2);
    if (inner.find_first_of("<>, \t;=") != std::string_view::npos) {
      return false;
    }
    *kind = inner == "*" || inner == "NON_REF" ? AltKind::kNonRef
                                               : AltKind::kSymbolic;
    return true;
  }
  if (a.find_first_of("[]") != std::string_view::npos) {
    if (!IsBreakend(a)) return false;
    *kind = AltKind::kBreakend;
    return true;
  }
  if (a.size() >= 2 &&
      ((a.front() == '.' && IsBases(a.substr(1))) ||
       (a.back() == '.' && IsBases(a.substr(0, a.size() - 1))))) {
    *kind = AltKind::kSingleBreakend;
    return true;
  }
  if (IsBases(a)) {
    *kind = AltKind::kSequence;
    return true;
  }
  return false;
}

// Checks one INFO/FORMAT value against its definition. `what` is "INFO
// field" or "FORMAT field"; `rule_prefix` "vcf-info" or "vcf-format".
bool CheckValues(const FieldDef& def, std::string_view value, bool has_value,
                 size_t n_alts, int ploidy, std::string_view what,
                 std::string_view rule_prefix, std::string* why,
                 std::string* rule) {
  auto fail = [&](std::string reason, std::string_view kind) {
    *why = std::move(reason);
    *rule = std::string(rule_prefix) + "-" + std::string(kind);
    return false;
  };
  // The message prefix, built only on failure.
  auto head = [&]() { return std::string(what) + " " + def.id; };
  if (def.type == ValueType::kFlag) {
    if (has_value)
      return fail(head() + " is a Flag and must not have a value", "flag");
    return true;
  }
  if (!has_value) {
    if (def.number_kind == NumberKind::kFixed && def.number == 0) return true;
    return fail(head() + " has no value (Number=" + def.NumberText() +
                    ", Type=" + std::string(ValueTypeName(def.type)) + ")",
                "value");
  }
  if (value == ".") return true;
  const size_t count = CountSplit(value, ',');
  int64_t expected = -1;
  std::string_view per;
  switch (def.number_kind) {
    case NumberKind::kFixed:
      if (def.number > 0) expected = def.number;
      break;
    case NumberKind::kPerAlt:
      if (n_alts > 0) {
        expected = static_cast<int64_t>(n_alts);
        per = " (one per ALT allele)";
      }
      break;
    case NumberKind::kPerAllele:
      expected = static_cast<int64_t>(n_alts) + 1;
      per = " (one per allele, REF first)";
      break;
    case NumberKind::kPerGenotype:
      if (ploidy > 0) {
        expected = NumGenotypes(static_cast<int64_t>(n_alts) + 1, ploidy);
        per = " (one per possible genotype)";
      }
      break;
    case NumberKind::kUnbounded:
      break;
  }
  if (expected >= 0 && static_cast<int64_t>(count) != expected) {
    return fail(head() + " has " + std::to_string(count) +
                    (count == 1 ? " value" : " values") +
                    ", but Number=" + def.NumberText() + " requires " +
                    std::to_string(expected) + std::string(per),
                "number");
  }
  if (def.type == ValueType::kString) return true;
  bool ok = true;
  std::string_view bad;
  ForEachSplit(value, ',', [&](std::string_view v) {
    if (!ok || v == ".") return;
    bool good = true;
    switch (def.type) {
      case ValueType::kInteger: {
        int64_t x;
        good = ParseInt64(v, &x);
        break;
      }
      case ValueType::kFloat: {
        double x;
        good = ParseDouble(v, &x);
        break;
      }
      case ValueType::kCharacter:
        good = v.size() == 1;
        break;
      default:
        break;
    }
    if (!good) {
      ok = false;
      bad = v;
    }
  });
  if (!ok) {
    std::string_view article = def.type == ValueType::kInteger ? "an " : "a ";
    return fail(head() + " value " + QuoteText(bad) + " is not " +
                    std::string(article) + std::string(ValueTypeName(def.type)),
                "type");
  }
  return true;
}

// Validates a GT value; sets *ploidy.
bool ScanGenotype(std::string_view t, size_t n_alts, int* ploidy,
                  std::string* why) {
  auto invalid = [&]() {
    *why = "GT " + QuoteText(t) + " is not a valid genotype";
    return false;
  };
  if (t.empty()) return invalid();
  size_t i = 0;
  int p = 0;
  while (true) {
    if (i >= t.size()) return invalid();
    if (t[i] == '.') {
      ++i;
    } else if (t[i] >= '0' && t[i] <= '9') {
      size_t start = i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
      if (i - start > 9) return invalid();
      int64_t a = 0;
      ParseInt64(t.substr(start, i - start), &a);
      if (static_cast<uint64_t>(a) > n_alts) {
        *why = "GT " + QuoteText(t) + " refers to allele " + std::to_string(a) +
               ", but the record has " + std::to_string(n_alts) +
               (n_alts == 1 ? " ALT allele" : " ALT alleles");
        return false;
      }
    } else {
      return invalid();
    }
    ++p;
    if (i == t.size()) break;
    if (t[i] != '/' && t[i] != '|') return invalid();
    ++i;
  }
  *ploidy = p;
  return true;
}

std::optional<int64_t> ToInt(std::string_view v) {
  int64_t x;
  if (v.empty() || v == "." || !ParseInt64(v, &x)) return std::nullopt;
  return x;
}

std::optional<double> ToDouble(std::string_view v) {
  double x;
  if (v.empty() || v == "." || !ParseDouble(v, &x)) return std::nullopt;
  return x;
}

std::vector<std::string_view> SplitNonMissing(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  if (s.empty() || s == ".") return out;
  ForEachSplit(s, sep, [&](std::string_view p) {
    if (!p.empty() && p != ".") out.push_back(p);
  });
  return out;
}

std::optional<std::pair<int64_t, int64_t>> ParsePair(
    std::optional<std::string_view> raw) {
  if (!raw) return std::nullopt;
  std::string_view a, b;
  if (!NthSplit(*raw, ',', 0, &a) || !NthSplit(*raw, ',', 1, &b)) {
    return std::nullopt;
  }
  auto x = ToInt(a), y = ToInt(b);
  if (!x || !y) return std::nullopt;
  return std::make_pair(*x, *y);
}

}  // namespace

std::string_view AltKindName(AltKind kind) {
  switch (kind) {
    case AltKind::kSequence:
      return "sequence";
    case AltKind::kSymbolic:
      return "symbolic";
    case AltKind::kBreakend:
      return "breakend";
    case AltKind::kSingleBreakend:
      return "single-breakend";
    case AltKind::kOverlappingDeletion:
      return "overlapping-deletion";
    case AltKind::kNonRef:
      return "non-ref";
  }
  return "sequence";
}

std::string_view ZygosityName(Zygosity z) {
  switch (z) {
    case Zygosity::kNoCall:
      return "no-call";
    case Zygosity::kAbsent:
      return "absent";
    case Zygosity::kHeterozygous:
      return "heterozygous";
    case Zygosity::kHomozygous:
      return "homozygous";
    case Zygosity::kHemizygous:
      return "hemizygous";
    case Zygosity::kPartial:
      return "partial";
  }
  return "no-call";
}

bool Genotype::missing() const {
  return std::all_of(alleles.begin(), alleles.end(),
                     [](int a) { return a < 0; });
}

int Genotype::Count(int allele) const {
  return static_cast<int>(std::count(alleles.begin(), alleles.end(), allele));
}

bool ParseGenotype(std::string_view text, Genotype* gt) {
  gt->alleles.clear();
  gt->phased = false;
  std::string why;
  int ploidy = 0;
  if (!ScanGenotype(text, static_cast<size_t>(-1) >> 1, &ploidy, &why)) {
    return false;
  }
  bool all_phased = true;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '.') {
      gt->alleles.push_back(-1);
      ++i;
    } else {
      size_t start = i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      int64_t a = 0;
      ParseInt64(text.substr(start, i - start), &a);
      gt->alleles.push_back(static_cast<int>(a));
    }
    if (i < text.size()) {
      if (text[i] != '|') all_phased = false;
      ++i;
    }
  }
  gt->phased = gt->alleles.size() >= 2 && all_phased;
  return true;
}

std::string AlleleCall::Describe() const {
  switch (zygosity) {
    case Zygosity::kNoCall:
      return "no call";
    case Zygosity::kAbsent:
      return "absent";
    case Zygosity::kHemizygous:
      return "hemizygous";
    case Zygosity::kPartial:
      return "partial call (" + std::to_string(copies) + " of " +
             std::to_string(ploidy) + " copies, " + std::to_string(missing) +
             " missing)";
    case Zygosity::kHomozygous:
      if (ploidy > 2) {
        return "homozygous (" + std::to_string(ploidy) + " of " +
               std::to_string(ploidy) + " copies)";
      }
      return "homozygous";
    case Zygosity::kHeterozygous:
      if (ploidy > 2) {
        return "heterozygous (" + std::to_string(copies) + " of " +
               std::to_string(ploidy) + " copies)";
      }
      return "heterozygous";
  }
  return "no call";
}

std::string ClinVarText(std::string_view value) {
  std::string out(value);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// ---------------------------------------------------------------- Parse --

std::string VcfRecord::ColumnName(size_t index0) const {
  if (index0 < 9) return std::string(kColumnNames[index0]);
  const auto& names = header_->samples();
  if (index0 - 9 < names.size()) return names[index0 - 9];
  return "";
}

bool VcfRecord::Fail(VcfError* error, uint32_t column, std::string reason,
                     std::string rule) const {
  error->code = ErrorCode::kInvalidInput;
  error->line = line_no_;
  error->column = column;
  error->column_name = column > 0 ? ColumnName(column - 1) : "";
  error->reason = std::move(reason);
  error->rule = std::move(rule);
  return false;
}

bool VcfRecord::Parse(std::string_view line, uint64_t line_no,
                      const VcfHeader& header, const ParseOptions& options,
                      VcfError* error) {
  header_ = &header;
  line_ = line;
  line_no_ = line_no;
  cols_.fill(std::string_view());
  samples_.clear();
  alts_.clear();
  alt_kinds_.clear();
  info_.clear();
  format_keys_.clear();
  format_defs_.clear();
  pos_ = 0;

  // Split into columns.
  size_t ncol = 0;
  const char* p = line.data();
  const char* end = p + line.size();
  while (true) {
    const char* tab = static_cast<const char*>(
        std::memchr(p, '\t', static_cast<size_t>(end - p)));
    std::string_view col(p, static_cast<size_t>((tab ? tab : end) - p));
    if (ncol < 9) {
      cols_[ncol] = col;
    } else {
      samples_.push_back(col);
    }
    ++ncol;
    if (!tab) break;
    p = tab + 1;
  }
  const size_t expected = header.expected_columns();
  if (ncol != expected) {
    std::string counts = "expected " + std::to_string(expected) +
                         " tab-separated columns, found " +
                         std::to_string(ncol);
    if (ncol < expected) {
      if (line.find(' ') != std::string_view::npos && ncol < 8) {
        counts += " (columns must be separated by tabs, not spaces)";
      }
      return Fail(error, static_cast<uint32_t>(ncol + 1),
                  "missing column: " + counts, "vcf-columns");
    }
    return Fail(error, static_cast<uint32_t>(expected + 1),
                "unexpected extra column: " + counts, "vcf-columns");
  }

  // CHROM.
  if (cols_[0].empty()) return Fail(error, 1, "CHROM is empty", "vcf-chrom");
  if (cols_[0].find(' ') != std::string_view::npos) {
    return Fail(error, 1, QuoteText(cols_[0]) + " contains a space",
                "vcf-chrom");
  }
  // POS.
  std::string_view pos = cols_[1];
  if (!AllDigits(pos)) {
    if (pos.size() > 1 && pos[0] == '-' && AllDigits(pos.substr(1))) {
      return Fail(error, 2,
                  QuoteText(pos) +
                      " is negative; POS must be at least 1 (0 only for a "
                      "telomere)",
                  "vcf-pos");
    }
    return Fail(error, 2, QuoteText(pos) + " is not a positive integer",
                "vcf-pos");
  }
  if (!ParseInt64(pos, &pos_) || pos_ > kMaxPos) {
    return Fail(error, 2, QuoteText(pos) + " is too large", "vcf-pos");
  }
  // ID.
  if (cols_[2].empty()) {
    return Fail(error, 3, "ID is empty (use . for none)", "vcf-id");
  }
  if (cols_[2].find(' ') != std::string_view::npos) {
    return Fail(error, 3, "ID " + QuoteText(cols_[2]) + " contains a space",
                "vcf-id");
  }
  // REF.
  std::string_view ref = cols_[3];
  if (ref.empty()) return Fail(error, 4, "REF is empty", "vcf-ref");
  if (!IsBases(ref)) {
    char bad = '?';
    for (char c : ref) {
      if (!IsBases(std::string_view(&c, 1))) {
        bad = c;
        break;
      }
    }
    return Fail(error, 4,
                "REF " + QuoteText(ref) + " contains " +
                    QuoteText(std::string_view(&bad, 1)) +
                    "; only A, C, G, T and N are allowed",
                "vcf-ref");
  }
  if (!ParseAlts(error)) return false;
  // QUAL.
  if (cols_[5] != ".") {
    double q;
    if (!ParseDouble(cols_[5], &q)) {
      return Fail(error, 6,
                  "QUAL " + QuoteText(cols_[5]) + " is not a number or .",
                  "vcf-qual");
    }
  }
  // FILTER.
  std::string_view filter = cols_[6];
  if (filter.empty()) {
    return Fail(error, 7, "FILTER is empty (use PASS or .)", "vcf-filter");
  }
  if (filter != "." && filter != "PASS") {
    bool ok = true;
    ForEachSplit(filter, ';', [&](std::string_view f) {
      if (f.empty() || f.find(' ') != std::string_view::npos) ok = false;
    });
    if (!ok) {
      return Fail(error, 7,
                  "FILTER " + QuoteText(filter) +
                      " has an empty or space-containing filter name",
                  "vcf-filter");
    }
  }
  if (!ParseInfo(options, error)) return false;
  if (header.has_format_column()) {
    if (!ParseFormat(error)) return false;
    if (options.validate_samples && !ValidateSamples(error)) return false;
  }
  return true;
}

bool VcfRecord::ParseAlts(VcfError* error) {
  std::string_view a = cols_[4];
  if (a == ".") return true;
  if (a.empty()) {
    return Fail(error, 5, "ALT is empty (use . for none)", "vcf-alt");
  }
  size_t start = 0;
  while (true) {
    size_t comma = a.find(',', start);
    std::string_view allele =
        a.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                        : comma - start);
    if (allele.empty()) {
      return Fail(error, 5, "empty allele in ALT " + QuoteText(a), "vcf-alt");
    }
    AltKind kind;
    if (!ClassifyAlt(allele, &kind)) {
      return Fail(error, 5,
                  QuoteText(allele) +
                      " is not a valid ALT allele (expected bases A/C/G/T/N, "
                      "*, <ID> or a breakend)",
                  "vcf-alt");
    }
    alts_.push_back(allele);
    alt_kinds_.push_back(kind);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

bool VcfRecord::ParseInfo(const ParseOptions& options, VcfError* error) {
  std::string_view text = cols_[7];
  if (text == ".") return true;
  if (text.empty()) {
    return Fail(error, 8, "INFO is empty (use . for none)", "vcf-info");
  }
  size_t start = 0;
  std::string why, rule;
  while (start <= text.size()) {
    size_t semi = text.find(';', start);
    size_t stop = semi == std::string_view::npos ? text.size() : semi;
    std::string_view entry = text.substr(start, stop - start);
    start = stop + 1;
    if (entry.empty()) {
      if (semi == std::string_view::npos) break;
      continue;
    }
    InfoEntry e;
    size_t eq = entry.find('=');
    e.key = entry.substr(0, eq);
    if (eq != std::string_view::npos) {
      e.value = entry.substr(eq + 1);
      e.has_value = true;
    }
    if (e.key.empty()) {
      return Fail(error, 8, "INFO entry " + QuoteText(entry) + " has no key",
                  "vcf-info");
    }
    if (e.key.find(' ') != std::string_view::npos) {
      return Fail(error, 8,
                  "INFO key " + QuoteText(e.key) + " contains a space",
                  "vcf-info");
    }
    // Duplicates: a linear scan for the usual few keys, a sort below for
    // many (keeps a pathological line from costing O(k^2)).
    if (info_.size() < kLinearDuplicateScan) {
      for (const InfoEntry& prev : info_) {
        if (prev.key == e.key) {
          return Fail(error, 8, "duplicate INFO key " + std::string(e.key),
                      "vcf-info-duplicate");
        }
      }
    }
    e.def = header_->info(e.key);
    if (options.validate_info && e.def &&
        !CheckValues(*e.def, e.value, e.has_value, alts_.size(), 0,
                     "INFO field", "vcf-info", &why, &rule)) {
      return Fail(error, 8, why, rule);
    }
    info_.push_back(e);
    if (semi == std::string_view::npos) break;
  }
  if (info_.size() > kLinearDuplicateScan) {
    std::vector<std::string_view> keys;
    keys.reserve(info_.size());
    for (const InfoEntry& e : info_) keys.push_back(e.key);
    if (std::string_view dup = FirstDuplicate(&keys); !dup.empty()) {
      return Fail(error, 8, "duplicate INFO key " + std::string(dup),
                  "vcf-info-duplicate");
    }
  }
  return true;
}

bool VcfRecord::ParseFormat(VcfError* error) {
  std::string_view f = cols_[8];
  if (f.empty()) {
    return Fail(error, 9, "FORMAT is empty", "vcf-format");
  }
  if (f == ".") return true;
  size_t start = 0;
  while (true) {
    size_t colon = f.find(':', start);
    std::string_view key =
        f.substr(start, colon == std::string_view::npos ? std::string_view::npos
                                                        : colon - start);
    if (key.empty()) {
      return Fail(error, 9, "empty key in FORMAT " + QuoteText(f),
                  "vcf-format");
    }
    if (key == "GT" && !format_keys_.empty()) {
      return Fail(error, 9, "GT must be the first FORMAT key",
                  "vcf-format-gt-first");
    }
    if (format_keys_.size() < kLinearDuplicateScan) {
      for (std::string_view k : format_keys_) {
        if (k == key) {
          return Fail(error, 9, "duplicate FORMAT key " + std::string(key),
                      "vcf-format-duplicate");
        }
      }
    }
    format_keys_.push_back(key);
    format_defs_.push_back(header_->format(key));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (format_keys_.size() > kLinearDuplicateScan) {
    std::vector<std::string_view> keys = format_keys_;
    if (std::string_view dup = FirstDuplicate(&keys); !dup.empty()) {
      return Fail(error, 9, "duplicate FORMAT key " + std::string(dup),
                  "vcf-format-duplicate");
    }
  }
  return true;
}

bool VcfRecord::ValidateSamples(VcfError* error) const {
  const size_t nkeys = format_keys_.size();
  if (nkeys == 0) return true;
  std::string why, rule;
  for (size_t s = 0; s < samples_.size(); ++s) {
    const uint32_t column = static_cast<uint32_t>(10 + s);
    std::string_view t = samples_[s];
    if (t.empty()) {
      return Fail(error, column, "sample is empty (use . for missing)",
                  "vcf-sample-fields");
    }
    int ploidy = 0;
    size_t k = 0;
    size_t start = 0;
    while (true) {
      size_t colon = t.find(':', start);
      std::string_view v = t.substr(start, colon == std::string_view::npos
                                               ? std::string_view::npos
                                               : colon - start);
      if (k >= nkeys) {
        return Fail(error, column,
                    "sample has " + std::to_string(CountSplit(t, ':')) +
                        " ':'-separated fields, but FORMAT " +
                        QuoteText(cols_[8]) + " has " + std::to_string(nkeys),
                    "vcf-sample-fields");
      }
      if (format_keys_[k] == "GT") {
        if (!ScanGenotype(v, alts_.size(), &ploidy, &why)) {
          return Fail(error, column, why, "vcf-gt");
        }
      } else if (format_defs_[k] && !v.empty() && v != "." &&
                 !CheckValues(*format_defs_[k], v, true, alts_.size(), ploidy,
                              "FORMAT field", "vcf-format", &why, &rule)) {
        return Fail(error, column, why, rule);
      }
      ++k;
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
  }
  return true;
}

// ------------------------------------------------------------- Accessors --

std::vector<std::string_view> VcfRecord::ids() const {
  return SplitNonMissing(cols_[2], ';');
}

std::optional<double> VcfRecord::qual() const { return ToDouble(cols_[5]); }

std::vector<std::string_view> VcfRecord::filters() const {
  return SplitNonMissing(cols_[6], ';');
}

const InfoEntry* VcfRecord::FindInfo(std::string_view key) const {
  for (const InfoEntry& e : info_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::optional<std::string_view> VcfRecord::InfoRaw(std::string_view key) const {
  const InfoEntry* e = FindInfo(key);
  if (!e) return std::nullopt;
  return e->value;
}

std::optional<int64_t> VcfRecord::InfoInt(std::string_view key,
                                          size_t index) const {
  auto raw = InfoRaw(key);
  std::string_view v;
  if (!raw || !NthSplit(*raw, ',', index, &v)) return std::nullopt;
  return ToInt(v);
}

std::optional<double> VcfRecord::InfoFloat(std::string_view key,
                                           size_t index) const {
  auto raw = InfoRaw(key);
  std::string_view v;
  if (!raw || !NthSplit(*raw, ',', index, &v)) return std::nullopt;
  return ToDouble(v);
}

std::optional<std::string> VcfRecord::InfoString(std::string_view key,
                                                 size_t index) const {
  auto raw = InfoRaw(key);
  std::string_view v;
  if (!raw || !NthSplit(*raw, ',', index, &v) || v == ".") {
    return std::nullopt;
  }
  return PercentDecode(v);
}

std::optional<std::string> VcfRecord::InfoText(std::string_view key) const {
  auto raw = InfoRaw(key);
  if (!raw) return std::nullopt;
  return PercentDecode(*raw);
}

int64_t VcfRecord::EndPosition() const {
  if (auto e = info_end()) return *e;
  return pos_ + static_cast<int64_t>(ref().size()) - 1;
}

std::string_view VcfRecord::sv_type() const {
  return InfoRaw("SVTYPE").value_or("");
}

std::optional<std::pair<int64_t, int64_t>> VcfRecord::cipos() const {
  return ParsePair(InfoRaw("CIPOS"));
}

std::optional<std::pair<int64_t, int64_t>> VcfRecord::ciend() const {
  return ParsePair(InfoRaw("CIEND"));
}

ClinVarInfo VcfRecord::ClinVar() const {
  ClinVarInfo c;
  c.clnsig = InfoText("CLNSIG").value_or("");
  c.clnrevstat = InfoText("CLNREVSTAT").value_or("");
  c.clnhgvs = InfoText("CLNHGVS").value_or("");
  c.clndn = InfoText("CLNDN").value_or("");
  c.allele_id = InfoText("ALLELEID").value_or("");
  c.rs = InfoText("RS").value_or("");
  return c;
}

std::vector<std::string> VcfRecord::DbSnpIds() const {
  std::vector<std::string> out;
  auto add = [&](std::string id) {
    if (std::find(out.begin(), out.end(), id) == out.end()) {
      out.push_back(std::move(id));
    }
  };
  for (std::string_view id : ids()) {
    if (id.size() > 2 && (id.substr(0, 2) == "rs" || id.substr(0, 2) == "RS") &&
        AllDigits(id.substr(2))) {
      add("rs" + std::string(id.substr(2)));
    }
  }
  if (auto rs = InfoRaw("RS")) {
    for (std::string_view piece : SplitNonMissing(*rs, ',')) {
      ForEachSplit(piece, '|', [&](std::string_view v) {
        if (v.size() > 2 && v.substr(0, 2) == "rs") v.remove_prefix(2);
        if (AllDigits(v)) add("rs" + std::string(v));
      });
    }
  }
  return out;
}

std::optional<std::string_view> VcfRecord::SampleField(
    size_t s, std::string_view key) const {
  if (s >= samples_.size()) return std::nullopt;
  for (size_t k = 0; k < format_keys_.size(); ++k) {
    if (format_keys_[k] == key) {
      std::string_view v;
      if (!NthSplit(samples_[s], ':', k, &v)) return std::nullopt;
      return v;
    }
  }
  return std::nullopt;
}

Genotype VcfRecord::GetGenotype(size_t s) const {
  Genotype gt;
  auto v = SampleField(s, "GT");
  if (v && !ParseGenotype(*v, &gt)) gt = Genotype();
  return gt;
}

SampleCall VcfRecord::Sample(size_t s) const {
  SampleCall c;
  c.genotype = GetGenotype(s);
  if (auto ad = SampleField(s, "AD"); ad && *ad != ".") {
    ForEachSplit(*ad, ',', [&](std::string_view v) {
      c.allele_depths.push_back(ToInt(v));
    });
  }
  if (auto v = SampleField(s, "DP")) c.depth = ToInt(*v);
  if (auto v = SampleField(s, "GQ")) c.genotype_quality = ToInt(*v);
  if (auto v = SampleField(s, "CN")) c.copy_number = ToInt(*v);
  if (auto v = SampleField(s, "PS"); v && *v != ".") c.phase_set = *v;
  auto af = SampleField(s, "AF");
  if (!af || *af == ".") af = SampleField(s, "VAF");
  if (af && *af != ".") {
    ForEachSplit(*af, ',', [&](std::string_view v) {
      c.allele_fraction_texts.push_back(v);
      c.allele_fractions.push_back(ToDouble(v));
    });
  }
  return c;
}

std::vector<VepConsequence> VcfRecord::Csq() const {
  auto raw = InfoRaw("CSQ");
  if (!raw) return {};
  const auto& fields = header_->csq_fields();
  return ParseCsq(*raw, fields.empty() ? DefaultCsqFields() : fields);
}

std::vector<SnpEffAnnotation> VcfRecord::Ann() const {
  auto raw = InfoRaw("ANN");
  if (!raw) return {};
  return ParseAnn(*raw);
}

AlleleView VcfRecord::Allele(size_t allele_index) const {
  assert(allele_index >= 1 && allele_index <= alts_.size());
  return AlleleView(this, allele_index);
}

std::vector<AlleleView> VcfRecord::Alleles() const {
  std::vector<AlleleView> out;
  out.reserve(alts_.size());
  for (size_t i = 1; i <= alts_.size(); ++i) out.emplace_back(this, i);
  return out;
}

// ------------------------------------------------------------ AlleleView --

std::optional<std::string_view> AlleleView::Info(std::string_view key) const {
  const InfoEntry* e = rec_->FindInfo(key);
  if (!e) return std::nullopt;
  if (!e->has_value || !e->def) return e->value;
  std::string_view v;
  switch (e->def->number_kind) {
    case NumberKind::kPerAlt:
      if (!NthSplit(e->value, ',', index_ - 1, &v)) return std::nullopt;
      return v;
    case NumberKind::kPerAllele:
      if (!NthSplit(e->value, ',', index_, &v)) return std::nullopt;
      return v;
    default:
      return e->value;
  }
}

std::optional<std::string_view> AlleleView::InfoRef(
    std::string_view key) const {
  const InfoEntry* e = rec_->FindInfo(key);
  if (!e || !e->def || e->def->number_kind != NumberKind::kPerAllele) {
    return std::nullopt;
  }
  std::string_view v;
  if (!NthSplit(e->value, ',', 0, &v)) return std::nullopt;
  return v;
}

std::optional<int64_t> AlleleView::sv_len() const {
  auto raw = rec_->InfoRaw("SVLEN");
  if (!raw) return std::nullopt;
  size_t n = CountSplit(*raw, ',');
  std::string_view v;
  size_t idx = n == rec_->num_alts() ? index_ - 1 : 0;
  if (!NthSplit(*raw, ',', idx, &v)) return std::nullopt;
  return ToInt(v);
}

AlleleCall AlleleView::Call(size_t s) const {
  AlleleCall c;
  if (s >= rec_->num_samples()) return c;
  SampleCall sc = rec_->Sample(s);
  const Genotype& gt = sc.genotype;
  const int i = static_cast<int>(index_);
  c.ploidy = gt.ploidy();
  c.copies = gt.Count(i);
  c.missing = gt.Count(-1);
  c.phased = gt.phased;
  if (!gt.present() || c.missing == c.ploidy) {
    c.zygosity = Zygosity::kNoCall;
  } else if (c.copies == 0) {
    c.zygosity = Zygosity::kAbsent;
  } else if (c.ploidy == 1) {
    c.zygosity = Zygosity::kHemizygous;
  } else if (c.copies == c.ploidy) {
    c.zygosity = Zygosity::kHomozygous;
  } else if (c.copies + c.missing == c.ploidy) {
    c.zygosity = Zygosity::kPartial;
  } else {
    c.zygosity = Zygosity::kHeterozygous;
  }
  c.phase_set = sc.phase_set;
  if (!sc.allele_depths.empty()) c.ref_depth = sc.allele_depths[0];
  if (index_ < sc.allele_depths.size()) c.alt_depth = sc.allele_depths[index_];
  c.depth = sc.depth;
  c.genotype_quality = sc.genotype_quality;
  c.copy_number = sc.copy_number;
  // AF/VAF: one per ALT (Number=A, the usual), one per allele (Number=R) or
  // a single value.
  const size_t n = sc.allele_fraction_texts.size();
  const size_t n_alts = rec_->num_alts();
  const FieldDef* def =
      rec_->header().format(rec_->SampleField(s, "AF") ? "AF" : "VAF");
  std::optional<size_t> idx;
  if (def && def->number_kind == NumberKind::kPerAllele) {
    idx = index_;
  } else if (n == n_alts) {
    idx = index_ - 1;
  } else if (n == n_alts + 1) {
    idx = index_;
  } else if (n == 1) {
    idx = 0;
  }
  if (idx && *idx < n) {
    c.allele_fraction_text = sc.allele_fraction_texts[*idx];
    c.allele_fraction = sc.allele_fractions[*idx];
  }
  return c;
}

std::string AlleleView::VepAllele() const {
  return VepAlleleString(rec_->ref(), rec_->alts(), index_);
}

std::vector<VepConsequence> AlleleView::Csq() const {
  std::vector<VepConsequence> all = rec_->Csq();
  if (rec_->num_alts() <= 1) return all;
  const std::string mine = VepAllele();
  const bool symbolic = kind() != AltKind::kSequence;
  std::string_view sv_term = VepStructuralAllele(alt());
  std::vector<VepConsequence> out;
  for (VepConsequence& c : all) {
    bool match;
    if (c.allele_num) {
      match = *c.allele_num == static_cast<int>(index_);
    } else {
      match = EqualsIgnoreCase(c.allele, mine) ||
              (symbolic && (c.allele == alt() ||
                            (!sv_term.empty() && c.allele == sv_term)));
    }
    if (match) out.push_back(std::move(c));
  }
  return out;
}

std::vector<SnpEffAnnotation> AlleleView::Ann() const {
  std::vector<SnpEffAnnotation> all = rec_->Ann();
  if (rec_->num_alts() <= 1) return all;
  std::vector<SnpEffAnnotation> out;
  for (SnpEffAnnotation& a : all) {
    if (EqualsIgnoreCase(a.allele, alt())) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace genogate::mappers::vcf

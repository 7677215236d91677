// The Genomics Reporting IG rules that the profiles state only in prose.
#include <re2/re2.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "conformance/validator/internal.h"

namespace genogate::conformance::internal {

namespace {

constexpr std::string_view kLoinc = "http://loinc.org";
constexpr std::string_view kHgvs = "http://varnomen.hgvs.org";

// LOINC component codes of the variant profile.
constexpr std::string_view kVariantCode = "69548-6";
constexpr std::string_view kGenomicHgvs = "81290-9";
constexpr std::string_view kCodingHgvs = "48004-6";
constexpr std::string_view kProteinHgvs = "48005-3";
constexpr std::string_view kIscn = "81291-7";
constexpr std::string_view kDiscreteVariant = "81252-9";
constexpr std::string_view kRefSeq = "48013-7";
constexpr std::string_view kCoordSystem = "92822-6";
constexpr std::string_view kStartEnd = "81254-5";
constexpr std::string_view kRefAllele = "69547-8";
constexpr std::string_view kAltAllele = "69551-0";
constexpr std::string_view kAlleleFreq = "81258-6";
constexpr std::string_view kAssembly = "62374-4";

// GRCh37 (LA14029-5) and GRCh38 (LA26806-2) accession versions of the
// RefSeq chromosome sequences NC_000001 .. NC_000024.
constexpr std::string_view kGrch37 = "LA14029-5";
constexpr std::string_view kGrch38 = "LA26806-2";
constexpr int kChromVersions[24][2] = {
    {10, 11}, {11, 12}, {11, 12}, {11, 12}, {9, 10},  {11, 12},
    {13, 14}, {10, 11}, {11, 12}, {10, 11}, {9, 10},  {11, 12},
    {10, 11}, {8, 9},   {9, 10},  {9, 10},  {10, 11}, {9, 10},
    {9, 10},  {10, 11}, {8, 9},   {10, 11}, {10, 11}, {9, 10}};

struct Patterns {
  RE2 allele{"[ACGTN]+"};
  RE2 nc{"NC_0000(\\d\\d)\\.(\\d+)"};
  RE2 hgvs;
  static std::string HgvsPattern() {
    const std::string pos = "(?:[-*]?\\d+(?:[+-]\\d+)?|\\?)";
    const std::string upos = "(?:" + pos + "|\\(" + pos + "_" + pos + "\\))";
    const std::string range = upos + "(?:_" + upos + ")?";
    const std::string na = "[ACGTNacgtnu]";
    const std::string change =
        "(?:" + na + "+>" + na + "+" +  // substitution
        "|del(?:" + na + "+|\\d+)?(?:ins(?:" + na + "+|\\d+|\\(\\d+\\)))?" +
        "|dup(?:" + na + "+|\\d+)?" +                     // duplication
        "|ins(?:" + na + "+|\\d+|\\(\\d+\\)|\\[.+\\])" +  // insertion
        "|inv(?:" + na + "+|\\d+)?" +                     // inversion
        "|(?:" + na + "+\\[\\d+\\])+" +                   // repeats
        "|\\[\\d+\\]" + "|con.+|=|\\?)";
    const std::string nvar = range + change;
    const std::string nbody = "(?:" + nvar + "|\\(" + nvar + "\\)|\\[" + nvar +
                              "(?:;" + nvar + ")*\\](?:;\\[" + nvar + "(?:;" +
                              nvar + ")*\\])*|=|\\?|0)";
    const std::string aa = "(?:[A-Z][a-z]{2}|[A-Z*])";
    const std::string apos = aa + "\\d+";
    const std::string achange =
        "(?:" + aa + "(?:fs(?:Ter|\\*)?(?:\\d+|\\?)?)?" +
        "|fs(?:Ter|\\*)?(?:\\d+|\\?)?|del|dup|=|\\?" + "|ins(?:" + aa +
        ")+|delins(?:" + aa + ")+|ext\\S*)";
    const std::string pvar = apos + "(?:_" + apos + ")?" + achange;
    const std::string pbody = "(?:" + pvar + "|\\(" + pvar + "\\)|\\[" + pvar +
                              "(?:;" + pvar + ")*\\]|=|\\(=\\)|\\?|0|0\\?)";
    const std::string ref =
        "(?:(?:NC|NG|NM|NR|NP|NT|NW|XM|XR|XP)_\\d+(?:\\.\\d+)?|LRG_\\d+(?:t\\d+"
        "|p\\d+)?"
        "|ENS[TGP]\\d+(?:\\.\\d+)?)(?:\\([A-Za-z0-9._-]+\\))?";
    return ref + ":(?:[cgnmr]\\." + nbody + "|p\\." + pbody + ")";
  }
  Patterns() : hgvs(HgvsPattern()) {}
};

const Patterns& P() {
  static const Patterns* p = new Patterns();  // immutable after creation
  return *p;
}

bool HasCoding(const fhir::Node* cc, std::string_view system,
               std::string_view code) {
  if (cc == nullptr) return false;
  for (const fhir::Node* c : cc->Children("coding"))
    if (c->ChildValue("system") == system && c->ChildValue("code") == code)
      return true;
  return false;
}

std::string LoincCode(const fhir::Node& component) {
  const fhir::Node* code = component.Child("code");
  if (code == nullptr) return {};
  for (const fhir::Node* c : code->Children("coding"))
    if (c->ChildValue("system") == kLoinc)
      return std::string(c->ChildValue("code"));
  return {};
}

}  // namespace

bool IsGenomicVariant(const fhir::Node& obs) {
  if (const fhir::Node* meta = obs.Child("meta"))
    for (const fhir::Node* p : meta->Children("profile"))
      if (p->value() == kVariantProfile) return true;
  return HasCoding(obs.Child("code"), kLoinc, kVariantCode);
}

void CheckGenomicVariant(const fhir::Node& obs, const std::string& loc,
                         IssueSink* sink) {
  const Patterns& pat = P();
  std::map<std::string, std::vector<std::pair<const fhir::Node*, std::string>>>
      by_code;
  size_t idx = 0;
  for (const fhir::Node& c : obs.children()) {
    if (c.name() != "component") continue;
    std::string cl = loc + ".component[" + std::to_string(idx++) + "]";
    std::string code = LoincCode(c);
    if (!code.empty()) by_code[code].push_back({&c, cl});
  }
  auto has = [&](std::string_view code) {
    return by_code.count(std::string(code)) > 0;
  };
  // Variant definition.
  bool named = has(kGenomicHgvs) || has(kCodingHgvs) || has(kProteinHgvs) ||
               has(kIscn) || has(kDiscreteVariant);
  std::vector<std::string_view> vcf = {kRefSeq, kCoordSystem, kStartEnd,
                                       kRefAllele, kAltAllele};
  size_t present = 0;
  std::string missing;
  for (std::string_view c : vcf) {
    if (has(c)) {
      ++present;
    } else {
      missing += (missing.empty() ? "" : ", ") + std::string(c);
    }
  }
  // A complex variant is defined by its member variants (hasMember).
  if (obs.Child("hasMember") != nullptr) named = true;
  if (!named && present == 0) {
    sink->Report(Severity::kError, "required", "gg-variant-definition",
                 "Variant: no definition of the variant: give an HGVS "
                 "expression (81290-9, 48004-6, 48005-3), an ISCN (81291-7), "
                 "a variant identifier (81252-9) or the VCF-style components "
                 "(reference sequence, coordinate system, start-end, ref and "
                 "alt alleles)",
                 loc, &obs);
  } else if (!named && present < vcf.size()) {
    sink->Report(Severity::kWarning, "incomplete", "gg-vcf-incomplete",
                 "Variant: defined by VCF-style components without an HGVS "
                 "expression, but components are missing (LOINC " +
                     missing + ")",
                 loc, &obs);
  }
  // Alleles.
  for (std::string_view code : {kRefAllele, kAltAllele}) {
    auto it = by_code.find(std::string(code));
    if (it == by_code.end()) continue;
    for (const auto& [c, cl] : it->second) {
      const fhir::Node* v = c->Child("value");
      if (v == nullptr || v->type_name() != "string" || !v->has_value())
        continue;
      if (!RE2::FullMatch(v->value(), pat.allele)) {
        sink->Report(
            Severity::kError, "value", "gg-allele-chars",
            std::string(code == kRefAllele ? "Reference" : "Alternate") +
                " allele must be a sequence of A, C, G, T, N",
            cl + ".value", v);
      }
    }
  }
  // Start <= end.
  if (auto it = by_code.find(std::string(kStartEnd)); it != by_code.end()) {
    for (const auto& [c, cl] : it->second) {
      const fhir::Node* v = c->Child("value");
      if (v == nullptr || v->type_name() != "Range") continue;
      const fhir::Node* lo = v->Child("low");
      const fhir::Node* hi = v->Child("high");
      if (!lo || !hi) continue;
      std::string_view a = lo->ChildValue("value");
      std::string_view b = hi->ChildValue("value");
      if (a.empty() || b.empty()) continue;
      double da = std::strtod(std::string(a).c_str(), nullptr);
      double db = std::strtod(std::string(b).c_str(), nullptr);
      if (da > db) {
        sink->Report(Severity::kError, "value", "gg-start-end",
                     "Variant start-end: start " + std::string(a) +
                         " is greater than end " + std::string(b),
                     cl + ".value", v);
      }
    }
  }
  // Allele frequency in [0, 1].
  if (auto it = by_code.find(std::string(kAlleleFreq)); it != by_code.end()) {
    for (const auto& [c, cl] : it->second) {
      const fhir::Node* v = c->Child("value");
      if (v == nullptr || v->type_name() != "Quantity") continue;
      std::string_view val = v->ChildValue("value");
      if (val.empty()) continue;
      double d = std::strtod(std::string(val).c_str(), nullptr);
      std::string_view unit = v->ChildValue("code");
      if (unit.empty()) unit = v->ChildValue("unit");
      double max = unit == "%" ? 100 : 1;
      if (d < 0 || d > max) {
        sink->Report(
            Severity::kError, "value", "gg-allele-frequency",
            "Allele frequency " + std::string(val) + " is outside " +
                (max == 1 ? std::string("0..1") : std::string("0..100 %")),
            cl + ".value.value", v->Child("value"));
      }
    }
  }
  // HGVS syntax.
  std::vector<int> builds;  // 37 / 38 implied by NC_ accessions
  for (std::string_view code : {kGenomicHgvs, kCodingHgvs, kProteinHgvs}) {
    auto it = by_code.find(std::string(code));
    if (it == by_code.end()) continue;
    for (const auto& [c, cl] : it->second) {
      const fhir::Node* v = c->Child("value");
      if (v == nullptr || v->type_name() != "CodeableConcept") continue;
      size_t i = 0;
      for (const fhir::Node* coding : v->Children("coding")) {
        std::string ccl = cl + ".value.coding[" + std::to_string(i++) + "]";
        if (coding->ChildValue("system") != kHgvs) continue;
        std::string expr(coding->ChildValue("code"));
        if (expr.empty()) continue;
        if (!RE2::FullMatch(expr, pat.hgvs)) {
          sink->Report(Severity::kError, "value", "gg-hgvs-syntax",
                       "HGVS expression '" + expr.substr(0, 80) +
                           "' is not syntactically valid (expected "
                           "<reference>:<c.|g.|p.|n.|m.|r.><change>)",
                       ccl + ".code", coding->Child("code"));
        }
      }
    }
  }
  // One reference build.
  std::set<std::string> assemblies;
  const fhir::Node* asm_node = nullptr;
  std::string asm_loc;
  if (auto it = by_code.find(std::string(kAssembly)); it != by_code.end()) {
    for (const auto& [c, cl] : it->second) {
      const fhir::Node* v = c->Child("value");
      if (v == nullptr) continue;
      for (const fhir::Node* coding : v->Children("coding"))
        if (coding->ChildValue("system") == kLoinc)
          assemblies.insert(std::string(coding->ChildValue("code")));
      asm_node = c;
      asm_loc = cl;
    }
  }
  if (assemblies.size() > 1) {
    sink->Report(Severity::kError, "value", "gg-reference-build",
                 "Variant: more than one reference build is given; a variant "
                 "has one",
                 asm_loc, asm_node);
  }
  // NC_ accessions (in gHGVS and the reference sequence) against the build.
  std::set<int> implied;
  auto scan = [&](std::string_view text) {
    std::string chr, ver;
    re2::StringPiece in(text.data(), text.size());
    while (RE2::FindAndConsume(&in, pat.nc, &chr, &ver)) {
      int c = std::atoi(chr.c_str());
      int v = std::atoi(ver.c_str());
      if (c < 1 || c > 24) continue;
      if (kChromVersions[c - 1][0] == v) implied.insert(37);
      if (kChromVersions[c - 1][1] == v) implied.insert(38);
    }
  };
  for (std::string_view code : {kGenomicHgvs, kRefSeq}) {
    auto it = by_code.find(std::string(code));
    if (it == by_code.end()) continue;
    for (const auto& [c, cl] : it->second) {
      const fhir::Node* v = c->Child("value");
      if (v == nullptr) continue;
      for (const fhir::Node* coding : v->Children("coding"))
        scan(coding->ChildValue("code"));
    }
  }
  if (implied.size() > 1) {
    sink->Report(Severity::kError, "value", "gg-reference-build",
                 "Variant: the reference sequences belong to different "
                 "builds (GRCh37 and GRCh38)",
                 loc, &obs);
  } else if (assemblies.size() == 1 && implied.size() == 1) {
    const std::string& a = *assemblies.begin();
    int build = *implied.begin();
    if ((a == kGrch37 && build == 38) || (a == kGrch38 && build == 37)) {
      sink->Report(Severity::kError, "value", "gg-reference-build",
                   "Variant: the reference sequence is from GRCh" +
                       std::to_string(build) +
                       " but the reference build component says GRCh" +
                       std::string(a == kGrch37 ? "37" : "38"),
                   asm_loc, asm_node);
    }
  }
}

std::string CheckPrimitiveValue(std::string_view type, std::string_view v) {
  if (type == "integer" || type == "positiveInt" || type == "unsignedInt") {
    std::string s(v);
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || n < -2147483648LL || n > 2147483647LL)
      return "out of the 32-bit integer range";
    if (type == "positiveInt" && n < 1) return "must be at least 1";
    if (type == "unsignedInt" && n < 0) return "must not be negative";
    return {};
  }
  if (type == "date" || type == "dateTime" || type == "instant") {
    if (v.size() >= 10 && v[4] == '-' && v[7] == '-') {
      int y = std::atoi(std::string(v.substr(0, 4)).c_str());
      int m = std::atoi(std::string(v.substr(5, 2)).c_str());
      int d = std::atoi(std::string(v.substr(8, 2)).c_str());
      static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31};
      if (m >= 1 && m <= 12) {
        int max = kDays[m - 1];
        if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
        if (d > max)
          return "day " + std::to_string(d) + " does not exist in that month";
      }
    }
    return {};
  }
  if (type == "string" || type == "markdown") {
    if (v.size() > 1024 * 1024) return "longer than 1 MB";
    bool blank = true;
    for (char c : v)
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') blank = false;
    if (blank) return "must have non-whitespace content";
    return {};
  }
  return {};
}

}  // namespace genogate::conformance::internal

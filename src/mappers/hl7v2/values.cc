#include "mappers/hl7v2/values.h"

#include <charconv>
#include <string>

namespace genogate::mappers::hl7v2::internal {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Num(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

struct DateTimeParts {
  std::string_view digits;    // 4..14 digits
  std::string_view fraction;  // after '.', may be empty
  std::string_view offset;    // "+hhmm" / "-hhmm", may be empty
};

std::optional<DateTimeParts> SplitDateTime(std::string_view s) {
  DateTimeParts p;
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  p.digits = s.substr(0, i);
  size_t n = p.digits.size();
  if (n != 4 && n != 6 && n != 8 && n != 10 && n != 12 && n != 14) {
    return std::nullopt;
  }
  if (i < s.size() && s[i] == '.') {
    if (n != 14) return std::nullopt;
    size_t j = i + 1;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    p.fraction = s.substr(i + 1, j - i - 1);
    if (p.fraction.empty() || p.fraction.size() > 4) return std::nullopt;
    i = j;
  }
  if (i < s.size()) {
    p.offset = s.substr(i);
    if (p.offset.size() != 5 || (p.offset[0] != '+' && p.offset[0] != '-') ||
        !AllDigits(p.offset.substr(1)) || Num(p.offset.substr(1, 2)) > 14 ||
        Num(p.offset.substr(3, 2)) > 59) {
      return std::nullopt;
    }
  }
  std::string_view d = p.digits;
  if (n >= 6 && (Num(d.substr(4, 2)) < 1 || Num(d.substr(4, 2)) > 12)) {
    return std::nullopt;
  }
  if (n >= 8 && (Num(d.substr(6, 2)) < 1 || Num(d.substr(6, 2)) > 31)) {
    return std::nullopt;
  }
  if (n >= 10 && Num(d.substr(8, 2)) > 23) return std::nullopt;
  if (n >= 12 && Num(d.substr(10, 2)) > 59) return std::nullopt;
  if (n >= 14 && Num(d.substr(12, 2)) > 60) return std::nullopt;
  return p;
}

std::string DatePart(std::string_view d) {
  std::string out(d.substr(0, 4));
  if (d.size() >= 6) {
    out += '-';
    out += d.substr(4, 2);
  }
  if (d.size() >= 8) {
    out += '-';
    out += d.substr(6, 2);
  }
  return out;
}

}  // namespace

bool IsNumeric(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return AllDigits(s);
  std::string_view a = s.substr(0, dot), b = s.substr(dot + 1);
  if (a.empty() && b.empty()) return false;
  return (a.empty() || AllDigits(a)) && (b.empty() || AllDigits(b));
}

std::optional<int64_t> ParseInteger(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::string_view body = s;
  if (!body.empty() && body[0] == '-') body.remove_prefix(1);
  if (!AllDigits(body)) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool IsHl7Date(std::string_view s) {
  if (s.size() != 4 && s.size() != 6 && s.size() != 8) return false;
  auto p = SplitDateTime(s);
  return p.has_value() && p->offset.empty();
}

bool IsHl7DateTime(std::string_view s) { return SplitDateTime(s).has_value(); }

std::optional<std::string> ToFhirDateTime(std::string_view s,
                                          std::string_view default_offset,
                                          bool* time_dropped) {
  auto p = SplitDateTime(s);
  if (!p) return std::nullopt;
  std::string_view d = p->digits;
  std::string out = DatePart(d);
  if (d.size() <= 8) return out;
  std::string offset;
  if (!p->offset.empty()) {
    offset = std::string(p->offset.substr(0, 3)) + ":" +
             std::string(p->offset.substr(3, 2));
  } else if (!default_offset.empty()) {
    offset = std::string(default_offset);
  } else {
    if (time_dropped != nullptr) *time_dropped = true;
    return out;
  }
  out += 'T';
  out += d.substr(8, 2);
  out += ':';
  out += d.size() >= 12 ? d.substr(10, 2) : "00";
  out += ':';
  out += d.size() >= 14 ? d.substr(12, 2) : "00";
  if (!p->fraction.empty()) {
    out += '.';
    out += p->fraction;
  }
  out += offset;
  return out;
}

std::optional<std::string> ToFhirDate(std::string_view s) {
  auto p = SplitDateTime(s);
  if (!p) return std::nullopt;
  return DatePart(p->digits.substr(0, std::min<size_t>(8, p->digits.size())));
}

bool IsLoincSystem(std::string_view name) {
  return name == "LN" || name == "LOINC" || name == "http://loinc.org";
}

std::string CodingSystemUrl(std::string_view name) {
  if (name.empty()) return "";
  if (name.find("://") != std::string_view::npos ||
      name.substr(0, 4) == "urn:") {
    return std::string(name);
  }
  if (IsLoincSystem(name)) return "http://loinc.org";
  if (name == "HGNC" || name == "HGNC-ID") {
    return "http://www.genenames.org/geneId";
  }
  if (name == "RefSeq" || name == "REFSEQ" || name == "RefSeq-T" ||
      name == "RefSeq-G" || name == "RefSeq-P") {
    return "http://www.ncbi.nlm.nih.gov/refseq";
  }
  if (name == "HGVS" || name == "HGVS.c" || name == "HGVS.p" ||
      name == "HGVS.g") {
    return "http://varnomen.hgvs.org";
  }
  if (name == "SO") return "http://www.sequenceontology.org";
  if (name == "dbSNP" || name == "DBSNP") {
    return "http://www.ncbi.nlm.nih.gov/projects/SNP";
  }
  if (name == "ClinVar" || name == "CLINVAR" || name == "ClinVar-V" ||
      name == "ClinVar-A") {
    return "http://www.ncbi.nlm.nih.gov/clinvar";
  }
  if (name == "SCT" || name == "SNOMEDCT") return "http://snomed.info/sct";
  if (name == "ENSEMBL" || name == "Ensembl") return "http://www.ensembl.org";
  if (name == "UCUM") return "http://unitsofmeasure.org";
  if (name.size() == 7 && name.substr(0, 3) == "HL7" &&
      AllDigits(name.substr(3))) {
    return "http://terminology.hl7.org/CodeSystem/v2-" +
           std::string(name.substr(3));
  }
  bool oid = name.find('.') != std::string_view::npos;
  for (char c : name) oid = oid && ((c >= '0' && c <= '9') || c == '.');
  if (oid) return "urn:oid:" + std::string(name);
  return std::string(name);
}

Coding ToCoding(const Element& cwe, bool prefer_loinc) {
  Coding c;
  c.code = cwe.Component(1).Value();
  c.display = cwe.Component(2).Value();
  std::string system = cwe.Component(3).Value();
  std::string alt_code = cwe.Component(4).Value();
  std::string alt_system = cwe.Component(6).Value();
  bool use_alt = (c.code.empty() && c.display.empty() && !alt_code.empty()) ||
                 (prefer_loinc && !IsLoincSystem(system) &&
                  IsLoincSystem(alt_system) && !alt_code.empty());
  if (use_alt) {
    c.code = std::move(alt_code);
    std::string alt_display = cwe.Component(5).Value();
    if (!alt_display.empty()) c.display = std::move(alt_display);
    system = std::move(alt_system);
  }
  c.system = CodingSystemUrl(system);
  return c;
}

std::string Quote(std::string_view s, size_t max) {
  std::string out = "\"";
  size_t n = 0;
  for (char c : s) {
    if (n == max) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
    ++n;
  }
  out += '"';
  return out;
}

}  // namespace genogate::mappers::hl7v2::internal

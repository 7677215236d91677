#include "mappers/vcf/vcf_header.h"

#include <utility>

#include "mappers/vcf/text_util.h"

namespace genogate::mappers::vcf {
namespace {

constexpr std::string_view kFixedColumns[] = {
    "#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Quote(std::string_view s) { return QuoteText(s); }

using Attributes = std::vector<std::pair<std::string, std::string>>;

// Parses `ID=x,Number=1,Description="a \"b\", c"` (without the angle
// brackets).
bool ParseAttributes(std::string_view body, Attributes* out, std::string* why) {
  size_t i = 0;
  const size_t n = body.size();
  while (i < n) {
    size_t eq = body.find('=', i);
    size_t comma = body.find(',', i);
    if (eq == std::string_view::npos ||
        (comma != std::string_view::npos && comma < eq)) {
      std::string_view bad = body.substr(i, comma == std::string_view::npos
                                                ? std::string_view::npos
                                                : comma - i);
      *why = "attribute " + Quote(bad) + " has no '='";
      return false;
    }
    std::string key(Trim(body.substr(i, eq - i)));
    if (key.empty()) {
      *why = "an attribute has an empty name";
      return false;
    }
    i = eq + 1;
    std::string value;
    if (i < n && body[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        char c = body[i];
        if (c == '\\' && i + 1 < n) {
          value.push_back(body[i + 1]);
          i += 2;
          continue;
        }
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        value.push_back(c);
        ++i;
      }
      if (!closed) {
        *why = "the quoted value of " + key + " is not terminated";
        return false;
      }
      while (i < n && body[i] == ' ') ++i;
      if (i < n && body[i] != ',') {
        *why = "unexpected text after the quoted value of " + key;
        return false;
      }
    } else {
      size_t end = body.find(',', i);
      if (end == std::string_view::npos) end = n;
      value = std::string(body.substr(i, end - i));
      i = end;
    }
    out->emplace_back(std::move(key), std::move(value));
    if (i < n && body[i] == ',') ++i;
  }
  return true;
}

const std::string* FindAttr(const Attributes& attrs, std::string_view key) {
  for (const auto& [k, v] : attrs) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool ParseNumber(std::string_view text, FieldDef* def) {
  if (text == "A") {
    def->number_kind = NumberKind::kPerAlt;
  } else if (text == "R") {
    def->number_kind = NumberKind::kPerAllele;
  } else if (text == "G") {
    def->number_kind = NumberKind::kPerGenotype;
  } else if (text == ".") {
    def->number_kind = NumberKind::kUnbounded;
  } else {
    int64_t v = 0;
    if (text.empty() || text[0] == '+' || text[0] == '-' ||
        !ParseInt64(text, &v) || v > 1000000) {
      return false;
    }
    def->number_kind = NumberKind::kFixed;
    def->number = static_cast<int>(v);
  }
  return true;
}

bool ParseType(std::string_view text, ValueType* type) {
  if (text == "Integer") {
    *type = ValueType::kInteger;
  } else if (text == "Float") {
    *type = ValueType::kFloat;
  } else if (text == "Flag") {
    *type = ValueType::kFlag;
  } else if (text == "Character") {
    *type = ValueType::kCharacter;
  } else if (text == "String") {
    *type = ValueType::kString;
  } else {
    return false;
  }
  return true;
}

bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

// Looks for build names at the start of a token ("GRCh37.p13",
// "human_g1k_v37.fasta", "hs38DH", "file:///ref/hg19.fa").
GenomeBuild BuildFromName(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  static constexpr std::string_view k37[] = {"grch37", "hg19",    "hs37",
                                             "b37",    "g1k_v37", "ncbi37"};
  static constexpr std::string_view k38[] = {"grch38", "hg38", "hs38", "b38",
                                             "ncbi38"};
  auto has = [&](std::string_view pat) {
    size_t pos = 0;
    while ((pos = lower.find(pat, pos)) != std::string::npos) {
      if (pos == 0 || !IsAlnum(lower[pos - 1])) return true;
      ++pos;
    }
    return false;
  };
  bool is37 = false, is38 = false;
  for (std::string_view p : k37) is37 = is37 || has(p);
  for (std::string_view p : k38) is38 = is38 || has(p);
  if (is37 == is38) return GenomeBuild::kUnknown;
  return is37 ? GenomeBuild::kGRCh37 : GenomeBuild::kGRCh38;
}

std::string RuleFor(std::string_view key) {
  if (key == "INFO") return "vcf-header-info";
  if (key == "FORMAT") return "vcf-header-format";
  if (key == "contig") return "vcf-header-contig";
  if (key == "FILTER") return "vcf-header-filter";
  return "vcf-header-meta";
}

}  // namespace

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kInteger:
      return "Integer";
    case ValueType::kFloat:
      return "Float";
    case ValueType::kFlag:
      return "Flag";
    case ValueType::kCharacter:
      return "Character";
    case ValueType::kString:
      return "String";
  }
  return "String";
}

std::string FieldDef::NumberText() const {
  switch (number_kind) {
    case NumberKind::kFixed:
      return std::to_string(number);
    case NumberKind::kPerAlt:
      return "A";
    case NumberKind::kPerAllele:
      return "R";
    case NumberKind::kPerGenotype:
      return "G";
    case NumberKind::kUnbounded:
      return ".";
  }
  return ".";
}

void VcfHeader::Warn(uint64_t line, std::string message, std::string code) {
  Issue issue;
  issue.severity = Severity::kWarning;
  issue.type = "informational";
  issue.message = "line " + std::to_string(line) + ": " + message;
  issue.line = static_cast<uint32_t>(line);
  issue.code = std::move(code);
  warnings_.Add(std::move(issue));
}

bool VcfHeader::ParseFileFormatLine(std::string_view line, uint64_t line_no,
                                    VcfError* error) {
  constexpr std::string_view kPrefix = "##fileformat=";
  if (line.substr(0, kPrefix.size()) != kPrefix) {
    *error = {
        ErrorCode::kInvalidInput,
        line_no,
        0,
        "",
        "the first line must be ##fileformat=VCFv4.x, found " + Quote(line),
        "vcf-fileformat"};
    return false;
  }
  std::string_view version = Trim(line.substr(kPrefix.size()));
  if (version == "VCFv4.1" || version == "VCFv4.2" || version == "VCFv4.3") {
    file_format_ = std::string(version);
    minor_version_ = version.back() - '0';
    return true;
  }
  *error = {ErrorCode::kInvalidInput,
            line_no,
            0,
            "",
            "unsupported VCF version " + Quote(version) +
                " (genogate reads VCFv4.1, VCFv4.2 and VCFv4.3)",
            "vcf-fileformat-version"};
  return false;
}

bool VcfHeader::ParseMetaLine(std::string_view line, uint64_t line_no,
                              VcfError* error) {
  std::string_view body = line.substr(2);
  size_t eq = body.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    *error = {ErrorCode::kInvalidInput,
              line_no,
              0,
              "",
              "meta-information line must be ##key=value, found " + Quote(line),
              "vcf-header-meta"};
    return false;
  }
  std::string_view key = body.substr(0, eq);
  std::string_view value = body.substr(eq + 1);
  if (key == "fileformat") {
    *error = {ErrorCode::kInvalidInput,
              line_no,
              0,
              "",
              "##fileformat may appear only on the first line",
              "vcf-fileformat"};
    return false;
  }
  meta_.push_back({std::string(key), std::string(value), line_no});
  const bool structured = key == "INFO" || key == "FORMAT" || key == "FILTER" ||
                          key == "contig" || key == "ALT" || key == "SAMPLE" ||
                          key == "META";
  if (!structured) return true;
  if (value.size() < 2 || value.front() != '<' || value.back() != '>') {
    *error = {ErrorCode::kInvalidInput,
              line_no,
              0,
              "",
              "malformed ##" + std::string(key) +
                  " line: the value must be enclosed in <...>",
              RuleFor(key)};
    return false;
  }
  return ParseStructured(key, value.substr(1, value.size() - 2), line_no,
                         error);
}

bool VcfHeader::ParseStructured(std::string_view key, std::string_view body,
                                uint64_t line_no, VcfError* error) {
  std::string rule = RuleFor(key);
  auto fail = [&](const std::string& why) {
    *error = {ErrorCode::kInvalidInput,
              line_no,
              0,
              "",
              "malformed ##" + std::string(key) + " line: " + why,
              rule};
    return false;
  };
  Attributes attrs;
  std::string why;
  if (!ParseAttributes(body, &attrs, &why)) return fail(why);
  const std::string* id = FindAttr(attrs, "ID");
  if (!id || id->empty()) return fail("missing ID");

  if (key == "INFO" || key == "FORMAT") {
    FieldDef def;
    def.id = *id;
    def.line = line_no;
    const std::string* number = FindAttr(attrs, "Number");
    const std::string* type = FindAttr(attrs, "Type");
    const std::string* desc = FindAttr(attrs, "Description");
    if (!number) return fail("missing Number for " + *id);
    if (!ParseNumber(*number, &def)) {
      return fail("Number " + Quote(*number) + " of " + *id +
                  " is not an integer, A, R, G or .");
    }
    if (!type) return fail("missing Type for " + *id);
    if (!ParseType(*type, &def.type)) {
      return fail("Type " + Quote(*type) + " of " + *id +
                  " is not Integer, Float, Flag, Character or String");
    }
    if (def.type == ValueType::kFlag) {
      if (key == "FORMAT") return fail("FORMAT " + *id + " cannot be a Flag");
      if (def.number_kind != NumberKind::kFixed || def.number != 0) {
        return fail("Flag " + *id + " must have Number=0");
      }
    }
    if (desc) {
      def.description = *desc;
    } else {
      Warn(line_no, "##" + std::string(key) + " " + *id + " has no Description",
           "vcf-header-description");
    }
    auto& defs = key == "INFO" ? infos_ : formats_;
    auto& index = key == "INFO" ? info_index_ : format_index_;
    if (index.count(*id)) {
      Warn(line_no,
           "duplicate ##" + std::string(key) + " " + *id +
               "; the first definition is used",
           "vcf-header-duplicate");
      return true;
    }
    index.emplace(*id, defs.size());
    defs.push_back(std::move(def));
    return true;
  }
  if (key == "FILTER") {
    const std::string* desc = FindAttr(attrs, "Description");
    filters_.push_back({*id, desc ? *desc : "", line_no});
    return true;
  }
  if (key == "contig") {
    ContigDef c;
    c.id = *id;
    c.line = line_no;
    if (const std::string* len = FindAttr(attrs, "length")) {
      int64_t v = 0;
      if (!ParseInt64(*len, &v) || v < 0) {
        return fail("length " + Quote(*len) + " of contig " + *id +
                    " is not a non-negative integer");
      }
      c.length = v;
    }
    if (const std::string* a = FindAttr(attrs, "assembly")) c.assembly = *a;
    if (contig_index_.count(c.id)) {
      Warn(line_no, "duplicate ##contig " + c.id, "vcf-header-duplicate");
      return true;
    }
    contig_index_.emplace(c.id, contigs_.size());
    contigs_.push_back(std::move(c));
    return true;
  }
  return true;
}

bool VcfHeader::ParseColumnLine(std::string_view line, uint64_t line_no,
                                VcfError* error) {
  std::vector<std::string_view> cols;
  ForEachSplit(line, '\t', [&](std::string_view c) { cols.push_back(c); });
  for (size_t i = 0; i < 8; ++i) {
    std::string_view expected = kFixedColumns[i];
    if (i >= cols.size()) {
      *error = {ErrorCode::kInvalidInput,
                line_no,
                static_cast<uint32_t>(i + 1),
                std::string(expected == "#CHROM" ? "CHROM" : expected),
                "the #CHROM line is missing column " + Quote(expected),
                "vcf-header-columns"};
      return false;
    }
    if (cols[i] != expected) {
      std::string reason =
          "expected " + Quote(expected) + ", found " + Quote(cols[i]);
      if (cols[i].find(' ') != std::string_view::npos) {
        reason += " (header columns must be separated by tabs)";
      }
      *error = {ErrorCode::kInvalidInput,
                line_no,
                static_cast<uint32_t>(i + 1),
                std::string(expected == "#CHROM" ? "CHROM" : expected),
                reason,
                "vcf-header-columns"};
      return false;
    }
  }
  if (cols.size() > 8) {
    if (cols[8] != "FORMAT") {
      *error = {ErrorCode::kInvalidInput,
                line_no,
                9,
                "FORMAT",
                "expected \"FORMAT\" before the sample columns, found " +
                    Quote(cols[8]),
                "vcf-header-columns"};
      return false;
    }
    has_format_column_ = true;
    for (size_t i = 9; i < cols.size(); ++i) {
      std::string name(cols[i]);
      if (name.empty()) {
        *error = {ErrorCode::kInvalidInput,     line_no,
                  static_cast<uint32_t>(i + 1), "sample",
                  "empty sample name",          "vcf-sample-name"};
        return false;
      }
      if (sample_index_.count(name)) {
        *error = {ErrorCode::kInvalidInput,
                  line_no,
                  static_cast<uint32_t>(i + 1),
                  name,
                  "duplicate sample name " + Quote(name) + " (also column " +
                      std::to_string(sample_index_[name] + 10) + ")",
                  "vcf-sample-duplicate"};
        return false;
      }
      sample_index_.emplace(name, static_cast<int>(samples_.size()));
      samples_.push_back(std::move(name));
    }
  }
  column_line_ = line_no;
  return true;
}

void VcfHeader::Finish() {
  // --- Build inference.
  struct Vote {
    GenomeBuild build;
    std::string evidence;
    uint64_t line;
  };
  std::vector<Vote> votes;
  for (const ContigDef& c : contigs_) {
    if (!c.length) continue;
    for (GenomeBuild b : {GenomeBuild::kGRCh37, GenomeBuild::kGRCh38}) {
      // Only the primary chromosomes 1-22, X, Y have listed lengths.
      std::optional<int64_t> len = ChromosomeLength(c.id, b);
      if (len && *len == *c.length) {
        votes.push_back(
            {b, "##contig " + c.id + " length=" + std::to_string(*c.length),
             c.line});
      }
    }
  }
  for (const MetaLine& m : meta_) {
    if (m.key != "reference" && m.key != "assembly") continue;
    GenomeBuild b = BuildFromName(m.value);
    if (b != GenomeBuild::kUnknown) {
      votes.push_back({b, "##" + m.key + "=" + m.value, m.line});
    }
  }
  for (const ContigDef& c : contigs_) {
    if (c.assembly.empty()) continue;
    GenomeBuild b = ParseGenomeBuild(c.assembly);
    if (b == GenomeBuild::kUnknown) b = BuildFromName(c.assembly);
    if (b != GenomeBuild::kUnknown) {
      votes.push_back(
          {b, "##contig " + c.id + " assembly=" + c.assembly, c.line});
    }
  }
  const Vote* first37 = nullptr;
  const Vote* first38 = nullptr;
  for (const Vote& v : votes) {
    if (v.build == GenomeBuild::kGRCh37 && !first37) first37 = &v;
    if (v.build == GenomeBuild::kGRCh38 && !first38) first38 = &v;
  }
  if (first37 && first38) {
    build_ = GenomeBuild::kUnknown;
    build_evidence_ = "conflicting: " + first37->evidence + " (GRCh37) vs " +
                      first38->evidence + " (GRCh38)";
    Warn(first38->line,
         "the header names both GRCh37 and GRCh38 (" + first37->evidence +
             " vs " + first38->evidence + "); the build is unknown",
         "vcf-build-conflict");
  } else if (first37 || first38) {
    const Vote* v = first37 ? first37 : first38;
    build_ = v->build;
    build_evidence_ = v->evidence;
  }

  // --- VEP CSQ sub-fields.
  csq_fields_.clear();
  if (const FieldDef* csq = info("CSQ")) {
    std::string_view d = csq->description;
    size_t p = d.find("Format:");
    if (p != std::string_view::npos) {
      std::string_view list = Trim(d.substr(p + 7));
      while (!list.empty() && (list.back() == '"' || list.back() == '\'')) {
        list.remove_suffix(1);
      }
      ForEachSplit(list, '|', [&](std::string_view f) {
        csq_fields_.emplace_back(Trim(f));
      });
    }
  }
}

const FieldDef* VcfHeader::info(std::string_view id) const {
  auto it = info_index_.find(id);
  return it == info_index_.end() ? nullptr : &infos_[it->second];
}

const FieldDef* VcfHeader::format(std::string_view id) const {
  auto it = format_index_.find(id);
  return it == format_index_.end() ? nullptr : &formats_[it->second];
}

const FilterDef* VcfHeader::filter(std::string_view id) const {
  for (const FilterDef& f : filters_) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const ContigDef* VcfHeader::contig(std::string_view id) const {
  auto it = contig_index_.find(id);
  return it == contig_index_.end() ? nullptr : &contigs_[it->second];
}

std::optional<std::string_view> VcfHeader::meta_value(
    std::string_view key) const {
  for (const MetaLine& m : meta_) {
    if (m.key == key) return std::string_view(m.value);
  }
  return std::nullopt;
}

std::string_view VcfHeader::reference() const {
  return meta_value("reference").value_or("");
}

std::string_view VcfHeader::assembly() const {
  return meta_value("assembly").value_or("");
}

int VcfHeader::SampleIndex(std::string_view name) const {
  auto it = sample_index_.find(name);
  return it == sample_index_.end() ? -1 : it->second;
}

int VcfHeader::CsqIndex(std::string_view name) const {
  for (size_t i = 0; i < csq_fields_.size(); ++i) {
    if (csq_fields_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace genogate::mappers::vcf

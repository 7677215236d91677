#include "mappers/labjson/labjson_mapper.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "mappers/vcf/refseq.h"

namespace genogate::mappers::labjson {
namespace {

constexpr std::string_view kLoinc = "http://loinc.org";
constexpr std::string_view kDbSnp = "http://www.ncbi.nlm.nih.gov/projects/SNP";
constexpr std::string_view kClinVar = "http://www.ncbi.nlm.nih.gov/clinvar";
constexpr std::string_view kSo = "http://www.sequenceontology.org";

// ---------------------------------------------------------------------------
// A small JSON tree that keeps each number's exact text (RapidJSON's DOM
// would turn "0.4500" into a double) and the order of object members.

struct JNode {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // number text or string value
  // Object members as parallel vectors (a vector of pair<string, JNode>
  // would need JNode complete here, which clang's libstdc++ checks).
  std::vector<std::string> keys;
  std::vector<JNode> values;
  std::vector<JNode> items;

  const JNode* Member(std::string_view key) const {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &values[i];
    }
    return nullptr;
  }
};

std::string_view KindName(JNode::Kind k) {
  switch (k) {
    case JNode::Kind::kNull:
      return "null";
    case JNode::Kind::kBool:
      return "a boolean";
    case JNode::Kind::kNumber:
      return "a number";
    case JNode::Kind::kString:
      return "a string";
    case JNode::Kind::kArray:
      return "an array";
    case JNode::Kind::kObject:
      return "an object";
  }
  return "?";
}

// SAX handler building a JNode tree; refuses nesting deeper than the limit
// and strings longer than the limit (the parse stops with kTermination).
class TreeBuilder {
 public:
  explicit TreeBuilder(const Limits& limits) : limits_(limits) {}

  JNode& root() { return root_; }
  const std::string& stop_reason() const { return stop_reason_; }

  bool Null() { return Put(JNode()); }
  bool Bool(bool b) {
    JNode n;
    n.kind = JNode::Kind::kBool;
    n.boolean = b;
    return Put(std::move(n));
  }
  // Unused with kParseNumbersAsStringsFlag but required by the concept.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType len, bool) {
    JNode n;
    n.kind = JNode::Kind::kNumber;
    n.text.assign(s, len);
    return Put(std::move(n));
  }
  bool String(const char* s, rapidjson::SizeType len, bool) {
    if (len > limits_.max_string_bytes) {
      stop_reason_ = "a string is longer than " +
                     std::to_string(limits_.max_string_bytes) + " bytes";
      return false;
    }
    JNode n;
    n.kind = JNode::Kind::kString;
    n.text.assign(s, len);
    return Put(std::move(n));
  }
  bool StartObject() { return Open(JNode::Kind::kObject); }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    key_.assign(s, len);
    if (len > 256) {
      stop_reason_ = "an object key is longer than 256 bytes";
      return false;
    }
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(JNode::Kind::kArray); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

 private:
  bool Open(JNode::Kind kind) {
    if (stack_.size() >= limits_.max_depth) {
      stop_reason_ = "nesting is deeper than " +
                     std::to_string(limits_.max_depth) + " levels";
      return false;
    }
    JNode n;
    n.kind = kind;
    if (!Put(std::move(n))) return false;
    stack_.push_back(last_);
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }
  // Adds `n` to the open container (or as the root); last_ points at it.
  bool Put(JNode n) {
    if (stack_.empty()) {
      root_ = std::move(n);
      last_ = &root_;
      return true;
    }
    JNode* parent = stack_.back();
    if (parent->kind == JNode::Kind::kArray) {
      parent->items.push_back(std::move(n));
      last_ = &parent->items.back();
    } else {
      parent->keys.push_back(std::move(key_));
      parent->values.push_back(std::move(n));
      last_ = &parent->values.back();
    }
    return true;
  }

  const Limits& limits_;
  JNode root_;
  // Pointers into the tree: a container is only appended to while it is on
  // top of the stack, so pointers to the containers below stay valid.
  std::vector<JNode*> stack_;
  JNode* last_ = nullptr;
  std::string key_;
  std::string stop_reason_;
};

// RFC 6901 escaping of one reference token.
std::string Token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Child(const std::string& ptr, std::string_view key) {
  return ptr + "/" + Token(key);
}
std::string Child(const std::string& ptr, size_t index) {
  return ptr + "/" + std::to_string(index);
}

// An integer in the exact JSON text of a number (no fraction or exponent).
std::optional<int64_t> IntegerText(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return v;
}

// A JSON-number-shaped decimal ("0.45", "1", "4.5e-1").
bool IsDecimalText(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  size_t int_start = i;
  if (!digits()) return false;
  if (s[int_start] == '0' && i - int_start > 1) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool AllOf(std::string_view s, std::string_view allowed) {
  if (s.empty()) return false;
  for (char c : s) {
    if (allowed.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// FHIR date: YYYY, YYYY-MM or YYYY-MM-DD (shape and ranges of month/day).
bool IsFhirDate(std::string_view s) {
  if (s.size() != 4 && s.size() != 7 && s.size() != 10) return false;
  if (!IsDigits(s.substr(0, 4))) return false;
  if (s.size() >= 7) {
    if (s[4] != '-' || !IsDigits(s.substr(5, 2))) return false;
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    if (month < 1 || month > 12) return false;
  }
  if (s.size() == 10) {
    if (s[7] != '-' || !IsDigits(s.substr(8, 2))) return false;
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    if (day < 1 || day > 31) return false;
  }
  return true;
}

// "hh:mm:ss[.fff](Z|+hh:mm|-hh:mm)" after a full date and 'T'.
bool IsTimeWithZone(std::string_view s) {
  if (s.size() < 9) return false;
  if (!IsDigits(s.substr(0, 2)) || s[2] != ':' || !IsDigits(s.substr(3, 2)) ||
      s[5] != ':' || !IsDigits(s.substr(6, 2))) {
    return false;
  }
  size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  std::string_view zone = s.substr(i);
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
         IsDigits(zone.substr(1, 2)) && zone[3] == ':' &&
         IsDigits(zone.substr(4, 2));
}

// FHIR instant: a full date, 'T', a time with seconds and a zone.
bool IsInstant(std::string_view s) {
  return s.size() > 11 && IsFhirDate(s.substr(0, 10)) && s.size() >= 10 &&
         s[10] == 'T' && IsTimeWithZone(s.substr(11));
}

// FHIR dateTime: a date, or an instant.
bool IsDateTime(std::string_view s) { return IsFhirDate(s) || IsInstant(s); }

// ---------------------------------------------------------------------------

class Reader {
 public:
  Reader(const Limits& limits, std::vector<Problem>* problems)
      : limits_(limits), problems_(problems) {}

  void Read(const JNode& root, GenomicReportInput* out);

 private:
  void Add(const std::string& ptr, std::string reason) {
    if (problems_->size() < limits_.max_problems) {
      problems_->push_back({ptr, std::move(reason)});
    }
  }

  // Checks that `n` is an object with only `allowed` keys (each once).
  bool Object(const JNode& n, const std::string& ptr,
              std::initializer_list<std::string_view> allowed) {
    if (n.kind != JNode::Kind::kObject) {
      Add(ptr, "must be an object, not " + std::string(KindName(n.kind)));
      return false;
    }
    for (size_t i = 0; i < n.keys.size(); ++i) {
      const std::string& key = n.keys[i];
      bool known = false;
      for (std::string_view a : allowed) known = known || a == key;
      if (!known) {
        Add(Child(ptr, key), "unknown field");
        continue;
      }
      for (size_t j = 0; j < i; ++j) {
        if (n.keys[j] == key) {
          Add(Child(ptr, key), "duplicate field");
          break;
        }
      }
    }
    return true;
  }

  void Missing(const std::string& ptr, std::string_view key) {
    Add(Child(ptr, key), "is required");
  }

  // A string member: non-empty, within limits. Returns nullopt (after
  // adding a problem when present but wrong or required but missing).
  std::optional<std::string> Str(const JNode& obj, const std::string& ptr,
                                 std::string_view key, bool required) {
    const JNode* v = obj.Member(key);
    if (!v) {
      if (required) Missing(ptr, key);
      return std::nullopt;
    }
    std::string p = Child(ptr, key);
    if (v->kind != JNode::Kind::kString) {
      Add(p, "must be a string, not " + std::string(KindName(v->kind)));
      return std::nullopt;
    }
    if (v->text.empty()) {
      Add(p, "must not be empty");
      return std::nullopt;
    }
    for (unsigned char c : v->text) {
      if (c < 0x20) {
        Add(p, "must not contain control characters");
        return std::nullopt;
      }
    }
    return v->text;
  }

  // A string member that must be one of `values`.
  std::optional<std::string> Enum(
      const JNode& obj, const std::string& ptr, std::string_view key,
      bool required, std::initializer_list<std::string_view> values,
      bool quote_value = true) {
    std::optional<std::string> s = Str(obj, ptr, key, required);
    if (!s) return std::nullopt;
    std::string list;
    for (std::string_view v : values) {
      if (*s == v) return s;
      list += list.empty() ? "" : ", ";
      list += v;
    }
    Add(Child(ptr, key), (quote_value ? "\"" + *s + "\" is not one of "
                                      : std::string("must be one of ")) +
                             list);
    return std::nullopt;
  }

  // An integer member >= `min`.
  std::optional<int64_t> Int(const JNode& obj, const std::string& ptr,
                             std::string_view key, bool required, int64_t min) {
    const JNode* v = obj.Member(key);
    if (!v) {
      if (required) Missing(ptr, key);
      return std::nullopt;
    }
    std::optional<int64_t> n;
    if (v->kind == JNode::Kind::kNumber) n = IntegerText(v->text);
    if (!n || *n < min) {
      Add(Child(ptr, key), "must be an integer >= " + std::to_string(min));
      return std::nullopt;
    }
    return n;
  }

  // {"system", "value"}: both required, value not quoted in problems.
  std::optional<IdentifierValue> Identifier(const JNode& obj,
                                            const std::string& ptr,
                                            std::string_view key,
                                            bool required);
  // {"system", "code", "display"}: code or display required.
  std::optional<Coding> CodingOf(const JNode& n, const std::string& ptr);

  void ReadReport(const JNode& n, const std::string& ptr,
                  GenomicReportInput* out);
  void ReadPatient(const JNode& n, const std::string& ptr,
                   GenomicReportInput* out);
  void ReadVariant(const JNode& n, const std::string& ptr,
                   const GenomicReportInput& report, VariantCall* v);
  void ReadRegion(const JNode& n, const std::string& ptr, RegionStudied* r);

  // The coordinates of a variant or region: chromosome, coordinateSystem,
  // start, end, converted to 0-based interval counting. False on a problem.
  bool Location(const JNode& n, const std::string& ptr, bool end_required,
                std::string* chrom, std::optional<int64_t>* start,
                std::optional<int64_t>* end);

  const Limits& limits_;
  std::vector<Problem>* problems_;
  std::string build_;  // the report's build, once read ("" if not valid)
};

std::optional<IdentifierValue> Reader::Identifier(const JNode& obj,
                                                  const std::string& ptr,
                                                  std::string_view key,
                                                  bool required) {
  const JNode* n = obj.Member(key);
  if (!n) {
    if (required) Missing(ptr, key);
    return std::nullopt;
  }
  std::string p = Child(ptr, key);
  if (!Object(*n, p, {"system", "value"})) return std::nullopt;
  std::optional<std::string> system = Str(*n, p, "system", true);
  std::optional<std::string> value = Str(*n, p, "value", true);
  if (!system || !value) return std::nullopt;
  if (system->find('|') != std::string::npos) {
    Add(Child(p, "system"), "must not contain '|'");
    return std::nullopt;
  }
  return IdentifierValue{*system, *value};
}

std::optional<Coding> Reader::CodingOf(const JNode& n, const std::string& ptr) {
  if (!Object(n, ptr, {"system", "code", "display"})) return std::nullopt;
  Coding c;
  size_t before = problems_->size();
  c.system = Str(n, ptr, "system", false).value_or("");
  c.code = Str(n, ptr, "code", false).value_or("");
  c.display = Str(n, ptr, "display", false).value_or("");
  if (problems_->size() != before) return std::nullopt;
  if (c.code.empty() && c.display.empty()) {
    Add(ptr, "needs a code or a display");
    return std::nullopt;
  }
  if (!c.code.empty() && c.system.empty()) {
    Add(Child(ptr, "system"), "is required with a code");
    return std::nullopt;
  }
  return c;
}

void Reader::Read(const JNode& root, GenomicReportInput* out) {
  const std::string ptr;
  if (!Object(root, ptr,
              {"$schema", "format", "report", "variants", "regionsStudied"})) {
    return;
  }
  const JNode* format = root.Member("format");
  if (!format) {
    Missing(ptr, "format");
  } else if (format->kind != JNode::Kind::kString || format->text != kFormat) {
    // The format is not patient data: quoting it helps.
    Add("/format", "must be \"" + std::string(kFormat) + "\"");
    return;  // another format or version: the rest would be noise
  }
  if (const JNode* s = root.Member("$schema");
      s && s->kind != JNode::Kind::kString) {
    Add("/$schema", "must be a string");
  }
  const JNode* report = root.Member("report");
  if (!report) {
    Missing(ptr, "report");
  } else {
    ReadReport(*report, "/report", out);
    build_ = out->build;
  }
  if (const JNode* vs = root.Member("variants")) {
    if (vs->kind != JNode::Kind::kArray) {
      Add("/variants",
          "must be an array, not " + std::string(KindName(vs->kind)));
    } else if (vs->items.size() > limits_.max_variants) {
      Add("/variants", "holds more than " +
                           std::to_string(limits_.max_variants) + " variants");
    } else {
      out->variants.resize(vs->items.size());
      for (size_t i = 0; i < vs->items.size(); ++i) {
        ReadVariant(vs->items[i], Child("/variants", i), *out,
                    &out->variants[i]);
      }
    }
  }
  if (const JNode* rs = root.Member("regionsStudied")) {
    if (rs->kind != JNode::Kind::kArray) {
      Add("/regionsStudied",
          "must be an array, not " + std::string(KindName(rs->kind)));
    } else {
      out->regions_studied.resize(rs->items.size());
      for (size_t i = 0; i < rs->items.size(); ++i) {
        ReadRegion(rs->items[i], Child("/regionsStudied", i),
                   &out->regions_studied[i]);
      }
    }
  }
}

void Reader::ReadPatient(const JNode& n, const std::string& ptr,
                         GenomicReportInput* out) {
  if (!Object(n, ptr, {"identifier", "name", "birthDate", "gender"})) return;
  if (auto id = Identifier(n, ptr, "identifier", true)) out->patient = *id;
  out->patient_name = Str(n, ptr, "name", false).value_or("");
  if (auto d = Str(n, ptr, "birthDate", false)) {
    if (IsFhirDate(*d)) {
      out->patient_birth_date = *d;
    } else {
      Add(Child(ptr, "birthDate"),
          "must be a date YYYY, YYYY-MM or YYYY-MM-DD");
    }
  }
  // Never quote the value: gender is patient data.
  out->patient_gender = Enum(n, ptr, "gender", false,
                             {"male", "female", "other", "unknown"}, false)
                            .value_or("");
}

void Reader::ReadReport(const JNode& n, const std::string& ptr,
                        GenomicReportInput* out) {
  if (!Object(n, ptr,
              {"patient", "accession", "lab", "specimen", "issued", "status",
               "build", "sourceClass", "method", "conclusion"})) {
    return;
  }
  if (const JNode* p = n.Member("patient")) {
    ReadPatient(*p, Child(ptr, "patient"), out);
  } else {
    Missing(ptr, "patient");
  }
  if (auto id = Identifier(n, ptr, "accession", true)) out->accession = *id;
  if (const JNode* lab = n.Member("lab")) {
    std::string p = Child(ptr, "lab");
    if (Object(*lab, p, {"name", "identifier"})) {
      out->lab_name = Str(*lab, p, "name", true).value_or("");
      if (auto id = Identifier(*lab, p, "identifier", false)) {
        out->lab_identifier = *id;
      }
    }
  } else {
    Missing(ptr, "lab");
  }
  if (const JNode* sp = n.Member("specimen")) {
    std::string p = Child(ptr, "specimen");
    if (Object(*sp, p, {"identifier", "type", "collected"})) {
      if (auto id = Identifier(*sp, p, "identifier", true)) out->specimen = *id;
      if (const JNode* t = sp->Member("type")) {
        if (auto c = CodingOf(*t, Child(p, "type"))) out->specimen_type = *c;
      }
      if (auto c = Str(*sp, p, "collected", false)) {
        if (IsDateTime(*c)) {
          out->specimen_collected = *c;
        } else {
          Add(Child(p, "collected"),
              "must be a date or a dateTime with seconds and a time zone");
        }
      }
    }
  }
  if (auto s = Str(n, ptr, "issued", false)) {
    if (IsInstant(*s)) {
      out->issued = *s;
    } else {
      Add(Child(ptr, "issued"),
          "must be an instant YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)");
    }
  }
  out->report_status = Enum(n, ptr, "status", false,
                            {"final", "amended", "corrected", "preliminary"})
                           .value_or("final");
  out->build = Enum(n, ptr, "build", true, {"GRCh37", "GRCh38"}).value_or("");
  out->source_class =
      Enum(n, ptr, "sourceClass", false, {"germline", "somatic", "mixed"})
          .value_or("");
  if (const JNode* m = n.Member("method")) {
    if (auto c = CodingOf(*m, Child(ptr, "method"))) out->method = *c;
  }
  out->conclusion = Str(n, ptr, "conclusion", false).value_or("");
}

bool Reader::Location(const JNode& n, const std::string& ptr, bool end_required,
                      std::string* chrom, std::optional<int64_t>* start,
                      std::optional<int64_t>* end) {
  size_t before = problems_->size();
  if (auto c = Str(n, ptr, "chromosome", true)) {
    std::string norm = vcf::NormalizeChromosome(*c);
    if (!vcf::RefSeqAccession(norm, vcf::GenomeBuild::kGRCh38)) {
      Add(Child(ptr, "chromosome"),
          "\"" + *c + "\" is not 1..22, X, Y or MT (\"chr\" prefix allowed)");
    } else {
      *chrom = norm;
    }
  }
  std::optional<std::string> system =
      Enum(n, ptr, "coordinateSystem", true, {"0-based-interval", "1-based"});
  const bool one_based = system && *system == "1-based";
  *start = Int(n, ptr, "start", true, one_based ? 1 : 0);
  *end = Int(n, ptr, "end", end_required, 0);
  if (*start && *end) {
    if (*end < *start) {
      Add(Child(ptr, "end"), "must not be less than start");
      *end = std::nullopt;
    }
  }
  if (problems_->size() != before || !system) return false;
  if (one_based) {
    // 1-based inclusive [s, e] is 0-based interval [s-1, e).
    *start = **start - 1;
  }
  // Within the chromosome, when the build is known (0-based: <= length).
  const std::optional<int64_t> length =
      vcf::ChromosomeLength(*chrom, vcf::ParseGenomeBuild(build_));
  if (length) {
    const std::string_view key = *end ? "end" : "start";
    if ((*end ? **end : **start) > *length) {
      Add(Child(ptr, key), "is beyond the end of chromosome " + *chrom +
                               " in " + build_ + " (" +
                               std::to_string(*length) + ")");
      return false;
    }
  }
  return true;
}

void Reader::ReadRegion(const JNode& n, const std::string& ptr,
                        RegionStudied* r) {
  if (!Object(n, ptr,
              {"chromosome", "coordinateSystem", "start", "end", "name"})) {
    return;
  }
  std::optional<int64_t> start, end;
  if (Location(n, ptr, true, &r->chromosome, &start, &end) && end) {
    if (*end == *start) {
      Add(Child(ptr, "end"), "the region is empty");
    }
    r->start = *start;
    r->end = *end;
  }
  r->name = Str(n, ptr, "name", false).value_or("");
}

void Reader::ReadVariant(const JNode& n, const std::string& ptr,
                         const GenomicReportInput& report, VariantCall* v) {
  if (!Object(n, ptr,
              {"chromosome", "coordinateSystem", "start", "end", "ref", "alt",
               "gene", "transcript", "hgvs", "zygosity", "alleleFrequency",
               "readDepth", "dbsnpId", "clinvarId", "classification",
               "consequences"})) {
    return;
  }
  v->source_location = ptr;
  v->build = report.build;
  std::optional<int64_t> start, end;
  const bool located = Location(n, ptr, false, &v->chromosome, &start, &end);
  // Sequence alleles: ACGTN (the lab's text is kept; only upper case).
  for (auto [key, target] :
       {std::pair{"ref", &v->ref_allele}, std::pair{"alt", &v->alt_allele}}) {
    if (auto s = Str(n, ptr, key, true)) {
      if (AllOf(*s, "ACGTN")) {
        *target = *s;
      } else {
        Add(Child(ptr, key), "must be a sequence of A, C, G, T, N");
      }
    }
  }
  if (located) {
    v->start = start;
    const int64_t ref_len = static_cast<int64_t>(v->ref_allele.size());
    if (end) {
      if (ref_len > 0 && *end - *start != ref_len) {
        Add(Child(ptr, "end"), "does not match the length of ref (" +
                                   std::to_string(ref_len) + " bases)");
      }
      v->end = end;
    } else if (ref_len > 0) {
      v->end = *start + ref_len;
      const std::optional<int64_t> length =
          vcf::ChromosomeLength(v->chromosome, vcf::ParseGenomeBuild(build_));
      if (length && *v->end > *length) {
        Add(Child(ptr, "ref"), "extends beyond the end of chromosome " +
                                   v->chromosome + " in " + build_);
      }
    }
  }
  if (!v->chromosome.empty() && !v->build.empty()) {
    if (auto acc = vcf::RefSeqAccession(v->chromosome,
                                        vcf::ParseGenomeBuild(v->build))) {
      v->genomic_ref_seq = std::string(*acc);
    }
  }
  if (const JNode* g = n.Member("gene")) {
    std::string p = Child(ptr, "gene");
    if (Object(*g, p, {"symbol", "hgncId"})) {
      v->gene_symbol = Str(*g, p, "symbol", true).value_or("");
      if (auto h = Str(*g, p, "hgncId", false)) {
        if (h->starts_with("HGNC:") && IsDigits(h->substr(5))) {
          v->hgnc_id = *h;
        } else {
          Add(Child(p, "hgncId"), "must be \"HGNC:\" followed by digits");
        }
      }
    }
  }
  v->transcript_ref_seq = Str(n, ptr, "transcript", false).value_or("");
  if (const JNode* h = n.Member("hgvs")) {
    std::string p = Child(ptr, "hgvs");
    if (Object(*h, p, {"c", "p", "g"})) {
      for (auto [key, target, marker] : {std::tuple{"c", &v->hgvs_c, ":c."},
                                         std::tuple{"p", &v->hgvs_p, ":p."},
                                         std::tuple{"g", &v->hgvs_g, ":g."}}) {
        if (auto s = Str(*h, p, key, false)) {
          if (s->find(marker) == std::string::npos) {
            Add(Child(p, key), std::string("must be HGVS with a reference "
                                           "sequence, e.g. NM_000000.0") +
                                   marker + "...");
          } else {
            *target = *s;
          }
        }
      }
    }
  }
  if (auto z = Enum(n, ptr, "zygosity", false,
                    {"heterozygous", "homozygous", "hemizygous"})) {
    if (*z == "heterozygous") {
      v->allelic_state = {std::string(kLoinc), "LA6706-1", "Heterozygous"};
    } else if (*z == "homozygous") {
      v->allelic_state = {std::string(kLoinc), "LA6705-3", "Homozygous"};
    } else {
      v->allelic_state = {std::string(kLoinc), "LA6707-9", "Hemizygous"};
    }
  }
  if (const JNode* af = n.Member("alleleFrequency")) {
    std::string p = Child(ptr, "alleleFrequency");
    bool ok = (af->kind == JNode::Kind::kNumber ||
               af->kind == JNode::Kind::kString) &&
              IsDecimalText(af->text);
    if (ok) {
      // In [0, 1]: compare as text-derived double (the text is kept).
      double d = std::strtod(af->text.c_str(), nullptr);
      ok = d >= 0 && d <= 1;
    }
    if (ok) {
      v->allele_frequency = af->text;
    } else {
      Add(p, "must be a decimal from 0 to 1 (number or text)");
    }
  }
  v->read_depth = Int(n, ptr, "readDepth", false, 0);
  if (auto rs = Str(n, ptr, "dbsnpId", false)) {
    if (rs->starts_with("rs") && IsDigits(rs->substr(2))) {
      v->variation_codes.push_back({std::string(kDbSnp), *rs, ""});
    } else {
      Add(Child(ptr, "dbsnpId"), "must be \"rs\" followed by digits");
    }
  }
  if (auto cv = Str(n, ptr, "clinvarId", false)) {
    if (IsDigits(*cv)) {
      v->variation_codes.push_back({std::string(kClinVar), *cv, ""});
    } else {
      Add(Child(ptr, "clinvarId"),
          "must be a ClinVar variation id (digits only)");
    }
  }
  if (const JNode* c = n.Member("classification")) {
    std::string p = Child(ptr, "classification");
    if (Object(*c, p, {"significance", "condition", "evidence"})) {
      Classification cl;
      cl.source = report.lab_name;
      if (auto s =
              Enum(*c, p, "significance", true,
                   {"pathogenic", "likely-pathogenic", "uncertain-significance",
                    "likely-benign", "benign"})) {
        static constexpr std::pair<std::string_view,
                                   std::pair<const char*, const char*>>
            kSig[] = {
                {"pathogenic", {"LA6668-3", "Pathogenic"}},
                {"likely-pathogenic", {"LA26332-9", "Likely pathogenic"}},
                {"uncertain-significance",
                 {"LA26333-7", "Uncertain significance"}},
                {"likely-benign", {"LA26334-5", "Likely benign"}},
                {"benign", {"LA6675-8", "Benign"}},
            };
        for (const auto& [name, code] : kSig) {
          if (*s == name) {
            cl.clinical_significance = {std::string(kLoinc), code.first,
                                        code.second};
          }
        }
      }
      if (auto cond = Str(*c, p, "condition", false)) {
        cl.conditions.push_back({"", "", *cond});
      }
      cl.evidence_text = Str(*c, p, "evidence", false).value_or("");
      if (!cl.clinical_significance.empty()) {
        v->classifications.push_back(std::move(cl));
      }
    }
  }
  if (const JNode* cs = n.Member("consequences")) {
    std::string p = Child(ptr, "consequences");
    if (cs->kind != JNode::Kind::kArray) {
      Add(p, "must be an array, not " + std::string(KindName(cs->kind)));
    } else if (!cs->items.empty()) {
      Consequence con;
      con.gene_symbol = v->gene_symbol;
      con.hgnc_id = v->hgnc_id;
      con.transcript = v->transcript_ref_seq;
      con.hgvs_c = v->hgvs_c;
      con.hgvs_p = v->hgvs_p;
      con.feature_type = "Transcript";
      for (size_t i = 0; i < cs->items.size(); ++i) {
        std::string ip = Child(p, i);
        const JNode& t = cs->items[i];
        if (!Object(t, ip, {"code", "display"})) continue;
        std::optional<std::string> code = Str(t, ip, "code", true);
        std::string display = Str(t, ip, "display", false).value_or("");
        if (!code) continue;
        if (!code->starts_with("SO:") || code->size() != 10 ||
            !IsDigits(code->substr(3))) {
          Add(Child(ip, "code"), "must be a Sequence Ontology id SO:nnnnnnn");
          continue;
        }
        con.terms.push_back({std::string(kSo), *code, display});
      }
      if (!con.terms.empty()) v->consequences.push_back(std::move(con));
    }
  }
}

}  // namespace

std::string Problem::ToString() const {
  return (pointer.empty() ? std::string("(document)") : pointer) + ": " +
         reason;
}

Result<GenomicReportInput> ReadLabJson(std::string_view text,
                                       std::vector<Problem>* problems,
                                       const Limits& limits) {
  std::vector<Problem> local;
  std::vector<Problem>& found = problems ? *problems : local;
  const size_t first = found.size();
  auto fail = [&](ErrorCode code) -> Error {
    std::string message = found[first].ToString();
    if (found.size() - first > 1) {
      message += " (and " + std::to_string(found.size() - first - 1) +
                 " more problems)";
    }
    return Error(code, std::move(message));
  };
  if (text.size() > limits.max_bytes) {
    found.push_back({"", "the document is larger than " +
                             std::to_string(limits.max_bytes) + " bytes"});
    return fail(ErrorCode::kLimitExceeded);
  }
  // A UTF-8 byte order mark (some Windows tools write one) is skipped.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  TreeBuilder builder(limits);
  rapidjson::Reader reader;
  rapidjson::MemoryStream input(text.data(), text.size());
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseValidateEncodingFlag;
  rapidjson::ParseResult parsed = reader.Parse<kFlags>(input, builder);
  if (parsed.IsError()) {
    if (!builder.stop_reason().empty()) {
      found.push_back({"", builder.stop_reason() + " (at byte " +
                               std::to_string(parsed.Offset()) + ")"});
      return fail(ErrorCode::kLimitExceeded);
    }
    found.push_back({"", std::string("not JSON: ") +
                             rapidjson::GetParseError_En(parsed.Code()) +
                             " (at byte " + std::to_string(parsed.Offset()) +
                             ")"});
    return fail(ErrorCode::kInvalidInput);
  }
  GenomicReportInput out;
  std::vector<Problem> mine;
  Reader(limits, &mine).Read(builder.root(), &out);
  if (!mine.empty()) {
    found.insert(found.end(), mine.begin(), mine.end());
    return fail(ErrorCode::kInvalidInput);
  }
  return out;
}

}  // namespace genogate::mappers::labjson

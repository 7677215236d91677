#include "mappers/common/report_builder.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fhir/codec.h"
#include "mappers/common/internal/variant_keys.h"

namespace genogate::mappers {
namespace {

using fhir::JsonKind;
using fhir::Node;
using fhir::TypeInfo;

// ---------------------------------------------------------------------------
// Codes (IG 3.0.0 slices and LOINC answer lists).

constexpr std::string_view kLoinc = "http://loinc.org";
constexpr std::string_view kRefSeq = "http://www.ncbi.nlm.nih.gov/refseq";
constexpr std::string_view kHgvs = "http://varnomen.hgvs.org";
constexpr std::string_view kHgnc = "http://www.genenames.org";
constexpr std::string_view kUcum = "http://unitsofmeasure.org";
constexpr std::string_view kTbd =
    "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs";
constexpr std::string_view kObsCategory =
    "http://terminology.hl7.org/CodeSystem/observation-category";
constexpr std::string_view kV2_0074 =
    "http://terminology.hl7.org/CodeSystem/v2-0074";
constexpr std::string_view kPhaseSystem =
    "http://terminology.hl7.org/CodeSystem/sequence-phase-relationship-cs";
constexpr std::string_view kExtBase =
    "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/";

// LOINC LL2938-0 "Chromosome N" answers.
std::string_view ChromosomeAnswer(std::string_view chrom) {
  static const std::map<std::string_view, std::string_view> kCodes = {
      {"1", "LA21254-0"},  {"2", "LA21255-7"},  {"3", "LA21256-5"},
      {"4", "LA21257-3"},  {"5", "LA21258-1"},  {"6", "LA21259-9"},
      {"7", "LA21260-7"},  {"8", "LA21261-5"},  {"9", "LA21262-3"},
      {"10", "LA21263-1"}, {"11", "LA21264-9"}, {"12", "LA21265-6"},
      {"13", "LA21266-4"}, {"14", "LA21267-2"}, {"15", "LA21268-0"},
      {"16", "LA21269-8"}, {"17", "LA21270-6"}, {"18", "LA21271-4"},
      {"19", "LA21272-2"}, {"20", "LA21273-0"}, {"21", "LA21274-8"},
      {"22", "LA21275-5"}, {"X", "LA21276-3"},  {"Y", "LA21277-1"},
  };
  auto it = kCodes.find(chrom);
  return it == kCodes.end() ? std::string_view() : it->second;
}

// LOINC LL1040-6 reference assembly answers.
Coding BuildAnswer(std::string_view build) {
  if (build == "GRCh37") return {std::string(kLoinc), "LA14029-5", "GRCh37"};
  if (build == "GRCh38") return {std::string(kLoinc), "LA26806-2", "GRCh38"};
  return {"", "", std::string(build)};
}

// LOINC LL5323-2 coordinate system answers.
Coding CoordinateAnswer(std::string_view system) {
  if (system == "0-based interval counting") {
    return {std::string(kLoinc), "LA30100-4", "0-based interval counting"};
  }
  if (system == "1-based character counting") {
    return {std::string(kLoinc), "LA30102-0", "1-based character counting"};
  }
  return {"", "", std::string(system)};
}

// LOINC LL378-1 genomic source class from "germline" / "somatic" / "mixed".
Coding SourceClassAnswer(std::string_view text) {
  if (text == "germline") return {std::string(kLoinc), "LA6683-2", "Germline"};
  if (text == "somatic") return {std::string(kLoinc), "LA6684-0", "Somatic"};
  if (text == "mixed") return {std::string(kLoinc), "LA18194-3", "Mixed"};
  return {"", "", std::string(text)};
}

// ---------------------------------------------------------------------------
// SHA-1 (FIPS 180-4), for name-based UUIDs only.

uint32_t Rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

#if defined(__x86_64__)
// SHA-1 with the x86 SHA extensions (the Intel SHA-NI instruction pattern):
// ~5x faster than the portable rounds, which matters at two hashes per
// resource. Used only when CPUID says the CPU has them.
__attribute__((target("sha,sse4.1"))) void Sha1BlockShaNi(uint32_t state[5],
                                                          const uint8_t* data) {
  const __m128i kMask =
      _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
  __m128i e0 = _mm_set_epi32(static_cast<int>(state[4]), 0, 0, 0);
  abcd = _mm_shuffle_epi32(abcd, 0x1B);
  const __m128i abcd_save = abcd;
  const __m128i e0_save = e0;
  __m128i msg[4];
  __m128i e1;
// (A macro: a lambda would not inherit the function's target.)
#define GENOGATE_SHA1_LOAD(i)                                             \
  msg[i] = _mm_shuffle_epi8(                                              \
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * (i))), \
      kMask)
  // Rounds 0-3.
  GENOGATE_SHA1_LOAD(0);
  e0 = _mm_add_epi32(e0, msg[0]);
  e1 = abcd;
  abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
// Rounds 4k..4k+3 for k >= 1 (the round function changes every 20 rounds).
#define GENOGATE_SHA1_STEP(k, f)                                             \
  do {                                                                       \
    const __m128i m = msg[(k) % 4];                                          \
    if ((k) % 2) {                                                           \
      e1 = _mm_sha1nexte_epu32(e1, m);                                       \
      e0 = abcd;                                                             \
    } else {                                                                 \
      e0 = _mm_sha1nexte_epu32(e0, m);                                       \
      e1 = abcd;                                                             \
    }                                                                        \
    if ((k) >= 3)                                                            \
      msg[((k) + 1) % 4] = _mm_sha1msg2_epu32(msg[((k) + 1) % 4], m);        \
    abcd = _mm_sha1rnds4_epu32(abcd, (k) % 2 ? e1 : e0, f);                  \
    msg[((k) + 3) % 4] = _mm_sha1msg1_epu32(msg[((k) + 3) % 4], m);          \
    if ((k) >= 2) msg[((k) + 2) % 4] = _mm_xor_si128(msg[((k) + 2) % 4], m); \
  } while (0)
  GENOGATE_SHA1_LOAD(1);
  GENOGATE_SHA1_STEP(1, 0);
  GENOGATE_SHA1_LOAD(2);
  GENOGATE_SHA1_STEP(2, 0);
  GENOGATE_SHA1_LOAD(3);
  GENOGATE_SHA1_STEP(3, 0);
  GENOGATE_SHA1_STEP(4, 0);
  GENOGATE_SHA1_STEP(5, 1);
  GENOGATE_SHA1_STEP(6, 1);
  GENOGATE_SHA1_STEP(7, 1);
  GENOGATE_SHA1_STEP(8, 1);
  GENOGATE_SHA1_STEP(9, 1);
  GENOGATE_SHA1_STEP(10, 2);
  GENOGATE_SHA1_STEP(11, 2);
  GENOGATE_SHA1_STEP(12, 2);
  GENOGATE_SHA1_STEP(13, 2);
  GENOGATE_SHA1_STEP(14, 2);
  GENOGATE_SHA1_STEP(15, 3);
  GENOGATE_SHA1_STEP(16, 3);
  GENOGATE_SHA1_STEP(17, 3);
  GENOGATE_SHA1_STEP(18, 3);
  GENOGATE_SHA1_STEP(19, 3);
#undef GENOGATE_SHA1_STEP
#undef GENOGATE_SHA1_LOAD
  e0 = _mm_sha1nexte_epu32(e0, e0_save);
  abcd = _mm_add_epi32(abcd, abcd_save);
  abcd = _mm_shuffle_epi32(abcd, 0x1B);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), abcd);
  state[4] = static_cast<uint32_t>(_mm_extract_epi32(e0, 3));
}

bool HasShaNi() {
  static const bool has = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool sse41 = (c >> 19) & 1, ssse3 = (c >> 9) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return sse41 && ssse3 && ((b >> 29) & 1);
  }();
  return has;
}
#endif

// Incremental, allocation-free (two SHA-1s per entry on the hot path).
class Sha1 {
 public:
  void Update(std::string_view data) {
    total_ += data.size();
    while (!data.empty()) {
      const size_t n = std::min(data.size(), 64 - used_);
      std::memcpy(block_ + used_, data.data(), n);
      used_ += n;
      data.remove_prefix(n);
      if (used_ == 64) {
        Block();
        used_ = 0;
      }
    }
  }
  std::array<uint8_t, 20> Final() {
    const uint64_t bits = total_ * 8;
    block_[used_++] = 0x80;
    if (used_ > 56) {
      while (used_ < 64) block_[used_++] = 0;
      Block();
      used_ = 0;
    }
    while (used_ < 56) block_[used_++] = 0;
    for (int i = 7; i >= 0; --i) {
      block_[used_++] = static_cast<uint8_t>((bits >> (8 * i)) & 0xff);
    }
    Block();
    std::array<uint8_t, 20> out;
    for (int i = 0; i < 5; ++i) {
      out[4 * i] = static_cast<uint8_t>(h_[i] >> 24);
      out[4 * i + 1] = static_cast<uint8_t>(h_[i] >> 16);
      out[4 * i + 2] = static_cast<uint8_t>(h_[i] >> 8);
      out[4 * i + 3] = static_cast<uint8_t>(h_[i]);
    }
    return out;
  }

 private:
  void Block() {
#if defined(__x86_64__)
    if (HasShaNi()) {
      Sha1BlockShaNi(h_, block_);
      return;
    }
#endif
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const uint8_t* p = block_ + 4 * i;
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
             (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    }
    for (int i = 16; i < 80; ++i) {
      w[i] = Rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999u;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1u;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDCu;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6u;
      }
      uint32_t t = Rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = Rol(b, 30);
      b = a;
      a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
  }

  uint32_t h_[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                    0xC3D2E1F0u};
  uint8_t block_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

bool IsInteger(std::string_view s) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// Percent-encodes a search parameter value (keeps unreserved and ':' '/').
std::string EncodeParam(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                c == '~' || c == ':' || c == '/';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// "identifier=<system>|<value>", or "identifier=<value>" without a system.
std::string IdentifierQuery(const IdentifierValue& id) {
  if (id.system.empty()) return "identifier=" + EncodeParam(id.value);
  return "identifier=" + EncodeParam(id.system) + "|" + EncodeParam(id.value);
}

// ---------------------------------------------------------------------------
// Typed tree construction against the schema.
//
// Each Add* appends a child to `parent` and returns a reference to it. The
// reference is valid until the next child is appended to the same parent,
// so a child is filled completely before its next sibling is added.

class Tree {
 public:
  explicit Tree(const fhir::Schema& schema) : schema_(schema) {}

  Node NewResource(std::string_view type) {
    const TypeInfo* t = schema_.FindResourceType(type);
    if (!t) Fail("no resource type " + std::string(type));
    Node n{std::string(type), t};
    n.set_resource(true);
    n.set_resource_type(std::string(type));
    return n;
  }

  Node& Add(Node& parent, std::string_view json_name) {
    const TypeInfo* chosen = nullptr;
    const fhir::ElementInfo* ei =
        parent.type() ? parent.type()->FindByJsonName(json_name, &chosen)
                      : nullptr;
    if (!ei) {
      Fail("no element " + std::string(json_name) + " in " +
           (parent.type() ? parent.type()->name() : parent.name()));
      return parent.AddChild(Node(std::string(json_name), nullptr));
    }
    const TypeInfo* t =
        chosen ? chosen : (ei->types.empty() ? nullptr : ei->types[0]);
    Node n(ei->name, t);
    n.set_def(ei);
    return parent.AddChild(std::move(n));
  }

  Node& Prim(Node& parent, std::string_view json_name, std::string value) {
    Node& n = Add(parent, json_name);
    JsonKind kind = n.type() ? n.type()->json_kind() : JsonKind::kString;
    n.set_value(std::move(value), kind);
    return n;
  }

  // Adds `resource` as the element `json_name` (Bundle.entry.resource).
  void AddResource(Node& parent, std::string_view json_name, Node resource) {
    const TypeInfo* chosen = nullptr;
    const fhir::ElementInfo* ei =
        parent.type() ? parent.type()->FindByJsonName(json_name, &chosen)
                      : nullptr;
    if (!ei) {
      Fail("no element " + std::string(json_name));
      return;
    }
    resource.set_name(ei->name);
    resource.set_def(ei);
    parent.AddChild(std::move(resource));
  }

  void Coding_(Node& parent, std::string_view json_name, const Coding& c) {
    Node& n = Add(parent, json_name);
    if (!c.system.empty()) Prim(n, "system", c.system);
    if (!c.code.empty()) Prim(n, "code", c.code);
    if (!c.display.empty()) Prim(n, "display", c.display);
  }

  // A CodeableConcept with one coding, or text only when there is no code.
  void Concept(Node& parent, std::string_view json_name, const Coding& c) {
    Node& n = Add(parent, json_name);
    if (!c.code.empty()) {
      Coding_(n, "coding", c);
    } else if (!c.display.empty()) {
      Prim(n, "text", c.display);
    }
  }

  void ConceptMany(Node& parent, std::string_view json_name,
                   const std::vector<Coding>& codings) {
    Node& n = Add(parent, json_name);
    std::string text;
    for (const Coding& c : codings) {
      if (!c.code.empty()) {
        Coding_(n, "coding", c);
      } else if (!c.display.empty()) {
        text += (text.empty() ? "" : ", ") + c.display;
      }
    }
    if (!text.empty()) Prim(n, "text", text);
  }

  void Reference(Node& parent, std::string_view json_name,
                 std::string reference, std::string display = "") {
    Node& n = Add(parent, json_name);
    Prim(n, "reference", std::move(reference));
    if (!display.empty()) Prim(n, "display", std::move(display));
  }

  void Identifier(Node& parent, const IdentifierValue& id) {
    Node& n = Add(parent, "identifier");
    if (!id.system.empty()) Prim(n, "system", id.system);
    Prim(n, "value", id.value);
  }

  void Quantity(Node& parent, std::string_view json_name, std::string value,
                std::string unit, std::string code) {
    Node& n = Add(parent, json_name);
    Prim(n, "value", std::move(value));
    if (!unit.empty()) Prim(n, "unit", std::move(unit));
    Prim(n, "system", std::string(kUcum));
    if (!code.empty()) Prim(n, "code", std::move(code));
  }

  void Profile(Node& resource, std::string_view profile) {
    Node& meta = Add(resource, "meta");
    Prim(meta, "profile", std::string(kProfileBase) + std::string(profile));
  }

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  const fhir::Schema& schema_;
  std::string error_;
};

// A growable text buffer whose appends inline (std::string's do not: they
// are out-of-line library calls, a fifth of the JSON writing time).
class TextBuffer {
 public:
  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  operator std::string_view() const { return {data_.get(), size_}; }
  void push_back(char c) {
    if (size_ == cap_) Reserve(1);
    data_[size_++] = c;
  }
  void append(std::string_view t) {
    if (t.size() > cap_ - size_) Reserve(t.size());
    std::memcpy(data_.get() + size_, t.data(), t.size());
    size_ += t.size();
  }
  void append(const char* p, size_t n) { append(std::string_view(p, n)); }
  void pop_back() { --size_; }
  void assign(std::string_view t) {
    clear();
    append(t);
  }
  std::string str() const { return std::string(data_.get(), size_); }

 private:
  void Reserve(size_t more) {
    size_t cap = std::max<size_t>(4096, cap_ * 2);
    while (cap - size_ < more) cap *= 2;
    std::unique_ptr<char[]> data(new char[cap]);
    if (size_) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    cap_ = cap;
  }
  std::unique_ptr<char[]> data_;
  size_t size_ = 0, cap_ = 0;
};

// Appends `v` as a JSON string (quoted, escaped as RapidJSON's Writer).
void JsonStr(TextBuffer& out, std::string_view v) {
  // RapidJSON's escapes: \b \t \n \f \r, other controls as \u00XX.
  static const char kControl[32] = {'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
                                    'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
                                    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
                                    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u'};
  static const char kHex[] = "0123456789ABCDEF";
  out.push_back('"');
  // Fast path: eight bytes at a time while none is a control character,
  // '"' or '\\'.
  size_t i = 0;
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, v.data() + i, 8);
    const uint64_t quote = x ^ (kOnes * '"');
    const uint64_t slash = x ^ (kOnes * '\\');
    // Any byte < 0x20, or equal to '"' or '\\' (zero after the xor).
    const uint64_t low = (x - kOnes * 0x20) & ~x & kHigh;
    const uint64_t eq =
        ((quote - kOnes) & ~quote & kHigh) | ((slash - kOnes) & ~slash & kHigh);
    if (low | eq) break;
  }
  if (i == v.size()) {
    out.append(v);
    out.push_back('"');
    return;
  }
  size_t run = 0;
  for (; i < v.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    const char esc = c < 0x20                ? kControl[c]
                     : c == '"' || c == '\\' ? static_cast<char>(c)
                                             : 0;
    if (!esc) continue;
    out.append(v.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    out.push_back(esc);
    if (esc == 'u') {
      out.append("00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.append(v.data() + run, v.size() - run);
  out.push_back('"');
}

// {"system":..,"code":..,"display":..} (empty members left out).
void JsonCoding(TextBuffer& out, std::string_view system, std::string_view code,
                std::string_view display) {
  out.push_back('{');
  bool first = true;
  auto member = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!first) out.push_back(',');
    first = false;
    out.append(key);
    JsonStr(out, value);
  };
  member("\"system\":", system);
  member("\"code\":", code);
  member("\"display\":", display);
  out.push_back('}');
}

// As Tree::Concept: one coding, or text only when there is no code.
void JsonConcept(TextBuffer& out, std::string_view system,
                 std::string_view code, std::string_view display) {
  if (!code.empty()) {
    out.append("{\"coding\":[");
    JsonCoding(out, system, code, display);
    out.append("]}");
  } else if (!display.empty()) {
    out.append("{\"text\":");
    JsonStr(out, display);
    out.append("}");
  } else {
    out.append("{}");
  }
}

// The JSON of a CodeableConcept of constants; GG_CONCEPT builds it once.
std::string ConceptJson(std::string_view system, std::string_view code,
                        std::string_view display) {
  TextBuffer out;
  JsonConcept(out, system, code, display);
  return out.str();
}
#define GG_CONCEPT(system, code, display)                               \
  ([]() -> const std::string& {                                         \
    static const std::string json = ConceptJson(system, code, display); \
    return json;                                                        \
  }())
#define GG_LOINC(code, display) GG_CONCEPT(kLoinc, code, display)
#define GG_TBD(code, display) GG_CONCEPT(kTbd, code, display)

// Puts every typed node's children in definition order (stable, so runs of
// a repeating element keep their order), as FHIR JSON and XML expect.
void SortChildren(Node& n) {
  std::vector<Node>& kids = n.mutable_children();
  std::stable_sort(kids.begin(), kids.end(), [](const Node& a, const Node& b) {
    uint32_t oa = a.def() ? a.def()->order : UINT32_MAX;
    uint32_t ob = b.def() ? b.def()->order : UINT32_MAX;
    return oa < ob;
  });
  for (Node& k : kids) SortChildren(k);
}

}  // namespace

// ---------------------------------------------------------------------------
// The builder.

class ReportStreamBuilder::Impl {
 public:
  Impl(const GenomicReportInput& in, const BuildOptions& options,
       const fhir::Schema& schema, EntrySink sink, JsonEntrySink* json)
      : in_(in),
        options_(options),
        tree_(schema),
        sink_(std::move(sink)),
        json_(json),
        keys_(options.spill_after_variants),
        results_(options.spill_after_variants) {
    scratch_ = tree_.NewResource("Bundle");
  }

  Status Begin();
  Status AddVariant(const VariantCall& call);
  Status AddPhaseRelation(const PhaseRelation& relation);
  Status Finish();

 private:
  // An entry being built: the resource and its deterministic identity.
  struct Entry {
    IdentifierValue identifier;
    std::string full_url;
    Node resource;
  };

  std::string FullUrl(const IdentifierValue& id) const {
    std::string key = id.system + "|" + id.value;
    if (options_.full_url_for_key) return options_.full_url_for_key(key);
    return NameBasedUrnUuid(key);
  }

  IdentifierValue Own(std::string value) const {
    return {system_, std::move(value)};
  }

  Entry NewEntry(std::string_view type, IdentifierValue id,
                 std::string_view profile) {
    Entry e;
    e.full_url = FullUrl(id);
    e.resource = tree_.NewResource(type);
    if (!profile.empty()) tree_.Profile(e.resource, profile);
    tree_.Identifier(e.resource, id);
    e.identifier = std::move(id);
    return e;
  }

  void Categories(Node& obs) {
    {
      Node& c = tree_.Add(obs, "category");
      tree_.Coding_(c, "coding",
                    {std::string(kObsCategory), "laboratory", "Laboratory"});
    }
    Node& c = tree_.Add(obs, "category");
    tree_.Coding_(c, "coding", {std::string(kV2_0074), "GE", "Genetics"});
  }

  // Fields every Observation shares.
  void ObservationCommon(Node& obs, const Coding& code) {
    tree_.Prim(obs, "status", "final");
    Categories(obs);
    tree_.Concept(obs, "code", code);
    tree_.Reference(obs, "subject", patient_ref_);
    if (!in_.effective.empty()) {
      tree_.Prim(obs, "effectiveDateTime", in_.effective);
    }
    if (!issued_.empty()) tree_.Prim(obs, "issued", issued_);
  }

  // component with a CodeableConcept value.
  // An HGVS expression as a coding when it names its reference sequence
  // ("NM_000059.3:c.35del"); an expression without one (SnpEff's bare
  // "p.Lys4Gln") is not valid HGVS and travels as text only.
  static Coding Hgvs(const std::string& expression) {
    if (expression.find(':') != std::string::npos) {
      return {std::string(kHgvs), expression, ""};
    }
    return {"", "", expression};
  }

  void ConceptComponent(Node& obs, const Coding& code, const Coding& value) {
    Node& c = tree_.Add(obs, "component");
    tree_.Concept(c, "code", code);
    tree_.Concept(c, "valueCodeableConcept", value);
  }
  void StringComponent(Node& obs, const Coding& code, std::string value) {
    Node& c = tree_.Add(obs, "component");
    tree_.Concept(c, "code", code);
    tree_.Prim(c, "valueString", std::move(value));
  }

  static Coding Loinc(std::string_view code, std::string_view display) {
    return {std::string(kLoinc), std::string(code), std::string(display)};
  }
  static Coding Tbd(std::string_view code, std::string_view display) {
    return {std::string(kTbd), std::string(code), std::string(display)};
  }

  Status BuildPatient();
  void BuildSpecimen();
  void BuildStudy();
  Status BuildVariant(const VariantCall& v, size_t index);
  void BuildClassification(const VariantCall& v, size_t variant, size_t index);
  void BuildConsequence(const VariantCall& v, size_t variant, size_t index);
  Status BuildPhase(const PhaseRelation& p, size_t index);
  void BuildReport();

  // --- the JSON fast path (json_ set) --------------------------------------
  // Each writes the resource's JSON exactly as fhir::WriteJson writes the
  // tree the Node path builds for it (same members, definition order,
  // RapidJSON's string escaping).
  Status JsonVariant(const VariantCall& v, const IdentifierValue& id,
                     const std::string& where);
  void JsonClassification(const Classification& cl, const IdentifierValue& id);
  void JsonConsequence(const Consequence& cq, const IdentifierValue& id);
  void JsonPhase(const PhaseRelation& p, const IdentifierValue& id,
                 const std::string& first_url, const std::string& second_url);
  void JsonReport(Entry e);

  void Str(std::string_view v) { JsonStr(json_buf_, v); }
  void Raw(std::string_view t) { json_buf_.append(t); }
  void JCoding(std::string_view system, std::string_view code,
               std::string_view display) {
    JsonCoding(json_buf_, system, code, display);
  }
  void JConcept(std::string_view system, std::string_view code,
                std::string_view display) {
    JsonConcept(json_buf_, system, code, display);
  }
  void JConcept(const Coding& c) { JConcept(c.system, c.code, c.display); }
  // Starts the next element of the component array.
  void JComponentStart() {
    Raw(json_first_component_ ? ",\"component\":[{\"code\":" : ",{\"code\":");
    json_first_component_ = false;
  }
  // A component: its code (constant JSON) and a CodeableConcept value.
  void JComponent(std::string_view code_json, const Coding& value) {
    JComponentStart();
    Raw(code_json);
    Raw(",\"valueCodeableConcept\":");
    JConcept(value);
    Raw("}");
  }
  void JComponent(std::string_view code_json, std::string_view system,
                  std::string_view code, std::string_view display) {
    JComponentStart();
    Raw(code_json);
    Raw(",\"valueCodeableConcept\":");
    JConcept(system, code, display);
    Raw("}");
  }
  // As Hgvs(): a coding when the expression names its sequence, else text.
  void JHgvsComponent(std::string_view code_json, std::string_view hgvs) {
    if (hgvs.find(':') != std::string_view::npos) {
      JComponent(code_json, kHgvs, hgvs, "");
    } else {
      JComponent(code_json, "", "", hgvs);
    }
  }
  void JComponentsEnd() {
    if (!json_first_component_) Raw("]");
  }
  // {"resourceType":"Observation","meta":...,"identifier":[...],
  //  "status":"final","category":[...],"code":<code>,"subject":...,
  //  effective, issued  (no closing brace)
  void JObservationHead(std::string_view profile, const IdentifierValue& id,
                        std::string_view code_json) {
    static const std::string kCategories = [] {
      TextBuffer out;
      out.append("],\"status\":\"final\",\"category\":[{\"coding\":[");
      JsonCoding(out, kObsCategory, "laboratory", "Laboratory");
      out.append("]},{\"coding\":[");
      JsonCoding(out, kV2_0074, "GE", "Genetics");
      out.append("]}],\"code\":");
      return out.str();
    }();
    json_buf_.clear();
    json_first_component_ = true;
    Raw("{\"resourceType\":\"Observation\",\"meta\":{\"profile\":[\"");
    Raw(kProfileBase);  // constants: nothing to escape
    Raw(profile);
    Raw("\"]},\"identifier\":[");
    JIdentifier(id);
    Raw(kCategories);
    Raw(code_json);
    Raw(json_subject_and_times_);
  }
  void JIdentifier(const IdentifierValue& id) {
    json_buf_.push_back('{');
    if (!id.system.empty()) {
      Raw("\"system\":");
      Str(id.system);
      json_buf_.push_back(',');
    }
    Raw("\"value\":");
    Str(id.value);
    json_buf_.push_back('}');
  }
  // The entry's request: a conditional create for the Patient (the EHR owns
  // the patient record), a conditional update for everything else, so an
  // amended report replaces what an earlier version wrote.
  struct Request {
    std::string_view method;
    std::string url;
    std::string if_none_exist;
  };
  static Request RequestFor(std::string_view type, const IdentifierValue& id) {
    if (type == "Patient") {
      return {"POST", std::string(type), IdentifierQuery(id)};
    }
    return {"PUT", std::string(type) + "?" + IdentifierQuery(id), ""};
  }
  Status BeginJsonEntry(std::string_view type, const std::string& full_url,
                        const IdentifierValue& id) {
    const Request r = RequestFor(type, id);
    return json_->BeginEntry({full_url, r.method, r.url, r.if_none_exist});
  }

  // Hands json_buf_ (one whole resource) to the JSON sink.
  void JsonEmit(std::string_view type, const std::string& full_url,
                const IdentifierValue& id) {
    if (!sink_status_.ok()) return;
    sink_status_ = BeginJsonEntry(type, full_url, id);
    if (sink_status_.ok()) sink_status_ = json_->ResourceText(json_buf_);
    if (sink_status_.ok()) sink_status_ = json_->EndEntry();
  }

  // Turns an entry into a Bundle.entry node and hands it to the sink (the
  // JSON sink: its resource written by fhir::WriteJson).
  void Emit(Entry e) {
    Node& entry = tree_.Add(scratch_, "entry");
    tree_.Prim(entry, "fullUrl", e.full_url);
    std::string type = e.resource.resource_type();
    tree_.AddResource(entry, "resource", std::move(e.resource));
    Node& req = tree_.Add(entry, "request");
    const Request r = RequestFor(type, e.identifier);
    tree_.Prim(req, "method", std::string(r.method));
    tree_.Prim(req, "url", r.url);
    if (!r.if_none_exist.empty()) {
      tree_.Prim(req, "ifNoneExist", r.if_none_exist);
    }
    Node out = std::move(scratch_.mutable_children().back());
    scratch_.mutable_children().pop_back();
    if (tree_.failed() || !sink_status_.ok()) return;
    SortChildren(out);
    if (!json_) {
      sink_status_ = sink_(std::move(out));
      return;
    }
    const Node* resource = out.Child("resource");
    Result<std::string> text = fhir::WriteJson(*resource);
    if (!text.ok()) {
      sink_status_ = text.error();
      return;
    }
    json_buf_.assign(*text);
    JsonEmit(type, e.full_url, e.identifier);
  }

  // --- compact per-variant state -------------------------------------------
  std::string VariantIdValue(size_t variant) const {
    std::string id = in_.accession.value;
    id += "/variant/";
    id += keys_.Get(variant);
    return id;
  }
  // Every result's fullUrl in report order, to `out` one at a time.
  template <typename F>
  void ForEachResultUrl(F&& out) const;

  // The first failure of the per-variant state's temporary files, else ok.
  Status SpillStatus() const {
    if (!keys_.status().ok()) return keys_.status();
    return results_.status();
  }
  // The status after a step: a schema mismatch, else the sink's.
  Status Check() const {
    if (tree_.failed()) {
      return Error(
          ErrorCode::kInternal,
          "FHIR definitions do not match the builder: " + tree_.error());
    }
    return sink_status_;
  }

  enum class Stage { kNew, kBegun, kFinished };
  Status Fail(std::string message) const {
    return Error(ErrorCode::kInvalidInput, std::move(message));
  }

  const GenomicReportInput& in_;
  const BuildOptions& options_;
  Tree tree_;
  std::string system_;
  std::string issued_;
  std::string patient_ref_;
  std::string specimen_url_;
  std::string study_url_;
  EntrySink sink_;
  JsonEntrySink* json_ = nullptr;
  Status sink_status_;
  Node scratch_;  // a Bundle to type entries against
  Stage stage_ = Stage::kNew;
  size_t phase_count_ = 0;
  // JSON fast path: the resource being written, and fragments fixed for
  // the whole report.
  TextBuffer json_buf_;
  bool json_first_component_ = true;
  std::string json_subject_and_times_;  // ,"subject":{..}[,"effective..]
  // The current variant's fullUrl.
  std::string variant_url_;
  internal::VariantKeys keys_;
  internal::ResultLog results_;
};

template <typename F>
void ReportStreamBuilder::Impl::ForEachResultUrl(F&& out) const {
  results_.ForEach(
      [&](size_t variant, uint64_t implications, uint64_t consequences) {
        const std::string base = VariantIdValue(variant);
        out(FullUrl(Own(base)));
        for (uint64_t j = 1; j <= implications; ++j) {
          out(FullUrl(Own(base + "/implication/" + std::to_string(j))));
        }
        for (uint64_t j = 1; j <= consequences; ++j) {
          out(FullUrl(Own(base + "/consequence/" + std::to_string(j))));
        }
      },
      [&](uint32_t first, uint32_t second) {
        out(FullUrl(Own(in_.accession.value + "/phase/" + keys_.Get(first) +
                        "/" + keys_.Get(second))));
      });
}

Status ReportStreamBuilder::Impl::BuildPatient() {
  if (in_.patient.value.empty()) {
    return Fail("the patient identifier is missing");
  }
  patient_ref_ = "Patient?" + IdentifierQuery(in_.patient);
  Entry e = NewEntry("Patient", in_.patient, "");
  if (!in_.patient_name.empty()) {
    Node& name = tree_.Add(e.resource, "name");
    tree_.Prim(name, "text", in_.patient_name);
  }
  std::string gender;
  std::string_view g = in_.patient_gender;
  if (g == "male" || g == "M" || g == "m") gender = "male";
  if (g == "female" || g == "F" || g == "f") gender = "female";
  if (g == "other" || g == "O") gender = "other";
  if (g == "unknown" || g == "U") gender = "unknown";
  if (!gender.empty()) tree_.Prim(e.resource, "gender", gender);
  if (!in_.patient_birth_date.empty()) {
    tree_.Prim(e.resource, "birthDate", in_.patient_birth_date);
  }
  Emit(std::move(e));
  return Status::Ok();
}

void ReportStreamBuilder::Impl::BuildSpecimen() {
  if (in_.specimen.empty()) return;
  Entry e = NewEntry("Specimen", in_.specimen, "");
  if (!in_.specimen_type.empty()) {
    tree_.Concept(e.resource, "type", in_.specimen_type);
  }
  tree_.Reference(e.resource, "subject", patient_ref_);
  if (!in_.specimen_collected.empty()) {
    Node& col = tree_.Add(e.resource, "collection");
    tree_.Prim(col, "collectedDateTime", in_.specimen_collected);
  }
  specimen_url_ = e.full_url;
  Emit(std::move(e));
}

void ReportStreamBuilder::Impl::BuildStudy() {
  if (!options_.include_study) return;
  Entry analysis = NewEntry("Procedure", Own(in_.accession.value + "/analysis"),
                            "genomic-study-analysis");
  Entry study = NewEntry("Procedure", Own(in_.accession.value + "/study"),
                         "genomic-study");
  study_url_ = study.full_url;
  auto ext = [&](Node& r, std::string_view name) -> Node& {
    Node& x = tree_.Add(r, "extension");
    tree_.Prim(x, "url", std::string(kExtBase) + std::string(name));
    return x;
  };
  auto laboratory = [&](Node& r) {
    Node& c = tree_.Add(r, "category");
    tree_.Coding_(c, "coding",
                  {std::string(kObsCategory), "laboratory", "Laboratory"});
  };

  // GenomicStudyAnalysis.
  Node& a = analysis.resource;
  if (!in_.method.empty()) {
    Node& x = ext(a, "genomic-study-analysis-method-type");
    tree_.Concept(x, "valueCodeableConcept", in_.method);
  }
  if (!in_.build.empty()) {
    Node& x = ext(a, "genomic-study-analysis-genome-build");
    tree_.Concept(x, "valueCodeableConcept", BuildAnswer(in_.build));
  }
  if (!in_.source_class.empty()) {
    Node& x = ext(a, "genomic-study-analysis-genomic-source-class");
    tree_.Concept(x, "valueCodeableConcept",
                  SourceClassAnswer(in_.source_class));
  }
  if (!specimen_url_.empty()) {
    Node& x = ext(a, "genomic-study-analysis-specimen");
    tree_.Reference(x, "valueReference", specimen_url_);
  }
  if (!in_.regions_studied.empty() || !in_.regions_description.empty()) {
    Node& x = ext(a, "genomic-study-analysis-regions");
    if (!in_.regions_description.empty()) {
      Node& d = tree_.Add(x, "extension");
      tree_.Prim(d, "url", "description");
      tree_.Prim(d, "valueString", in_.regions_description);
    }
    for (const RegionStudied& r : in_.regions_studied) {
      Node& s = tree_.Add(x, "extension");
      tree_.Prim(s, "url", "studied");
      // BED interval as text: "chr:start-end" (0-based, half-open).
      std::string text = r.chromosome + ":" + std::to_string(r.start) + "-" +
                         std::to_string(r.end);
      if (!r.name.empty()) text += " " + r.name;
      Node& v = tree_.Add(s, "valueCodeableConcept");
      tree_.Prim(v, "text", text);
    }
  }
  tree_.Prim(a, "status", "completed");
  laboratory(a);
  // GenomicStudyAnalysis prohibits Procedure.code (max 0): the method and
  // build travel in the profile's extensions above.
  tree_.Reference(a, "subject", patient_ref_);
  if (!in_.effective.empty()) {
    tree_.Prim(a, "performedDateTime", in_.effective);
  }

  // GenomicStudy.
  Node& s = study.resource;
  {
    Node& x = ext(s, "genomic-study-analysis-ext");
    tree_.Reference(x, "valueReference", analysis.full_url);
  }
  tree_.Prim(s, "status", "completed");
  laboratory(s);
  {
    Node& code = tree_.Add(s, "code");
    tree_.Prim(code, "text", "Genomic study");
  }
  tree_.Reference(s, "subject", patient_ref_);
  if (!in_.effective.empty()) {
    tree_.Prim(s, "performedDateTime", in_.effective);
  }
  Emit(std::move(study));
  Emit(std::move(analysis));
}

Status ReportStreamBuilder::Impl::BuildVariant(const VariantCall& v,
                                               size_t index) {
  const std::string where = v.source_location.empty()
                                ? "variant " + std::to_string(index + 1)
                                : "variant at " + v.source_location;
  // Deterministic key; a repeated key (the same variant twice) gets "#n".
  Result<std::string> added =
      keys_.Add(VariantKey(v), v.chromosome, v.start ? *v.start : -1);
  if (!added.ok()) return added.error();
  const std::string& key = *added;
  IdentifierValue id = Own(in_.accession.value + "/variant/" + key);
  variant_url_ = FullUrl(id);
  // A v2 call's extra components are rare: built as a tree.
  if (json_ && v.extra_components.empty()) return JsonVariant(v, id, where);

  Entry e = NewEntry("Observation", std::move(id), "variant");
  Node& o = e.resource;
  ObservationCommon(o, Loinc("69548-6", "Genetic variant assessment"));
  tree_.Concept(o, "valueCodeableConcept", Loinc("LA9633-4", "Present"));
  if (!in_.method.empty()) tree_.Concept(o, "method", in_.method);
  if (!specimen_url_.empty()) tree_.Reference(o, "specimen", specimen_url_);

  // Components, in the order of the profile's slices.
  if (!v.gene_symbol.empty() || !v.hgnc_id.empty()) {
    Coding gene{v.hgnc_id.empty() ? "" : std::string(kHgnc), v.hgnc_id,
                v.gene_symbol};
    ConceptComponent(o, Loinc("48018-6", "Gene studied [ID]"), gene);
  }
  std::string build = v.build.empty() ? in_.build : v.build;
  if (!build.empty()) {
    ConceptComponent(
        o, Loinc("62374-4", "Human reference sequence assembly version"),
        BuildAnswer(build));
  }
  if (!v.chromosome.empty()) {
    std::string_view code = ChromosomeAnswer(v.chromosome);
    if (!code.empty()) {
      ConceptComponent(o, Loinc("48000-4", "Chromosome"),
                       {std::string(kLoinc), std::string(code),
                        "Chromosome " + v.chromosome});
    }
  }
  if (!v.genomic_ref_seq.empty()) {
    ConceptComponent(o, Loinc("48013-7", "Genomic reference sequence [ID]"),
                     {std::string(kRefSeq), v.genomic_ref_seq, ""});
  }
  if (!v.transcript_ref_seq.empty()) {
    ConceptComponent(
        o, Loinc("51958-7", "Transcript reference sequence [ID]"),
        {v.transcript_ref_seq.rfind("ENST", 0) == 0 ? "http://www.ensembl.org"
                                                    : std::string(kRefSeq),
         v.transcript_ref_seq, ""});
  }
  auto range = [&](std::string_view code, std::string_view display,
                   std::optional<int64_t> low, std::optional<int64_t> high) {
    if (!low && !high) return;
    Node& c = tree_.Add(o, "component");
    tree_.Concept(c, "code", Loinc(code, display));
    Node& r = tree_.Add(c, "valueRange");
    if (low) {
      Node& l = tree_.Add(r, "low");
      tree_.Prim(l, "value", std::to_string(*low));
    }
    if (high) {
      Node& h = tree_.Add(r, "high");
      tree_.Prim(h, "value", std::to_string(*high));
    }
  };
  range("81254-5", "Genomic allele start-end", v.start, v.end);
  range("81302-2", "Genomic structural variant inner start-end", v.inner_start,
        v.inner_end);
  range("81301-4", "Genomic structural variant outer start-end", v.outer_start,
        v.outer_end);
  if ((v.start || v.end) && !v.coordinate_system.empty()) {
    ConceptComponent(o, Loinc("92822-6", "Genomic coordinate system [Type]"),
                     CoordinateAnswer(v.coordinate_system));
  }
  if (!v.ref_allele.empty()) {
    StringComponent(o, Loinc("69547-8", "Genomic ref allele [ID]"),
                    v.ref_allele);
  }
  if (!v.alt_allele.empty()) {
    StringComponent(o, Loinc("69551-0", "Genomic alt allele [ID]"),
                    v.alt_allele);
  }
  if (!v.variant_type.empty()) {
    ConceptComponent(o, Loinc("48019-4", "DNA change type"), v.variant_type);
  }
  if (!v.genomic_source_class.empty()) {
    ConceptComponent(o, Loinc("48002-0", "Genomic source class [Type]"),
                     v.genomic_source_class);
  }
  if (!v.allele_frequency.empty()) {
    if (!fhir::IsJsonNumber(v.allele_frequency)) {
      return Fail(where + ": allele frequency \"" + v.allele_frequency +
                  "\" is not a decimal");
    }
    Node& c = tree_.Add(o, "component");
    tree_.Concept(c, "code",
                  Loinc("81258-6", "Sample variant allelic frequency [NFr]"));
    tree_.Quantity(c, "valueQuantity", v.allele_frequency,
                   "relative frequency of a particular allele in the specimen",
                   "1");
  }
  if (v.read_depth) {
    Node& c = tree_.Add(o, "component");
    tree_.Concept(c, "code", Loinc("82121-5", "Allelic read depth"));
    tree_.Quantity(c, "valueQuantity", std::to_string(*v.read_depth),
                   "reads per base pair", "1");
  }
  if (!v.allelic_state.empty()) {
    ConceptComponent(o, Loinc("53034-5", "Allelic state"), v.allelic_state);
  }
  for (const Coding& code : v.variation_codes) {
    ConceptComponent(o, Loinc("81252-9", "Discrete genetic variant"), code);
  }
  if (!v.hgvs_c.empty()) {
    ConceptComponent(o, Loinc("48004-6", "DNA change (c.HGVS)"),
                     Hgvs(v.hgvs_c));
  }
  if (!v.hgvs_p.empty()) {
    ConceptComponent(o, Loinc("48005-3", "Amino acid change (pHGVS)"),
                     Hgvs(v.hgvs_p));
  }
  if (!v.hgvs_g.empty()) {
    ConceptComponent(o, Loinc("81290-9", "Genomic DNA change (gHGVS)"),
                     Hgvs(v.hgvs_g));
  }
  if (v.copy_number) {
    Node& c = tree_.Add(o, "component");
    tree_.Concept(c, "code",
                  Loinc("82155-3", "Genomic structural variant copy number"));
    tree_.Quantity(c, "valueQuantity", std::to_string(*v.copy_number), "", "1");
  }
  for (const ExtraComponent& x : v.extra_components) {
    Node& c = tree_.Add(o, "component");
    tree_.Concept(c, "code", x.code);
    if (!x.value_coding.empty()) {
      tree_.Concept(c, "valueCodeableConcept", x.value_coding);
    } else if (!x.value_quantity.empty()) {
      if (!fhir::IsJsonNumber(x.value_quantity)) {
        return Fail(where + ": component " + x.code.code + " value \"" +
                    x.value_quantity + "\" is not a decimal");
      }
      Node& q = tree_.Add(c, "valueQuantity");
      tree_.Prim(q, "value", x.value_quantity);
      if (!x.value_unit.empty()) {
        tree_.Prim(q, "unit", x.value_unit);
        tree_.Prim(q, "system", std::string(kUcum));
        tree_.Prim(q, "code", x.value_unit);
      }
    } else if (!x.value_integer.empty()) {
      if (!IsInteger(x.value_integer)) {
        return Fail(where + ": component " + x.code.code + " value \"" +
                    x.value_integer + "\" is not an integer");
      }
      tree_.Prim(c, "valueInteger", x.value_integer);
    } else {
      tree_.Prim(c, "valueString", x.value_string);
    }
  }
  Emit(std::move(e));
  return Status::Ok();
}

void ReportStreamBuilder::Impl::BuildClassification(const VariantCall& v,
                                                    size_t variant,
                                                    size_t index) {
  const Classification& cl = v.classifications[index];
  IdentifierValue id = Own(VariantIdValue(variant) + "/implication/" +
                           std::to_string(index + 1));
  if (json_) return JsonClassification(cl, id);
  Entry e = NewEntry("Observation", std::move(id), "diagnostic-implication");
  Node& o = e.resource;
  ObservationCommon(o, Tbd("diagnostic-implication", "Diagnostic Implication"));
  tree_.Reference(o, "derivedFrom", variant_url_);
  if (!cl.source.empty()) {
    Node& note = tree_.Add(o, "note");
    tree_.Prim(note, "text", "Classification source: " + cl.source);
  }
  if (!cl.evidence_text.empty()) {
    StringComponent(o, Tbd("conclusion-string", "Conclusion string"),
                    cl.evidence_text);
  }
  if (!cl.review_status.empty()) {
    ConceptComponent(o, Loinc("93044-6", "Level of evidence"),
                     {"", "", cl.review_status});
  }
  if (!cl.clinical_significance.empty()) {
    ConceptComponent(
        o, Loinc("53037-8", "Genetic variation clinical significance [Imp]"),
        cl.clinical_significance);
  }
  for (const Coding& cond : cl.conditions) {
    ConceptComponent(o, Loinc("81259-4", "Associated phenotype"), cond);
  }
  Emit(std::move(e));
}

void ReportStreamBuilder::Impl::BuildConsequence(const VariantCall& v,
                                                 size_t variant, size_t index) {
  const Consequence& cq = v.consequences[index];
  IdentifierValue id = Own(VariantIdValue(variant) + "/consequence/" +
                           std::to_string(index + 1));
  if (json_) return JsonConsequence(cq, id);
  Entry e = NewEntry("Observation", std::move(id), "molecular-consequence");
  Node& o = e.resource;
  ObservationCommon(o, Tbd("molecular-consequence", "Molecular Consequence"));
  tree_.Reference(o, "derivedFrom", variant_url_);
  if (!cq.impact.empty()) {
    // VEP/SnpEff IMPACT has no IG code: kept as interpretation text.
    Node& interp = tree_.Add(o, "interpretation");
    tree_.Prim(interp, "text", "Impact: " + cq.impact);
  }
  if (!cq.hgvs_c.empty()) {
    ConceptComponent(o, Loinc("48004-6", "DNA change (c.HGVS)"),
                     Hgvs(cq.hgvs_c));
  }
  if (!cq.transcript.empty()) {
    ConceptComponent(
        o, Loinc("51958-7", "Transcript reference sequence [ID]"),
        {cq.transcript.rfind("ENST", 0) == 0 ? "http://www.ensembl.org"
                                             : std::string(kRefSeq),
         cq.transcript, ""});
  }
  if (!cq.hgvs_p.empty()) {
    ConceptComponent(o, Loinc("48005-3", "Amino acid change (pHGVS)"),
                     Hgvs(cq.hgvs_p));
  }
  for (const Coding& term : cq.terms) {
    ConceptComponent(o, Tbd("feature-consequence", "Feature Consequence"),
                     term);
  }
  if (!cq.gene_symbol.empty() || !cq.hgnc_id.empty()) {
    ConceptComponent(o, Loinc("48018-6", "Gene studied [ID]"),
                     {cq.hgnc_id.empty() ? "" : std::string(kHgnc), cq.hgnc_id,
                      cq.gene_symbol});
  }
  Emit(std::move(e));
}

Status ReportStreamBuilder::Impl::BuildPhase(const PhaseRelation& p,
                                             size_t index) {
  if (p.first >= keys_.size() || p.second >= keys_.size() ||
      p.first == p.second) {
    return Fail("phase relation " + std::to_string(index + 1) +
                " does not name two distinct variants of the report");
  }
  results_.AddPhase(static_cast<uint32_t>(p.first),
                    static_cast<uint32_t>(p.second));
  IdentifierValue id = Own(in_.accession.value + "/phase/" +
                           keys_.Get(p.first) + "/" + keys_.Get(p.second));
  const std::string first_url = FullUrl(Own(VariantIdValue(p.first)));
  const std::string second_url = FullUrl(Own(VariantIdValue(p.second)));
  if (json_) {
    JsonPhase(p, id, first_url, second_url);
    return Status::Ok();
  }
  Entry e =
      NewEntry("Observation", std::move(id), "sequence-phase-relationship");
  Node& o = e.resource;
  ObservationCommon(o, Loinc("82120-7", "Allelic phase"));
  std::string rel = p.relationship.empty() ? "Unknown" : p.relationship;
  tree_.Concept(o, "valueCodeableConcept",
                {std::string(kPhaseSystem), rel, rel});
  tree_.Reference(o, "derivedFrom", first_url);
  tree_.Reference(o, "derivedFrom", second_url);
  Emit(std::move(e));
  return Status::Ok();
}

void ReportStreamBuilder::Impl::BuildReport() {
  IdentifierValue id = in_.accession;
  if (id.system.empty()) id.system = system_;
  Entry e = NewEntry("DiagnosticReport", id, "genomic-report");
  Node& r = e.resource;
  if (!study_url_.empty()) {
    Node& x = tree_.Add(r, "extension");
    tree_.Prim(x, "url", std::string(kExtBase) + "genomic-study-reference");
    tree_.Reference(x, "valueReference", study_url_);
  }
  if (!in_.order.empty()) {
    Node& b = tree_.Add(r, "basedOn");
    tree_.Prim(b, "type", "ServiceRequest");
    Node& bid = tree_.Add(b, "identifier");
    if (!in_.order.system.empty()) tree_.Prim(bid, "system", in_.order.system);
    tree_.Prim(bid, "value", in_.order.value);
  }
  tree_.Prim(r, "status",
             in_.report_status.empty() ? "final" : in_.report_status);
  {
    Node& c = tree_.Add(r, "category");
    tree_.Coding_(c, "coding", {std::string(kV2_0074), "GE", "Genetics"});
  }
  // The genomic-report profile fixes code to LOINC 51969-4 (a pattern);
  // the lab's own report code (e.g. an OBR-4 panel code) is kept beside it.
  {
    std::vector<Coding> codes = {Loinc("51969-4", "Genetic analysis report")};
    if (!in_.report_code.code.empty() && in_.report_code.code != "51969-4") {
      codes.push_back(in_.report_code);
    }
    tree_.ConceptMany(r, "code", codes);
  }
  tree_.Reference(r, "subject", patient_ref_);
  if (!in_.effective.empty()) {
    tree_.Prim(r, "effectiveDateTime", in_.effective);
  }
  if (!issued_.empty()) tree_.Prim(r, "issued", issued_);
  if (!in_.lab_name.empty()) {
    Node& p = tree_.Add(r, "performer");
    tree_.Prim(p, "display", in_.lab_name);
  }
  if (!specimen_url_.empty()) tree_.Reference(r, "specimen", specimen_url_);
  // JSON: the results and what follows them are streamed.
  if (json_) return JsonReport(std::move(e));
  ForEachResultUrl(
      [&](std::string url) { tree_.Reference(r, "result", std::move(url)); });
  if (Status s = SpillStatus(); !s.ok()) {
    sink_status_ = s;
    return;
  }
  if (!in_.conclusion.empty()) tree_.Prim(r, "conclusion", in_.conclusion);
  if (!in_.overall_interpretation.empty()) {
    tree_.Concept(r, "conclusionCode", in_.overall_interpretation);
  }
  Emit(std::move(e));
}

// ---------------------------------------------------------------------------
// The JSON fast path. Each function mirrors its Build* twin above member for
// member; report_builder_test and the VCF tests compare the two outputs.

Status ReportStreamBuilder::Impl::JsonVariant(const VariantCall& v,
                                              const IdentifierValue& id,
                                              const std::string& where) {
  if (!v.allele_frequency.empty() && !fhir::IsJsonNumber(v.allele_frequency)) {
    return Fail(where + ": allele frequency \"" + v.allele_frequency +
                "\" is not a decimal");
  }
  JObservationHead("variant", id,
                   GG_LOINC("69548-6", "Genetic variant assessment"));
  Raw(",\"valueCodeableConcept\":");
  Raw(GG_LOINC("LA9633-4", "Present"));
  if (!in_.method.empty()) {
    Raw(",\"method\":");
    JConcept(in_.method);
  }
  if (!specimen_url_.empty()) {
    Raw(",\"specimen\":{\"reference\":");
    Str(specimen_url_);
    Raw("}");
  }
  if (!v.gene_symbol.empty() || !v.hgnc_id.empty()) {
    JComponent(GG_LOINC("48018-6", "Gene studied [ID]"),
               {v.hgnc_id.empty() ? "" : std::string(kHgnc), v.hgnc_id,
                v.gene_symbol});
  }
  const std::string& build = v.build.empty() ? in_.build : v.build;
  if (!build.empty()) {
    JComponent(GG_LOINC("62374-4", "Human reference sequence assembly version"),
               BuildAnswer(build));
  }
  if (!v.chromosome.empty()) {
    std::string_view code = ChromosomeAnswer(v.chromosome);
    if (!code.empty()) {
      JComponentStart();
      Raw(GG_LOINC("48000-4", "Chromosome"));
      Raw(",\"valueCodeableConcept\":");
      JConcept(kLoinc, code, "Chromosome " + v.chromosome);
      Raw("}");
    }
  }
  if (!v.genomic_ref_seq.empty()) {
    JComponentStart();
    Raw(GG_LOINC("48013-7", "Genomic reference sequence [ID]"));
    Raw(",\"valueCodeableConcept\":");
    JConcept(kRefSeq, v.genomic_ref_seq, "");
    Raw("}");
  }
  if (!v.transcript_ref_seq.empty()) {
    JComponentStart();
    Raw(GG_LOINC("51958-7", "Transcript reference sequence [ID]"));
    Raw(",\"valueCodeableConcept\":");
    JConcept(v.transcript_ref_seq.rfind("ENST", 0) == 0
                 ? std::string_view("http://www.ensembl.org")
                 : kRefSeq,
             v.transcript_ref_seq, "");
    Raw("}");
  }
  auto range = [&](std::string_view code_json, std::optional<int64_t> low,
                   std::optional<int64_t> high) {
    if (!low && !high) return;
    JComponentStart();
    Raw(code_json);
    Raw(",\"valueRange\":{");
    if (low) {
      Raw("\"low\":{\"value\":");
      Raw(std::to_string(*low));
      Raw("}");
    }
    if (high) {
      Raw(low ? ",\"high\":{\"value\":" : "\"high\":{\"value\":");
      Raw(std::to_string(*high));
      Raw("}");
    }
    Raw("}}");
  };
  range(GG_LOINC("81254-5", "Genomic allele start-end"), v.start, v.end);
  range(GG_LOINC("81302-2", "Genomic structural variant inner start-end"),
        v.inner_start, v.inner_end);
  range(GG_LOINC("81301-4", "Genomic structural variant outer start-end"),
        v.outer_start, v.outer_end);
  if ((v.start || v.end) && !v.coordinate_system.empty()) {
    JComponent(GG_LOINC("92822-6", "Genomic coordinate system [Type]"),
               CoordinateAnswer(v.coordinate_system));
  }
  auto string_component = [&](std::string_view code_json,
                              std::string_view value) {
    JComponentStart();
    Raw(code_json);
    Raw(",\"valueString\":");
    Str(value);
    Raw("}");
  };
  if (!v.ref_allele.empty()) {
    string_component(GG_LOINC("69547-8", "Genomic ref allele [ID]"),
                     v.ref_allele);
  }
  if (!v.alt_allele.empty()) {
    string_component(GG_LOINC("69551-0", "Genomic alt allele [ID]"),
                     v.alt_allele);
  }
  if (!v.variant_type.empty()) {
    JComponent(GG_LOINC("48019-4", "DNA change type"), v.variant_type);
  }
  if (!v.genomic_source_class.empty()) {
    JComponent(GG_LOINC("48002-0", "Genomic source class [Type]"),
               v.genomic_source_class);
  }
  auto quantity = [&](std::string_view code_json, std::string_view value,
                      std::string_view unit) {
    JComponentStart();
    Raw(code_json);
    Raw(",\"valueQuantity\":{\"value\":");
    Raw(value);
    if (!unit.empty()) {
      Raw(",\"unit\":");
      Str(unit);
    }
    Raw(",\"system\":\"http://unitsofmeasure.org\",\"code\":\"1\"}}");
  };
  if (!v.allele_frequency.empty()) {
    quantity(GG_LOINC("81258-6", "Sample variant allelic frequency [NFr]"),
             v.allele_frequency,
             "relative frequency of a particular allele in the specimen");
  }
  if (v.read_depth) {
    quantity(GG_LOINC("82121-5", "Allelic read depth"),
             std::to_string(*v.read_depth), "reads per base pair");
  }
  if (!v.allelic_state.empty()) {
    JComponent(GG_LOINC("53034-5", "Allelic state"), v.allelic_state);
  }
  for (const Coding& code : v.variation_codes) {
    JComponent(GG_LOINC("81252-9", "Discrete genetic variant"), code);
  }
  if (!v.hgvs_c.empty()) {
    JHgvsComponent(GG_LOINC("48004-6", "DNA change (c.HGVS)"), v.hgvs_c);
  }
  if (!v.hgvs_p.empty()) {
    JHgvsComponent(GG_LOINC("48005-3", "Amino acid change (pHGVS)"), v.hgvs_p);
  }
  if (!v.hgvs_g.empty()) {
    JHgvsComponent(GG_LOINC("81290-9", "Genomic DNA change (gHGVS)"), v.hgvs_g);
  }
  if (v.copy_number) {
    quantity(GG_LOINC("82155-3", "Genomic structural variant copy number"),
             std::to_string(*v.copy_number), "");
  }
  JComponentsEnd();
  Raw("}");
  JsonEmit("Observation", variant_url_, id);
  return Status::Ok();
}

void ReportStreamBuilder::Impl::JsonClassification(const Classification& cl,
                                                   const IdentifierValue& id) {
  JObservationHead("diagnostic-implication", id,
                   GG_TBD("diagnostic-implication", "Diagnostic Implication"));
  if (!cl.source.empty()) {
    Raw(",\"note\":[{\"text\":");
    Str("Classification source: " + cl.source);
    Raw("}]");
  }
  Raw(",\"derivedFrom\":[{\"reference\":");
  Str(variant_url_);
  Raw("}]");
  if (!cl.evidence_text.empty()) {
    JComponentStart();
    Raw(GG_TBD("conclusion-string", "Conclusion string"));
    Raw(",\"valueString\":");
    Str(cl.evidence_text);
    Raw("}");
  }
  if (!cl.review_status.empty()) {
    JComponent(GG_LOINC("93044-6", "Level of evidence"),
               {"", "", cl.review_status});
  }
  if (!cl.clinical_significance.empty()) {
    JComponent(
        GG_LOINC("53037-8", "Genetic variation clinical significance [Imp]"),
        cl.clinical_significance);
  }
  for (const Coding& cond : cl.conditions) {
    JComponent(GG_LOINC("81259-4", "Associated phenotype"), cond);
  }
  JComponentsEnd();
  Raw("}");
  JsonEmit("Observation", FullUrl(id), id);
}

void ReportStreamBuilder::Impl::JsonConsequence(const Consequence& cq,
                                                const IdentifierValue& id) {
  JObservationHead("molecular-consequence", id,
                   GG_TBD("molecular-consequence", "Molecular Consequence"));
  if (!cq.impact.empty()) {
    Raw(",\"interpretation\":[{\"text\":");
    Str("Impact: " + cq.impact);
    Raw("}]");
  }
  Raw(",\"derivedFrom\":[{\"reference\":");
  Str(variant_url_);
  Raw("}]");
  if (!cq.hgvs_c.empty()) {
    JHgvsComponent(GG_LOINC("48004-6", "DNA change (c.HGVS)"), cq.hgvs_c);
  }
  if (!cq.transcript.empty()) {
    JComponentStart();
    Raw(GG_LOINC("51958-7", "Transcript reference sequence [ID]"));
    Raw(",\"valueCodeableConcept\":");
    JConcept(cq.transcript.rfind("ENST", 0) == 0
                 ? std::string_view("http://www.ensembl.org")
                 : kRefSeq,
             cq.transcript, "");
    Raw("}");
  }
  if (!cq.hgvs_p.empty()) {
    JHgvsComponent(GG_LOINC("48005-3", "Amino acid change (pHGVS)"), cq.hgvs_p);
  }
  for (const Coding& term : cq.terms) {
    JComponent(GG_TBD("feature-consequence", "Feature Consequence"), term);
  }
  if (!cq.gene_symbol.empty() || !cq.hgnc_id.empty()) {
    JComponent(GG_LOINC("48018-6", "Gene studied [ID]"),
               {cq.hgnc_id.empty() ? "" : std::string(kHgnc), cq.hgnc_id,
                cq.gene_symbol});
  }
  JComponentsEnd();
  Raw("}");
  JsonEmit("Observation", FullUrl(id), id);
}

void ReportStreamBuilder::Impl::JsonPhase(const PhaseRelation& p,
                                          const IdentifierValue& id,
                                          const std::string& first_url,
                                          const std::string& second_url) {
  JObservationHead("sequence-phase-relationship", id,
                   GG_LOINC("82120-7", "Allelic phase"));
  const std::string_view rel =
      p.relationship.empty() ? std::string_view("Unknown") : p.relationship;
  Raw(",\"valueCodeableConcept\":");
  JConcept(kPhaseSystem, rel, rel);
  Raw(",\"derivedFrom\":[{\"reference\":");
  Str(first_url);
  Raw("},{\"reference\":");
  Str(second_url);
  Raw("}]}");
  JsonEmit("Observation", FullUrl(id), id);
}

// The report's tree without its results and conclusion is written by
// fhir::WriteJson; the result references (one per Observation, possibly
// millions) are recomputed and streamed in pieces after it.
void ReportStreamBuilder::Impl::JsonReport(Entry e) {
  constexpr size_t kPiece = 64 << 10;
  Node& entry = tree_.Add(scratch_, "entry");
  const std::string type = e.resource.resource_type();
  tree_.AddResource(entry, "resource", std::move(e.resource));
  Node resource = std::move(entry.mutable_children().back());
  scratch_.mutable_children().pop_back();
  if (tree_.failed() || !sink_status_.ok()) return;
  SortChildren(resource);
  Result<std::string> head = fhir::WriteJson(resource);
  if (!head.ok()) {
    sink_status_ = head.error();
    return;
  }
  json_buf_.assign(*head);
  json_buf_.pop_back();  // the closing brace
  sink_status_ = BeginJsonEntry(type, e.full_url, e.identifier);
  bool first = true;
  ForEachResultUrl([&](const std::string& url) {
    if (!sink_status_.ok()) return;
    Raw(first ? ",\"result\":[{\"reference\":" : ",{\"reference\":");
    first = false;
    Str(url);
    Raw("}");
    if (json_buf_.size() >= kPiece) {
      sink_status_ = json_->ResourceText(json_buf_);
      json_buf_.clear();
    }
  });
  if (sink_status_.ok()) sink_status_ = SpillStatus();
  if (!sink_status_.ok()) return;
  if (!first) Raw("]");
  if (!in_.conclusion.empty()) {
    Raw(",\"conclusion\":");
    Str(in_.conclusion);
  }
  if (!in_.overall_interpretation.empty()) {
    Raw(",\"conclusionCode\":[");
    JConcept(in_.overall_interpretation);
    Raw("]");
  }
  Raw("}");
  sink_status_ = json_->ResourceText(json_buf_);
  if (sink_status_.ok()) sink_status_ = json_->EndEntry();
}

Status ReportStreamBuilder::Impl::Begin() {
  if (stage_ != Stage::kNew) {
    return Error(ErrorCode::kInternal, "Begin called twice");
  }
  if (in_.accession.value.empty()) {
    return Error(ErrorCode::kInvalidInput, "the accession is missing");
  }
  system_ = LabIdentifierSystem(in_, options_);
  issued_ = in_.issued.empty() ? options_.issued : in_.issued;
  if (Status s = BuildPatient(); !s.ok()) return s;
  json_buf_.clear();
  Raw(",\"subject\":{\"reference\":");
  Str(patient_ref_);
  Raw("}");
  if (!in_.effective.empty()) {
    Raw(",\"effectiveDateTime\":");
    Str(in_.effective);
  }
  if (!issued_.empty()) {
    Raw(",\"issued\":");
    Str(issued_);
  }
  json_subject_and_times_ = json_buf_.str();
  BuildSpecimen();
  BuildStudy();
  stage_ = Stage::kBegun;
  return Check();
}

Status ReportStreamBuilder::Impl::AddVariant(const VariantCall& call) {
  if (stage_ != Stage::kBegun) {
    return Error(ErrorCode::kInternal, "AddVariant outside Begin..Finish");
  }
  size_t index = keys_.size();
  if (Status s = BuildVariant(call, index); !s.ok()) return s;
  results_.AddVariant(call.classifications.size(), call.consequences.size());
  for (size_t j = 0; j < call.classifications.size(); ++j) {
    BuildClassification(call, index, j);
  }
  for (size_t j = 0; j < call.consequences.size(); ++j) {
    BuildConsequence(call, index, j);
  }
  return Check();
}

Status ReportStreamBuilder::Impl::AddPhaseRelation(
    const PhaseRelation& relation) {
  if (stage_ != Stage::kBegun) {
    return Error(ErrorCode::kInternal,
                 "AddPhaseRelation outside Begin..Finish");
  }
  if (Status s = BuildPhase(relation, phase_count_++); !s.ok()) return s;
  return Check();
}

Status ReportStreamBuilder::Impl::Finish() {
  if (stage_ != Stage::kBegun) {
    return Error(ErrorCode::kInternal, "Finish without Begin");
  }
  BuildReport();
  stage_ = Stage::kFinished;
  return Check();
}

std::string LabIdentifierSystem(const GenomicReportInput& input,
                                const BuildOptions& options) {
  std::string_view lab = !input.lab_name.empty() ? input.lab_name
                         : !input.lab_identifier.value.empty()
                             ? std::string_view(input.lab_identifier.value)
                             : std::string_view("default");
  std::string slug;
  for (char c : lab) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (ok) {
      slug.push_back(c);
    } else if (!slug.empty() && slug.back() != '-') {
      slug.push_back('-');
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.empty()) slug = "default";
  return options.identifier_system_prefix + slug;
}

std::string VariantKey(const VariantCall& call) {
  std::string key = call.chromosome + ":";
  if (call.start) key += std::to_string(*call.start);
  key += ":" + call.ref_allele + ":";
  key += call.alt_allele.empty() ? call.symbolic_alt : call.alt_allele;
  return key;
}

std::string NameBasedUrnUuid(std::string_view name) {
  // RFC 4122 URL namespace 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
  static constexpr char kNamespace[16] = {
      '\x6b', '\xa7', '\xb8', '\x11', '\x9d', '\xad', '\x11', '\xd1',
      '\x80', '\xb4', '\x00', '\xc0', '\x4f', '\xd4', '\x30', '\xc8'};
  Sha1 sha;
  sha.Update(std::string_view(kNamespace, 16));
  sha.Update(name);
  std::array<uint8_t, 20> h = sha.Final();
  h[6] = static_cast<uint8_t>((h[6] & 0x0f) | 0x50);
  h[8] = static_cast<uint8_t>((h[8] & 0x3f) | 0x80);
  static const char kHex[] = "0123456789abcdef";
  std::string out = "urn:uuid:";
  out.reserve(45);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[h[i] >> 4]);
    out.push_back(kHex[h[i] & 15]);
  }
  return out;
}

ReportStreamBuilder::ReportStreamBuilder(const GenomicReportInput& report,
                                         const BuildOptions& options,
                                         const fhir::Schema& schema,
                                         EntrySink sink)
    : impl_(std::make_unique<Impl>(report, options, schema, std::move(sink),
                                   nullptr)) {}
ReportStreamBuilder::ReportStreamBuilder(const GenomicReportInput& report,
                                         const BuildOptions& options,
                                         const fhir::Schema& schema,
                                         JsonEntrySink* sink)
    : impl_(std::make_unique<Impl>(report, options, schema, nullptr, sink)) {}
ReportStreamBuilder::~ReportStreamBuilder() = default;
Status ReportStreamBuilder::Begin() { return impl_->Begin(); }
Status ReportStreamBuilder::AddVariant(const VariantCall& call) {
  return impl_->AddVariant(call);
}
Status ReportStreamBuilder::AddPhaseRelation(const PhaseRelation& relation) {
  return impl_->AddPhaseRelation(relation);
}
Status ReportStreamBuilder::Finish() { return impl_->Finish(); }

Result<Node> BuildReportBundle(const GenomicReportInput& input,
                               const BuildOptions& options,
                               const fhir::Schema& schema) {
  const TypeInfo* bundle_type = schema.FindResourceType("Bundle");
  if (!bundle_type) {
    return Error(ErrorCode::kInternal, "FHIR definitions lack Bundle");
  }
  Node bundle("Bundle", bundle_type);
  bundle.set_resource(true);
  bundle.set_resource_type("Bundle");
  {
    const TypeInfo* chosen = nullptr;
    const fhir::ElementInfo* ei = bundle_type->FindByJsonName("type", &chosen);
    if (!ei || ei->types.empty()) {
      return Error(ErrorCode::kInternal, "FHIR definitions lack Bundle.type");
    }
    Node type(ei->name, ei->types[0]);
    type.set_def(ei);
    type.set_value("transaction", JsonKind::kString);
    bundle.AddChild(std::move(type));
  }
  ReportStreamBuilder builder(input, options, schema, [&](Node entry) {
    bundle.AddChild(std::move(entry));
    return Status::Ok();
  });
  if (Status s = builder.Begin(); !s.ok()) return s.error();
  for (const VariantCall& call : input.variants) {
    if (Status s = builder.AddVariant(call); !s.ok()) return s.error();
  }
  for (const PhaseRelation& p : input.phase_relations) {
    if (Status s = builder.AddPhaseRelation(p); !s.ok()) return s.error();
  }
  if (Status s = builder.Finish(); !s.ok()) return s.error();
  return bundle;
}

}  // namespace genogate::mappers

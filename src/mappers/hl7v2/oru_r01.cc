#include "mappers/hl7v2/oru_r01.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "mappers/hl7v2/values.h"

namespace genogate::mappers::hl7v2 {
namespace {

using internal::Quote;
using internal::ToCoding;

constexpr std::string_view kLoincUrl = "http://loinc.org";

// What a LOINC code in OBX-3 fills.
enum class Key {
  kGene,
  kHgvsC,
  kHgvsP,
  kHgvsG,
  kGenomicRefSeq,
  kTranscript,
  kRefAllele,
  kAltAllele,
  kExactStartEnd,
  kCoordSystem,
  kAllelicState,
  kSourceClass,
  kAssessment,
  kClinicalSignificance,
  kAlleleFrequency,
  kAlleleReadDepth,
  kCytogenetic,
  kChromosome,
  kBuild,
  kVariationCode,
  kDnaChangeType,
  kCopyNumber,
  kOverallInterpretation,
  kReportText,
  kRegionRanges,
  kRegionDescription,
  kGeneMutationsTested,
};

// The value OBX-5 must carry for a code.
enum class Want { kCoded, kText, kNumber, kInteger, kRange };

enum class Scope { kVariant, kShared, kReport, kRegion };

struct CodeInfo {
  std::string_view loinc;
  Key key;
  Want want;
  Scope scope;
  std::string_view name;
  bool repeats = false;  // OBX-5 repetitions are all meaningful
};

constexpr std::array<CodeInfo, 27> kCodes = {{
    {"48018-6", Key::kGene, Want::kCoded, Scope::kShared, "gene studied"},
    {"48004-6", Key::kHgvsC, Want::kText, Scope::kVariant,
     "DNA change (c.HGVS)"},
    {"48005-3", Key::kHgvsP, Want::kText, Scope::kVariant,
     "amino acid change (p.HGVS)"},
    {"81290-9", Key::kHgvsG, Want::kText, Scope::kVariant,
     "genomic DNA change (g.HGVS)"},
    {"48013-7", Key::kGenomicRefSeq, Want::kText, Scope::kShared,
     "genomic reference sequence"},
    {"51958-7", Key::kTranscript, Want::kText, Scope::kShared,
     "transcript reference sequence"},
    {"69547-8", Key::kRefAllele, Want::kText, Scope::kVariant,
     "genomic ref allele"},
    {"69551-0", Key::kAltAllele, Want::kText, Scope::kVariant,
     "genomic alt allele"},
    {"81254-5", Key::kExactStartEnd, Want::kRange, Scope::kVariant,
     "genomic allele start-end"},
    {"92822-6", Key::kCoordSystem, Want::kCoded, Scope::kShared,
     "genomic coordinate system"},
    {"53034-5", Key::kAllelicState, Want::kCoded, Scope::kVariant,
     "allelic state"},
    {"48002-0", Key::kSourceClass, Want::kCoded, Scope::kShared,
     "genomic source class"},
    {"69548-6", Key::kAssessment, Want::kCoded, Scope::kVariant,
     "genetic variant assessment"},
    {"53037-8", Key::kClinicalSignificance, Want::kCoded, Scope::kVariant,
     "genetic variation clinical significance", true},
    {"81258-6", Key::kAlleleFrequency, Want::kNumber, Scope::kVariant,
     "sample variant allelic frequency"},
    {"82121-5", Key::kAlleleReadDepth, Want::kInteger, Scope::kVariant,
     "allelic read depth"},
    {"48001-2", Key::kCytogenetic, Want::kCoded, Scope::kShared,
     "cytogenetic location"},
    {"48000-4", Key::kChromosome, Want::kCoded, Scope::kShared, "chromosome"},
    {"62374-4", Key::kBuild, Want::kCoded, Scope::kShared,
     "human reference sequence assembly version"},
    {"81252-9", Key::kVariationCode, Want::kCoded, Scope::kVariant,
     "discrete genetic variant", true},
    {"48019-4", Key::kDnaChangeType, Want::kCoded, Scope::kVariant,
     "DNA change type"},
    {"82155-3", Key::kCopyNumber, Want::kInteger, Scope::kVariant,
     "genomic structural variant copy number"},
    {"51968-6", Key::kOverallInterpretation, Want::kCoded, Scope::kReport,
     "genetic disease analysis overall interpretation"},
    {"51969-4", Key::kReportText, Want::kText, Scope::kReport,
     "genetic analysis report"},
    {"51959-5", Key::kRegionRanges, Want::kRange, Scope::kRegion,
     "ranges of DNA sequence examined", true},
    {"81293-3", Key::kRegionDescription, Want::kText, Scope::kRegion,
     "description of ranges of DNA sequences examined"},
    {"36908-2", Key::kGeneMutationsTested, Want::kCoded, Scope::kRegion,
     "gene mutations tested for", true},
}};

const CodeInfo* LookUp(const Coding& code) {
  if (code.system != kLoincUrl && !code.system.empty()) return nullptr;
  for (const CodeInfo& c : kCodes) {
    if (c.loinc == code.code) return &c;
  }
  return nullptr;
}

// HL7 table 0125 value types, and how OBX-5 of each is checked.
enum class VType {
  kCoded,
  kText,
  kNumber,
  kRange,
  kStructNum,
  kDate,
  kDateTime,
  kOther
};

std::optional<VType> ValueType(std::string_view t) {
  if (t == "CWE" || t == "CE" || t == "CNE" || t == "CF") return VType::kCoded;
  if (t == "ST" || t == "TX" || t == "FT") return VType::kText;
  if (t == "NM") return VType::kNumber;
  if (t == "NR") return VType::kRange;
  if (t == "SN") return VType::kStructNum;
  if (t == "DT") return VType::kDate;
  if (t == "TS" || t == "DTM") return VType::kDateTime;
  static constexpr std::array<std::string_view, 24> kOthers = {
      "AD",  "CK",  "CN",  "CP",  "CX", "ED", "ID",  "IS",
      "MA",  "MO",  "NA",  "PN",  "RP", "TM", "TN",  "XAD",
      "XCN", "XON", "XPN", "XTN", "DR", "CQ", "SPS", "EI"};
  for (std::string_view o : kOthers) {
    if (o == t) return VType::kOther;
  }
  return std::nullopt;
}

std::string_view WantName(Want w) {
  switch (w) {
    case Want::kCoded:
      return "a coded value (CWE)";
    case Want::kText:
      return "a text or coded value";
    case Want::kNumber:
      return "a number (NM)";
    case Want::kInteger:
      return "a whole number (NM)";
    case Want::kRange:
      return "a numeric range (NR)";
  }
  return "a value";
}

bool IsSubId(std::string_view s) {
  if (s.empty()) return false;
  bool need_digit = true;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      need_digit = false;
    } else if (c == '.' && !need_digit) {
      need_digit = true;
    } else {
      return false;
    }
  }
  return !need_digit;
}

// LOINC answer list LL2938-0 (chromosome 1..22, X, Y).
constexpr std::array<std::pair<std::string_view, std::string_view>, 24>
    kChromosomeCodes = {{
        {"LA21254-0", "1"},  {"LA21255-7", "2"},  {"LA21256-5", "3"},
        {"LA21257-3", "4"},  {"LA21258-1", "5"},  {"LA21259-9", "6"},
        {"LA21260-7", "7"},  {"LA21261-5", "8"},  {"LA21262-3", "9"},
        {"LA21263-1", "10"}, {"LA21264-9", "11"}, {"LA21265-6", "12"},
        {"LA21266-4", "13"}, {"LA21267-2", "14"}, {"LA21268-0", "15"},
        {"LA21269-8", "16"}, {"LA21270-6", "17"}, {"LA21271-4", "18"},
        {"LA21272-2", "19"}, {"LA21273-0", "20"}, {"LA21274-8", "21"},
        {"LA21275-5", "22"}, {"LA21276-3", "X"},  {"LA21277-1", "Y"},
    }};

std::string ChromosomeFromText(std::string_view t);

// A chromosome CWE: the LL2938-0 code, else its text, else a bare name.
std::string ChromosomeFromCoding(const Coding& c) {
  for (const auto& [code, chr] : kChromosomeCodes) {
    if (c.code == code) return std::string(chr);
  }
  std::string from_text = ChromosomeFromText(c.display);
  return from_text.empty() ? ChromosomeFromText(c.code) : from_text;
}

std::string ChromosomeFromText(std::string_view t) {
  auto strip = [&t](std::string_view p) {
    if (t.size() > p.size()) {
      bool eq = true;
      for (size_t i = 0; i < p.size(); ++i) {
        char a = t[i], b = p[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        eq = eq && a == b;
      }
      if (eq) t.remove_prefix(p.size());
    }
  };
  strip("chromosome ");
  strip("chr");
  if (t == "M") return "MT";
  if (t == "X" || t == "Y" || t == "MT") return std::string(t);
  auto n = internal::ParseInteger(t);
  if (n && *n >= 1 && *n <= 22 && t[0] != '+' && t[0] != '-') {
    return std::to_string(*n);
  }
  return "";
}

// "NC_000017.11" -> "17"; "" if not a human chromosome RefSeq.
std::string ChromosomeFromRefSeq(std::string_view acc) {
  if (acc.substr(0, 10) == "NC_012920.") return "MT";
  if (acc.substr(0, 7) != "NC_0000" || acc.size() < 10 || acc[9] != '.') {
    return "";
  }
  auto n = internal::ParseInteger(acc.substr(7, 2));
  if (!n) return "";
  if (*n >= 1 && *n <= 22) return std::to_string(*n);
  if (*n == 23) return "X";
  if (*n == 24) return "Y";
  return "";
}

std::string BuildFromCoding(const Coding& c) {
  if (c.code == "LA14029-5") return "GRCh37";
  if (c.code == "LA26806-2") return "GRCh38";
  std::string_view t = c.display.empty() ? c.code : c.display;
  if (t.substr(0, 6) == "GRCh37" || t == "hg19") return "GRCh37";
  if (t.substr(0, 6) == "GRCh38" || t == "hg38") return "GRCh38";
  return "";
}

enum class Coord { kZeroInterval, kZeroCharacter, kOneCharacter };

std::optional<Coord> CoordFromCoding(const Coding& c) {
  if (c.code == "LA30100-4") return Coord::kZeroInterval;
  if (c.code == "LA30101-2") return Coord::kZeroCharacter;
  if (c.code == "LA30102-0") return Coord::kOneCharacter;
  std::string_view t = c.display.empty() ? c.code : c.display;
  if (t == "0-based interval counting") return Coord::kZeroInterval;
  if (t == "0-based character counting") return Coord::kZeroCharacter;
  if (t == "1-based character counting") return Coord::kOneCharacter;
  return std::nullopt;
}

std::string_view CoordName(Coord c) {
  switch (c) {
    case Coord::kZeroInterval:
      return "0-based interval counting";
    case Coord::kZeroCharacter:
      return "0-based character counting";
    case Coord::kOneCharacter:
      return "1-based character counting";
  }
  return "";
}

// [start, end] in `c` -> 0-based interval counting.
std::pair<int64_t, int64_t> ToZeroInterval(Coord c, int64_t start,
                                           int64_t end) {
  switch (c) {
    case Coord::kZeroInterval:
      return {start, end};
    case Coord::kZeroCharacter:
      return {start, end + 1};
    case Coord::kOneCharacter:
      return {start - 1, end};
  }
  return {start, end};
}

// One OBX that passed the generic checks.
struct Obs {
  const Segment* seg = nullptr;
  std::string type;    // OBX-2
  Coding code;         // OBX-3
  std::string sub_id;  // OBX-4
  std::string group;   // first number of the sub-ID, "" if none
  const CodeInfo* info = nullptr;
  std::vector<Element> values;  // OBX-5 repetitions (FT/TX: one)
};

struct OrderSegments {
  const Segment* orc = nullptr;
  const Segment* obr = nullptr;
  const Segment* pid = nullptr;
  std::vector<const Segment*> obx;
  std::vector<const Segment*> spm;
};

class Reader {
 public:
  Reader(const Message& msg, const OruReadOptions& options,
         std::vector<Problem>* problems)
      : msg_(msg), options_(options), problems_(problems) {}

  void Run(std::vector<OruReport>* reports);

 private:
  void Add(ErrorLocation where, Hl7Error code, ProblemSeverity sev,
           std::string reason) {
    Problem p;
    p.where = std::move(where);
    p.code = code;
    p.severity = sev;
    p.reason = std::move(reason);
    problems_->push_back(std::move(p));
  }
  void Error(ErrorLocation where, Hl7Error code, std::string reason) {
    Add(std::move(where), code, ProblemSeverity::kError, std::move(reason));
  }
  void Warn(ErrorLocation where, Hl7Error code, std::string reason) {
    Add(std::move(where), code, ProblemSeverity::kWarning, std::move(reason));
  }

  // Unescaped text of `e`, reporting broken escapes at `where`.
  std::string Text(const Element& e, const ErrorLocation& where);
  Coding CodingOf(const Element& e, const ErrorLocation& where,
                  bool prefer_loinc = false);

  std::vector<OrderSegments> Structure();
  void ReadOrder(const OrderSegments& order, OruReport* out);
  void ReadPatient(const Segment& pid, GenomicReportInput* r);
  void ReadSpecimen(const Segment& spm, GenomicReportInput* r);
  std::optional<Obs> CheckObx(const Segment& obx);
  bool CheckValue(const Segment& obx, VType vt, std::string_view type,
                  const Element& value, size_t rep);
  std::string DateTime(const Element& e, const ErrorLocation& where,
                       std::string_view what);
  IdentifierValue Identifier(const Element& ei, const ErrorLocation& where);

  // Value extraction for a mapped code; nullopt after reporting a problem.
  std::optional<Coding> CodedValue(const Obs& o, size_t rep = 1);
  std::optional<std::string> TextValue(const Obs& o);
  std::optional<std::string> NumberValue(const Obs& o);
  std::optional<int64_t> IntegerValue(const Obs& o);
  std::optional<std::pair<int64_t, int64_t>> RangeValue(const Obs& o,
                                                        size_t rep = 1);
  ExtraComponent Extra(const Obs& o);
  void WantError(const Obs& o);

  const Message& msg_;
  const OruReadOptions& options_;
  std::vector<Problem>* problems_;
};

std::string Reader::Text(const Element& e, const ErrorLocation& where) {
  EscapeStatus st = EscapeStatus::kOk;
  std::string v = e.Value(&st);
  switch (st) {
    case EscapeStatus::kOk:
      break;
    case EscapeStatus::kUnknownSequence:
      Warn(where, Hl7Error::kDataType,
           "unknown escape sequence kept as it stands");
      break;
    case EscapeStatus::kUnterminated:
      Error(where, Hl7Error::kDataType,
            "escape sequence without its closing escape character");
      break;
    case EscapeStatus::kBadHex:
      Error(where, Hl7Error::kDataType,
            "\\X..\\ escape sequence is not an even number of hex digits");
      break;
  }
  return v;
}

Coding Reader::CodingOf(const Element& e, const ErrorLocation& where,
                        bool prefer_loinc) {
  // Report broken escapes once for the whole element.
  Text(e, where);
  return ToCoding(e, prefer_loinc);
}

std::string Reader::DateTime(const Element& e, const ErrorLocation& where,
                             std::string_view what) {
  std::string v = Text(e.Component(1), where);
  if (v.empty()) return "";
  bool dropped = false;
  auto dt = internal::ToFhirDateTime(v, options_.default_utc_offset, &dropped);
  if (!dt) {
    Error(where, Hl7Error::kDataType,
          std::string(what) +
              " is not an HL7 date/time (YYYY[MM[DD[HH[MM[SS]]]]][+/-ZZZZ])");
    return "";
  }
  if (dropped) {
    Warn(where, Hl7Error::kDataType,
         std::string(what) +
             " has a time of day but no UTC offset; only the date is kept");
  }
  return *dt;
}

IdentifierValue Reader::Identifier(const Element& ei,
                                   const ErrorLocation& where) {
  // EI: entity id ^ namespace id ^ universal id ^ universal id type; also
  // used with sub-components inside EIP (SPM-2).
  IdentifierValue id;
  bool subs = ei.level() == Element::Level::kComponent;
  auto part = [&](size_t n) {
    return Text(subs ? ei.Sub(n) : ei.Component(n), where);
  };
  id.value = part(1);
  std::string ns = part(2), uid = part(3), type = part(4);
  if (!uid.empty() && (type == "ISO" || type.empty()) &&
      uid.find_first_not_of("0123456789.") == std::string::npos) {
    id.system = "urn:oid:" + uid;
  } else if (!uid.empty() && (type == "URI" || type == "URL")) {
    id.system = uid;
  } else {
    id.system = internal::CodingSystemUrl(ns);
  }
  return id;
}

std::vector<Problem> CheckHeaderImpl(const Message& msg) {
  std::vector<Problem> out;
  const Segment* msh = msg.Find("MSH");
  if (msh == nullptr) return out;  // ParseEr7 guarantees one
  auto reject = [&out, msh](size_t field, size_t comp, Hl7Error code,
                            std::string reason) {
    Problem p;
    p.where = msh->Where(field, comp);
    p.code = code;
    p.reason = std::move(reason);
    p.rejects_message = true;
    out.push_back(std::move(p));
  };
  Element type = msh->Field(9);
  std::string t = type.Component(1).Value(), ev = type.Component(2).Value(),
              st = type.Component(3).Value();
  if (t.empty()) {
    reject(9, 1, Hl7Error::kRequiredFieldMissing,
           "MSH-9 (message type) is missing");
  } else if (t != "ORU") {
    reject(9, 1, Hl7Error::kUnsupportedMessageType,
           "message type " + Quote(t, 10) + " is not supported (only ORU^R01)");
  } else if (ev != "R01") {
    reject(9, 2,
           ev.empty() ? Hl7Error::kRequiredFieldMissing
                      : Hl7Error::kUnsupportedEventCode,
           ev.empty() ? std::string("MSH-9.2 (trigger event) is missing")
                      : "trigger event " + Quote(ev, 10) +
                            " is not supported (only ORU^R01)");
  } else if (!st.empty() && st != "ORU_R01") {
    reject(9, 3, Hl7Error::kUnsupportedMessageType,
           "message structure " + Quote(st, 10) +
               " is not supported (only ORU_R01)");
  }
  if (msh->Field(10).empty()) {
    reject(10, 0, Hl7Error::kRequiredFieldMissing,
           "MSH-10 (message control id) is missing");
  }
  std::string pid = msh->Field(11).Component(1).Value();
  if (pid.empty()) {
    reject(11, 1, Hl7Error::kRequiredFieldMissing,
           "MSH-11 (processing id) is missing");
  } else if (pid != "P" && pid != "D" && pid != "T") {
    reject(11, 1, Hl7Error::kUnsupportedProcessingId,
           "processing id " + Quote(pid, 10) + " is not supported (P, D or T)");
  }
  std::string v = msh->Field(12).Component(1).Value();
  static constexpr std::array<std::string_view, 11> kVersions = {
      "2.3", "2.3.1", "2.4", "2.5",   "2.5.1", "2.6",
      "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"};
  if (v.empty()) {
    reject(12, 1, Hl7Error::kRequiredFieldMissing,
           "MSH-12 (version id) is missing");
  } else if (std::find(kVersions.begin(), kVersions.end(), v) ==
             kVersions.end()) {
    reject(12, 1, Hl7Error::kUnsupportedVersionId,
           "version " + Quote(v, 12) + " is not supported (2.3 to 2.8.2)");
  }
  return out;
}

std::vector<OrderSegments> Reader::Structure() {
  enum class State {
    kHeader,
    kPatient,
    kVisit,
    kOrc,
    kOrder,
    kTiming,
    kObs,
    kSpecimen,
    kEnd
  };
  State state = State::kHeader;
  State before_orc = State::kHeader;
  std::vector<OrderSegments> orders;
  const Segment* pid = nullptr;
  const Segment* pending_orc = nullptr;
  bool have_patient_segment = false;
  auto seq_error = [this](const Segment& s, std::string reason) {
    Error(s.Where(), Hl7Error::kSegmentSequence, std::move(reason));
  };
  const std::vector<Segment>& segs = msg_.segments();
  for (size_t i = 1; i < segs.size(); ++i) {
    const Segment& s = segs[i];
    std::string_view id = s.id();
    if (id[0] == 'Z' || id == "PRT") continue;
    if (state == State::kOrc && id != "OBR") {
      seq_error(*pending_orc, "ORC must be followed by OBR");
      pending_orc = nullptr;
      state = before_orc;
    }
    if (id == "MSH") {
      seq_error(s,
                "a second MSH: one message per call (batches are not "
                "supported)");
      continue;
    }
    if (state == State::kEnd) {
      seq_error(s, std::string(id) + " after DSC");
      continue;
    }
    auto in = [state](std::initializer_list<State> ok) {
      return std::find(ok.begin(), ok.end(), state) != ok.end();
    };
    if (id == "SFT") {
      if (!in({State::kHeader})) seq_error(s, "SFT must follow MSH");
    } else if (id == "PID") {
      pid = &s;
      have_patient_segment = true;
      state = State::kPatient;
    } else if (id == "PD1" || id == "NK1") {
      if (!in({State::kPatient})) {
        seq_error(s, std::string(id) + " must follow PID");
      }
    } else if (id == "PV1") {
      if (in({State::kPatient})) {
        state = State::kVisit;
      } else {
        seq_error(s, "PV1 must follow PID");
      }
    } else if (id == "PV2") {
      if (!in({State::kVisit})) seq_error(s, "PV2 must follow PV1");
    } else if (id == "NTE") {
      if (in({State::kHeader, State::kVisit, State::kSpecimen})) {
        seq_error(s, "NTE is allowed after PID, OBR or OBX only");
      }
    } else if (id == "ORC") {
      before_orc = state;
      pending_orc = &s;
      state = State::kOrc;
    } else if (id == "OBR") {
      OrderSegments o;
      o.orc = pending_orc;
      o.obr = &s;
      o.pid = pid;
      orders.push_back(std::move(o));
      pending_orc = nullptr;
      state = State::kOrder;
    } else if (id == "TQ1" || id == "TQ2" || id == "CTD") {
      if (in({State::kOrder, State::kTiming})) {
        state = State::kTiming;
      } else {
        seq_error(s, std::string(id) + " must follow OBR");
      }
    } else if (id == "OBX") {
      if (in({State::kOrder, State::kTiming, State::kObs})) {
        orders.back().obx.push_back(&s);
        state = State::kObs;
      } else if (state == State::kSpecimen) {
        // Specimen observations: not genetic results.
      } else {
        seq_error(s,
                  "OBX before any OBR: OBX must be in an "
                  "ORDER_OBSERVATION group");
      }
    } else if (id == "FT1" || id == "CTI") {
      if (!in({State::kOrder, State::kTiming, State::kObs})) {
        seq_error(s, std::string(id) + " must follow OBR or OBX");
      }
    } else if (id == "SPM") {
      if (in({State::kOrder, State::kTiming, State::kObs, State::kSpecimen})) {
        orders.back().spm.push_back(&s);
        state = State::kSpecimen;
      } else {
        seq_error(s,
                  "SPM before any OBR: SPM must be in an "
                  "ORDER_OBSERVATION group");
      }
    } else if (id == "DSC") {
      state = State::kEnd;
    } else {
      Warn(s.Where(), Hl7Error::kSegmentSequence,
           std::string(id) + " is not part of ORU^R01; ignored");
    }
  }
  if (state == State::kOrc && pending_orc != nullptr) {
    seq_error(*pending_orc, "ORC must be followed by OBR");
  }
  if (orders.empty()) {
    ErrorLocation w;
    w.segment = "OBR";
    w.sequence = 1;
    Error(w, Hl7Error::kSegmentSequence,
          "no OBR segment: ORU^R01 needs at least one ORDER_OBSERVATION");
  }
  if (!have_patient_segment) {
    ErrorLocation w;
    w.segment = "PID";
    w.sequence = 1;
    Error(w, Hl7Error::kSegmentSequence,
          "no PID segment: a genetic report needs a patient");
  }
  return orders;
}

void Reader::ReadPatient(const Segment& pid, GenomicReportInput* r) {
  // PID-3: prefer the repetition with identifier type MR.
  Element ids = pid.Field(3);
  size_t chosen = 0;
  std::vector<Element> id_reps = ids.Repetitions();
  for (size_t k = 1; k <= id_reps.size(); ++k) {
    const Element& rep = id_reps[k - 1];
    if (rep.Component(1).empty()) continue;
    if (chosen == 0) chosen = k;
    if (rep.Component(5).raw() == "MR") {
      chosen = k;
      break;
    }
  }
  if (chosen == 0) {
    Error(pid.Where(3, 1), Hl7Error::kRequiredFieldMissing,
          "PID-3 (patient identifier list) has no identifier");
  } else {
    ErrorLocation w = pid.Where(3);
    w.repetition = chosen;
    const Element& cx = id_reps[chosen - 1];
    r->patient.value = Text(cx.Component(1), w);
    Element hd = cx.Component(4);
    std::string ns = Text(hd.Sub(1), w), uid = Text(hd.Sub(2), w),
                type = Text(hd.Sub(3), w);
    if (!uid.empty() && type == "ISO") {
      r->patient.system = "urn:oid:" + uid;
    } else if (!uid.empty() && (type == "URI" || type == "URL")) {
      r->patient.system = uid;
    } else {
      r->patient.system = internal::CodingSystemUrl(ns);
    }
  }
  // PID-5: family ^ given ^ middle ... -> "Given Middle Family".
  Element xpn = pid.Field(5).Repetition(1);
  std::string family = Text(xpn.Component(1).Sub(1), pid.Where(5, 1));
  std::string given = Text(xpn.Component(2), pid.Where(5, 2));
  std::string middle = Text(xpn.Component(3), pid.Where(5, 3));
  std::string name;
  for (const std::string* p : {&given, &middle, &family}) {
    if (p->empty()) continue;
    if (!name.empty()) name += ' ';
    name += *p;
  }
  r->patient_name = std::move(name);
  std::string dob = Text(pid.Field(7).Component(1), pid.Where(7, 1));
  if (!dob.empty()) {
    auto d = internal::ToFhirDate(dob);
    if (d) {
      r->patient_birth_date = *d;
    } else {
      Error(pid.Where(7, 1), Hl7Error::kDataType,
            "PID-7 (date of birth) is not an HL7 date");
    }
  }
  std::string sex = Text(pid.Field(8).Component(1), pid.Where(8, 1));
  if (sex == "M") {
    r->patient_gender = "male";
  } else if (sex == "F") {
    r->patient_gender = "female";
  } else if (sex == "O" || sex == "A" || sex == "N") {
    r->patient_gender = "other";
  } else if (sex == "U") {
    r->patient_gender = "unknown";
  } else if (!sex.empty()) {
    Warn(pid.Where(8, 1), Hl7Error::kTableValueNotFound,
         "PID-8 (administrative sex) is not in HL7 table 0001; left out");
  }
}

void Reader::ReadSpecimen(const Segment& spm, GenomicReportInput* r) {
  Element eip = spm.Field(2);
  Element filler = eip.Component(2);
  Element chosen = filler.empty() ? eip.Component(1) : filler;
  if (!chosen.empty()) {
    r->specimen = Identifier(chosen, spm.Where(2, filler.empty() ? 1 : 2));
  }
  if (!spm.Field(4).empty()) {
    r->specimen_type = CodingOf(spm.Field(4).Repetition(1), spm.Where(4));
    if (r->specimen_type.system.empty() && !r->specimen_type.code.empty()) {
      r->specimen_type.system = "http://terminology.hl7.org/CodeSystem/v2-0487";
    }
  } else {
    Error(spm.Where(4), Hl7Error::kRequiredFieldMissing,
          "SPM-4 (specimen type) is missing");
  }
  r->specimen_collected = DateTime(spm.Field(17), spm.Where(17, 1),
                                   "SPM-17 (specimen collection date/time)");
}

bool Reader::CheckValue(const Segment& obx, VType vt, std::string_view type,
                        const Element& value, size_t rep) {
  ErrorLocation w = obx.Where(5);
  w.repetition = rep;
  auto bad = [&](size_t comp, std::string_view v, std::string_view what) {
    ErrorLocation at = w;
    at.component = comp;
    Error(at, Hl7Error::kDataType,
          Quote(v) + " is not " + std::string(what) + " (OBX-2 is " +
              std::string(type) + ")");
    return false;
  };
  switch (vt) {
    case VType::kNumber: {
      std::string v = Text(value, w);
      if (!internal::IsNumeric(v)) return bad(0, v, "a number");
      return true;
    }
    case VType::kRange: {
      std::string lo = Text(value.Component(1), w);
      std::string hi = Text(value.Component(2), w);
      if (lo.empty() && hi.empty())
        return bad(0, value.raw(), "a numeric range");
      if (!lo.empty() && !internal::IsNumeric(lo))
        return bad(1, lo, "a number");
      if (!hi.empty() && !internal::IsNumeric(hi))
        return bad(2, hi, "a number");
      return true;
    }
    case VType::kStructNum: {
      std::string cmp = Text(value.Component(1), w);
      std::string n1 = Text(value.Component(2), w);
      std::string sep = Text(value.Component(3), w);
      std::string n2 = Text(value.Component(4), w);
      static constexpr std::array<std::string_view, 7> kCmp = {
          "", ">", "<", ">=", "<=", "=", "<>"};
      if (std::find(kCmp.begin(), kCmp.end(), cmp) == kCmp.end()) {
        return bad(1, cmp, "a comparator (>, <, >=, <=, =, <>)");
      }
      if (!n1.empty() && !internal::IsNumeric(n1))
        return bad(2, n1, "a number");
      static constexpr std::array<std::string_view, 6> kSep = {"",  "-", "+",
                                                               "/", ".", ":"};
      if (std::find(kSep.begin(), kSep.end(), sep) == kSep.end()) {
        return bad(3, sep, "a separator (-, +, /, ., :)");
      }
      if (!n2.empty() && !internal::IsNumeric(n2))
        return bad(4, n2, "a number");
      if (n1.empty() && n2.empty())
        return bad(0, value.raw(), "a structured numeric");
      return true;
    }
    case VType::kDate: {
      std::string v = Text(value, w);
      if (!internal::IsHl7Date(v))
        return bad(0, v, "an HL7 date (YYYY[MM[DD]])");
      return true;
    }
    case VType::kDateTime: {
      std::string v = Text(value.Component(1), w);
      if (!internal::IsHl7DateTime(v)) {
        return bad(1, v, "an HL7 date/time");
      }
      return true;
    }
    case VType::kCoded: {
      std::string code = Text(value.Component(1), w);
      std::string text = value.Component(2).Value();
      std::string alt = value.Component(4).Value();
      if (type == "CNE" && code.empty()) {
        ErrorLocation at = w;
        at.component = 1;
        Error(at, Hl7Error::kRequiredFieldMissing,
              "CNE value has no identifier (component 1)");
        return false;
      }
      if (code.empty() && text.empty() && alt.empty()) {
        Error(w, Hl7Error::kDataType,
              "coded value has neither identifier nor text (OBX-2 is " +
                  std::string(type) + ")");
        return false;
      }
      return true;
    }
    case VType::kText:
    case VType::kOther:
      Text(value, w);
      return true;
  }
  return true;
}

std::optional<Obs> Reader::CheckObx(const Segment& obx) {
  Obs o;
  o.seg = &obx;
  o.type = Text(obx.Field(2).Component(1), obx.Where(2));
  Element code = obx.Field(3);
  if (code.Component(1).empty() && code.Component(4).empty()) {
    Error(obx.Where(3), Hl7Error::kRequiredFieldMissing,
          "OBX-3 (observation identifier) is missing");
    return std::nullopt;
  }
  o.code = CodingOf(code.Repetition(1), obx.Where(3), /*prefer_loinc=*/true);
  if (o.code.code.empty()) {
    Error(obx.Where(3, 1), Hl7Error::kRequiredFieldMissing,
          "OBX-3 (observation identifier) has no code");
    return std::nullopt;
  }
  std::string status = obx.Field(11).Component(1).Value();
  if (status == "D" || status == "W" || status == "X") {
    return std::nullopt;  // deleted / wrong / cannot be obtained
  }
  o.sub_id = Text(obx.Field(4), obx.Where(4));
  if (!o.sub_id.empty()) {
    if (!IsSubId(o.sub_id)) {
      Error(obx.Where(4), Hl7Error::kDataType,
            "sub-ID " + Quote(o.sub_id, 20) +
                " is not a dotted number (such as 1 or 1.2)");
      return std::nullopt;
    }
    o.group = o.sub_id.substr(0, o.sub_id.find('.'));
  }
  Element value = obx.Field(5);
  if (value.empty() || value.is_null()) {
    if (status == "F" || status == "C" || status == "P" || status.empty()) {
      Error(obx.Where(5), Hl7Error::kRequiredFieldMissing,
            "OBX-5 (observation value) is missing");
    }
    return std::nullopt;
  }
  if (o.type.empty()) {
    Error(obx.Where(2), Hl7Error::kRequiredFieldMissing,
          "OBX-2 (value type) is missing while OBX-5 has a value");
    return std::nullopt;
  }
  std::optional<VType> vt = ValueType(o.type);
  if (!vt) {
    Error(obx.Where(2), Hl7Error::kTableValueNotFound,
          "value type " + Quote(o.type, 10) + " is not in HL7 table 0125");
    return std::nullopt;
  }
  if (o.type == "FT" || o.type == "TX") {
    o.values.push_back(value);
  } else {
    o.values = value.Repetitions();
  }
  for (size_t r = 1; r <= o.values.size(); ++r) {
    if (!CheckValue(obx, *vt, o.type, o.values[r - 1],
                    o.values.size() == 1 ? 0 : r)) {
      return std::nullopt;
    }
  }
  o.info = LookUp(o.code);
  return o;
}

void Reader::WantError(const Obs& o) {
  Error(o.seg->Where(5), Hl7Error::kDataType,
        std::string(o.info->loinc) + " (" + std::string(o.info->name) +
            ") needs " + std::string(WantName(o.info->want)) + ", OBX-2 is " +
            o.type);
}

std::optional<Coding> Reader::CodedValue(const Obs& o, size_t rep) {
  const Element& v = o.values[rep - 1];
  std::optional<VType> vt = ValueType(o.type);
  if (vt == VType::kCoded) return ToCoding(v);
  if (vt == VType::kText) {
    Coding c;
    c.display = v.Value();
    return c;
  }
  WantError(o);
  return std::nullopt;
}

std::optional<std::string> Reader::TextValue(const Obs& o) {
  std::optional<VType> vt = ValueType(o.type);
  Element v = o.seg->Field(5);
  if (vt == VType::kCoded) {
    Coding c = ToCoding(v.Repetition(1));
    return c.code.empty() ? c.display : c.code;
  }
  if (vt == VType::kText) return v.Value();
  WantError(o);
  return std::nullopt;
}

std::optional<std::string> Reader::NumberValue(const Obs& o) {
  std::string v = o.seg->Field(5).Repetition(1).Value();
  if ((o.type == "NM" || o.type == "ST") && internal::IsNumeric(v)) return v;
  if (o.type == "ST") {
    Error(o.seg->Where(5), Hl7Error::kDataType,
          Quote(v) + " is not a number (" + std::string(o.info->loinc) +
              " needs NM)");
    return std::nullopt;
  }
  WantError(o);
  return std::nullopt;
}

std::optional<int64_t> Reader::IntegerValue(const Obs& o) {
  auto v = NumberValue(o);
  if (!v) return std::nullopt;
  auto n = internal::ParseInteger(*v);
  if (!n || *n < 0) {
    Error(o.seg->Where(5), Hl7Error::kDataType,
          Quote(*v) + " is not a whole number (" + std::string(o.info->loinc) +
              " " + std::string(o.info->name) + ")");
    return std::nullopt;
  }
  return n;
}

std::optional<std::pair<int64_t, int64_t>> Reader::RangeValue(const Obs& o,
                                                              size_t rep) {
  const Element& v = o.values[rep - 1];
  std::string lo, hi;
  if (o.type == "NR") {
    lo = v.Component(1).Value();
    hi = v.Component(2).Value();
  } else if (o.type == "SN" && v.Component(3).Value() == "-") {
    lo = v.Component(2).Value();
    hi = v.Component(4).Value();
  } else {
    WantError(o);
    return std::nullopt;
  }
  if (hi.empty()) hi = lo;  // a single position
  auto a = internal::ParseInteger(lo);
  auto b = internal::ParseInteger(hi);
  ErrorLocation w = o.seg->Where(5);
  if (rep > 1) w.repetition = rep;
  if (!a || !b || *a < 0 || *b < 0) {
    Error(w, Hl7Error::kDataType,
          Quote(v.raw()) + " is not a range of whole positions (" +
              std::string(o.info->loinc) + " " + std::string(o.info->name) +
              ")");
    return std::nullopt;
  }
  if (*b < *a) {
    Error(w, Hl7Error::kDataType,
          Quote(v.raw()) + ": end is before start (" +
              std::string(o.info->loinc) + ")");
    return std::nullopt;
  }
  return std::make_pair(*a, *b);
}

ExtraComponent Reader::Extra(const Obs& o) {
  ExtraComponent e;
  e.code = o.code;
  Element v = o.seg->Field(5);
  std::optional<VType> vt = ValueType(o.type);
  if (vt == VType::kCoded) {
    e.value_coding = ToCoding(v.Repetition(1));
  } else if (vt == VType::kNumber) {
    e.value_quantity = v.Value();
    Element unit = o.seg->Field(6);
    e.value_unit = unit.Component(1).Value();
  } else {
    e.value_string = v.Value();
  }
  return e;
}

struct RegionInfo {
  std::string chromosome;
  std::optional<Coord> coord;
  std::vector<std::pair<const Obs*, size_t>> ranges;  // obs, repetition
  std::string name;
};

void Reader::ReadOrder(const OrderSegments& order, OruReport* out) {
  GenomicReportInput& r = out->input;
  const Segment& obr = *order.obr;
  out->source_location = obr.Where().ToString();
  const Segment* msh = msg_.Find("MSH");
  {
    Element hd = msh->Field(4);
    r.lab_name = Text(hd.Component(1), msh->Where(4, 1));
    std::string uid = Text(hd.Component(2), msh->Where(4, 2));
    std::string type = Text(hd.Component(3), msh->Where(4, 3));
    if (!uid.empty() && type == "ISO") {
      r.lab_identifier.system = "urn:ietf:rfc:3986";
      r.lab_identifier.value = "urn:oid:" + uid;
    } else if (!uid.empty() && type == "CLIA") {
      r.lab_identifier.system = "urn:oid:2.16.840.1.113883.4.7";
      r.lab_identifier.value = uid;
    }
    if (r.lab_name.empty()) r.lab_name = uid;
  }
  if (order.pid != nullptr) ReadPatient(*order.pid, &r);
  if (!obr.Field(2).empty()) r.order = Identifier(obr.Field(2), obr.Where(2));
  Element filler = obr.Field(3);
  if (filler.empty() && order.orc != nullptr) filler = order.orc->Field(3);
  if (!filler.empty()) {
    r.accession = Identifier(filler, obr.Where(3));
  } else {
    Error(obr.Where(3), Hl7Error::kRequiredFieldMissing,
          "OBR-3 (filler order number, the accession) is missing");
  }
  if (!obr.Field(4).empty()) {
    r.report_code = CodingOf(obr.Field(4).Repetition(1), obr.Where(4), true);
  } else {
    Error(obr.Where(4), Hl7Error::kRequiredFieldMissing,
          "OBR-4 (universal service identifier) is missing");
  }
  r.effective =
      DateTime(obr.Field(7), obr.Where(7, 1), "OBR-7 (observation date/time)");
  r.issued = DateTime(obr.Field(22), obr.Where(22, 1),
                      "OBR-22 (results report/status change date/time)");
  std::string status = Text(obr.Field(25).Component(1), obr.Where(25));
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10>
      kStatus = {{{"F", "final"},
                  {"C", "corrected"},
                  {"P", "preliminary"},
                  {"R", "preliminary"},
                  {"A", "partial"},
                  {"I", "registered"},
                  {"O", "registered"},
                  {"S", "registered"},
                  {"X", "cancelled"},
                  {"M", "amended"}}};
  if (status.empty()) {
    Error(obr.Where(25), Hl7Error::kRequiredFieldMissing,
          "OBR-25 (result status) is missing");
  } else {
    auto it =
        std::find_if(kStatus.begin(), kStatus.end(),
                     [&status](const auto& p) { return p.first == status; });
    if (it == kStatus.end()) {
      Error(obr.Where(25), Hl7Error::kTableValueNotFound,
            "result status " + Quote(status, 5) + " is not in HL7 table 0123");
    } else {
      r.report_status = std::string(it->second);
    }
  }
  if (!order.spm.empty()) ReadSpecimen(*order.spm.front(), &r);

  // Check each OBX, then group by sub-ID.
  std::vector<Obs> all;
  std::set<std::pair<std::string, std::string>> seen;
  for (const Segment* s : order.obx) {
    std::optional<Obs> o = CheckObx(*s);
    if (!o) continue;
    if (!seen.insert({o->sub_id, o->code.system + "|" + o->code.code}).second) {
      Error(s->Where(4), Hl7Error::kDuplicateKeyIdentifier,
            "OBX-3 " + o->code.code + " with OBX-4 sub-ID " +
                Quote(o->sub_id, 20) +
                " repeats an earlier OBX of this OBR; ignored");
      continue;
    }
    all.push_back(std::move(*o));
  }
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<const Obs*>> groups;
  for (const Obs& o : all) {
    auto [it, inserted] = groups.try_emplace(o.group);
    if (inserted) group_order.push_back(o.group);
    it->second.push_back(&o);
  }

  std::vector<RegionInfo> regions;
  for (const std::string& g : group_order) {
    const std::vector<const Obs*>& obs = groups[g];
    bool is_variant = false, is_region = false;
    for (const Obs* o : obs) {
      if (o->info == nullptr) continue;
      is_variant = is_variant || o->info->scope == Scope::kVariant;
      is_region = is_region || o->info->scope == Scope::kRegion;
    }
    VariantCall vc;
    RegionInfo region;
    std::optional<Coord> coord;
    const Obs* coord_obs = nullptr;
    const Obs* range_obs = nullptr;
    std::pair<int64_t, int64_t> range{0, 0};
    std::map<Key, const Obs*> single;  // first obs per single-valued key
    for (const Obs* o : obs) {
      if (o->info == nullptr) {
        ExtraComponent e = Extra(*o);
        if (is_variant) {
          vc.extra_components.push_back(std::move(e));
        } else {
          out->other_observations.push_back(std::move(e));
        }
        continue;
      }
      const CodeInfo& info = *o->info;
      if (!info.repeats) {
        auto [it, inserted] = single.try_emplace(info.key, o);
        if (!inserted) {
          Warn(o->seg->Where(3), Hl7Error::kDuplicateKeyIdentifier,
               std::string(info.loinc) + " (" + std::string(info.name) +
                   ") given twice for sub-ID group " + Quote(g, 20) +
                   "; the first (" + it->second->seg->Where().ToString() +
                   ") is used");
          continue;
        }
        if (o->values.size() > 1 && o->type != "FT" && o->type != "TX") {
          Warn(o->seg->Where(5), Hl7Error::kDataType,
               std::string(info.loinc) +
                   " takes one value; repetitions after the first are "
                   "ignored");
        }
      }
      switch (info.key) {
        case Key::kOverallInterpretation:
          if (auto c = CodedValue(*o)) r.overall_interpretation = *c;
          continue;
        case Key::kReportText:
          if (ValueType(o->type) == VType::kText) {
            r.conclusion = o->seg->Field(5).Value();
          } else {
            out->other_observations.push_back(Extra(*o));
          }
          continue;
        case Key::kBuild:
          if (auto c = CodedValue(*o)) {
            std::string b = BuildFromCoding(*c);
            if (b.empty()) {
              Error(o->seg->Where(5), Hl7Error::kTableValueNotFound,
                    Quote(c->code.empty() ? c->display : c->code, 20) +
                        " is not a known reference build (LA14029-5 GRCh37, "
                        "LA26806-2 GRCh38)");
            } else if (is_variant) {
              vc.build = b;
            } else {
              r.build = b;
            }
          }
          continue;
        case Key::kCoordSystem:
          if (auto c = CodedValue(*o)) {
            coord = CoordFromCoding(*c);
            coord_obs = o;
            if (!coord) {
              Error(o->seg->Where(5), Hl7Error::kTableValueNotFound,
                    Quote(c->code.empty() ? c->display : c->code, 20) +
                        " is not a genomic coordinate system (LA30100-4, "
                        "LA30101-2, LA30102-0)");
            }
          }
          continue;
        case Key::kSourceClass:
          if (auto c = CodedValue(*o)) {
            if (c->system.empty() && c->code.substr(0, 2) == "LA") {
              c->system = std::string(kLoincUrl);
            }
            if (is_variant) vc.genomic_source_class = *c;
            std::string cls = c->code == "LA6683-2"   ? "germline"
                              : c->code == "LA6684-0" ? "somatic"
                                                      : "";
            if (!is_variant || r.source_class.empty()) {
              if (!cls.empty()) r.source_class = cls;
            }
          }
          continue;
        default:
          break;
      }
      if (!is_variant) {
        // Region or report level.
        switch (info.key) {
          case Key::kRegionRanges:
            for (size_t k = 1; k <= o->values.size(); ++k) {
              region.ranges.push_back({o, k});
            }
            continue;
          case Key::kRegionDescription:
            if (auto t = TextValue(*o)) {
              if (!r.regions_description.empty()) r.regions_description += "; ";
              r.regions_description += *t;
            }
            continue;
          case Key::kChromosome:
            if (is_region) {
              if (auto c = CodedValue(*o)) {
                region.chromosome = ChromosomeFromCoding(*c);
              }
              continue;
            }
            break;
          case Key::kGene:
            if (is_region) {
              if (auto c = CodedValue(*o)) {
                region.name = c->display.empty() ? c->code : c->display;
              }
            }
            break;
          default:
            break;
        }
        out->other_observations.push_back(Extra(*o));
        continue;
      }
      // Variant group.
      switch (info.key) {
        case Key::kGene:
          if (auto c = CodedValue(*o)) {
            std::string_view code = c->code;
            bool is_hgnc_id = code.substr(0, 5) == "HGNC:";
            bool numeric =
                !code.empty() &&
                code.find_first_not_of("0123456789") == std::string_view::npos;
            if (is_hgnc_id) {
              vc.hgnc_id = c->code;
            } else if (numeric &&
                       c->system == "http://www.genenames.org/geneId") {
              vc.hgnc_id = "HGNC:" + c->code;
            }
            vc.gene_symbol = c->display;
            if (vc.gene_symbol.empty() && !is_hgnc_id && !numeric) {
              vc.gene_symbol = c->code;
            }
          }
          break;
        case Key::kHgvsC:
          if (auto t = TextValue(*o)) vc.hgvs_c = *t;
          break;
        case Key::kHgvsP:
          if (auto t = TextValue(*o)) vc.hgvs_p = *t;
          break;
        case Key::kHgvsG:
          if (auto t = TextValue(*o)) vc.hgvs_g = *t;
          break;
        case Key::kGenomicRefSeq:
          if (auto t = TextValue(*o)) vc.genomic_ref_seq = *t;
          break;
        case Key::kTranscript:
          if (auto t = TextValue(*o)) vc.transcript_ref_seq = *t;
          break;
        case Key::kRefAllele:
          if (auto t = TextValue(*o)) vc.ref_allele = *t;
          break;
        case Key::kAltAllele:
          if (auto t = TextValue(*o)) {
            if (!t->empty() &&
                (t->front() == '<' || t->find('[') != std::string::npos ||
                 t->find(']') != std::string::npos)) {
              vc.symbolic_alt = *t;
              if (t->front() == '<' && t->back() == '>') {
                std::string inner = t->substr(1, t->size() - 2);
                vc.structural_type = inner.substr(0, inner.find(':'));
              } else {
                vc.structural_type = "BND";
              }
            } else {
              vc.alt_allele = *t;
            }
          }
          break;
        case Key::kExactStartEnd:
          if (auto rg = RangeValue(*o)) {
            range = *rg;
            range_obs = o;
          }
          break;
        case Key::kAllelicState:
          if (auto c = CodedValue(*o)) {
            if (c->system.empty() && c->code.substr(0, 2) == "LA") {
              c->system = std::string(kLoincUrl);
            }
            vc.allelic_state = *c;
          }
          break;
        case Key::kAssessment:
          if (auto c = CodedValue(*o)) {
            if (c->code != "LA9633-4" && c->display != "Present") {
              Warn(o->seg->Where(5), Hl7Error::kApplicationInternalError,
                   "genetic variant assessment " +
                       Quote(c->code.empty() ? c->display : c->code, 20) +
                       " is not Present (LA9633-4); carried as a component");
              vc.extra_components.push_back(Extra(*o));
            }
          }
          break;
        case Key::kClinicalSignificance:
          for (size_t k = 1; k <= o->values.size(); ++k) {
            if (auto c = CodedValue(*o, k)) {
              if (c->system.empty() && c->code.substr(0, 2) == "LA") {
                c->system = std::string(kLoincUrl);
              }
              Classification cl;
              cl.clinical_significance = *c;
              cl.source = r.lab_name;
              vc.classifications.push_back(std::move(cl));
            }
          }
          break;
        case Key::kAlleleFrequency:
          if (auto n = NumberValue(*o)) {
            double f = std::strtod(n->c_str(), nullptr);
            if (f < 0 || f > 1) {
              Error(o->seg->Where(5), Hl7Error::kDataType,
                    Quote(*n) + " is not an allele frequency between 0 and 1");
            } else {
              vc.allele_frequency = *n;
            }
          }
          break;
        case Key::kAlleleReadDepth:
          if (auto n = IntegerValue(*o)) vc.allele_read_depth = *n;
          break;
        case Key::kCopyNumber:
          if (auto n = IntegerValue(*o)) vc.copy_number = *n;
          break;
        case Key::kChromosome:
          if (auto c = CodedValue(*o)) {
            vc.chromosome = ChromosomeFromCoding(*c);
            if (vc.chromosome.empty()) {
              Error(o->seg->Where(5), Hl7Error::kTableValueNotFound,
                    Quote(c->display.empty() ? c->code : c->display, 20) +
                        " is not a human chromosome (1-22, X, Y, MT)");
            }
          }
          break;
        case Key::kVariationCode:
          for (size_t k = 1; k <= o->values.size(); ++k) {
            if (auto c = CodedValue(*o, k)) {
              if (c->system.empty() && c->code.substr(0, 2) == "rs") {
                c->system = "http://www.ncbi.nlm.nih.gov/projects/SNP";
              }
              vc.variation_codes.push_back(*c);
            }
          }
          break;
        case Key::kDnaChangeType:
          if (auto c = CodedValue(*o)) {
            if (c->system.empty() && c->code.substr(0, 3) == "SO:") {
              c->system = "http://www.sequenceontology.org";
            } else if (c->system.empty() && c->code.substr(0, 2) == "LA") {
              c->system = std::string(kLoincUrl);
            }
            vc.variant_type = *c;
          }
          break;
        default:
          // Known codes without a VariantCall field (48001-2 cytogenetic
          // location, region codes inside a variant group).
          vc.extra_components.push_back(Extra(*o));
          break;
      }
    }
    const Segment& first = *obs.front()->seg;
    if (!is_variant) {
      if (is_region) {
        region.coord = coord;
        for (auto [o, k] : region.ranges) {
          auto rg = RangeValue(*o, k);
          if (!rg) continue;
          Coord c = coord.value_or(Coord::kOneCharacter);
          if (!coord) {
            Warn(o->seg->Where(5), Hl7Error::kRequiredFieldMissing,
                 "no 92822-6 (genomic coordinate system) in sub-ID group " +
                     Quote(g, 20) +
                     "; the range is read as 1-based character counting");
          }
          auto [s, e] = ToZeroInterval(c, rg->first, rg->second);
          if (s < 0) {
            Error(o->seg->Where(5), Hl7Error::kDataType,
                  "range starts before position 1 in " +
                      std::string(CoordName(c)));
            continue;
          }
          RegionStudied rs;
          rs.chromosome = region.chromosome;
          rs.start = s;
          rs.end = e;
          rs.name = region.name;
          r.regions_studied.push_back(std::move(rs));
        }
      }
      continue;
    }
    // Finish the variant.
    if (range_obs != nullptr) {
      Coord c = coord.value_or(Coord::kOneCharacter);
      if (!coord) {
        if (coord_obs == nullptr) {
          Warn(range_obs->seg->Where(5), Hl7Error::kRequiredFieldMissing,
               "no 92822-6 (genomic coordinate system) in sub-ID group " +
                   Quote(g, 20) +
                   "; 81254-5 is read as 1-based character counting");
        }
      }
      if (coord || coord_obs == nullptr) {
        auto [s, e] = ToZeroInterval(c, range.first, range.second);
        if (s < 0) {
          Error(
              range_obs->seg->Where(5), Hl7Error::kDataType,
              "start position 0 is not valid in " + std::string(CoordName(c)));
        } else {
          vc.start = s;
          vc.end = e;
        }
      }
    }
    if (vc.chromosome.empty()) {
      vc.chromosome = ChromosomeFromRefSeq(vc.genomic_ref_seq);
    }
    if (!vc.hgvs_c.empty() && vc.hgvs_c.find(':') == std::string::npos &&
        !vc.transcript_ref_seq.empty()) {
      vc.hgvs_c = vc.transcript_ref_seq + ":" + vc.hgvs_c;
    }
    if (!vc.hgvs_g.empty() && vc.hgvs_g.find(':') == std::string::npos &&
        !vc.genomic_ref_seq.empty()) {
      vc.hgvs_g = vc.genomic_ref_seq + ":" + vc.hgvs_g;
    }
    vc.source_location =
        g.empty() ? "OBX-4 sub-ID (none), " + first.Where().ToString()
                  : "OBX-4 sub-ID " + g;
    if (vc.hgvs_c.empty() && vc.hgvs_g.empty() && !vc.start.has_value() &&
        vc.symbolic_alt.empty() && !vc.copy_number.has_value()) {
      Error(first.Where(4), Hl7Error::kRequiredFieldMissing,
            "variant in sub-ID group " + Quote(g, 20) +
                " has no c.HGVS (48004-6), g.HGVS (81290-9), start-end "
                "(81254-5) or copy number (82155-3)");
    }
    r.variants.push_back(std::move(vc));
  }
  // Builds: the report's build fills variants that do not say; variants that
  // agree give the report its build.
  for (VariantCall& v : r.variants) {
    if (v.build.empty()) v.build = r.build;
  }
  if (r.build.empty() && !r.variants.empty()) {
    std::string b = r.variants.front().build;
    bool same = true;
    for (const VariantCall& v : r.variants) same = same && v.build == b;
    if (same) r.build = b;
  }
}

void Reader::Run(std::vector<OruReport>* reports) {
  std::vector<OrderSegments> orders = Structure();
  for (const OrderSegments& o : orders) {
    OruReport rep;
    ReadOrder(o, &rep);
    reports->push_back(std::move(rep));
  }
}

}  // namespace

bool OruReadResult::rejected() const {
  return std::any_of(problems.begin(), problems.end(),
                     [](const Problem& p) { return p.rejects_message; });
}

bool OruReadResult::has_errors() const {
  return std::any_of(problems.begin(), problems.end(), [](const Problem& p) {
    return p.severity == ProblemSeverity::kError;
  });
}

std::vector<Problem> CheckOruHeader(const Message& message) {
  return CheckHeaderImpl(message);
}

OruReadResult ReadOruR01(std::string_view er7, const OruReadOptions& options) {
  OruReadResult result;
  Result<Message> parsed = ParseEr7(er7, options.parse, &result.problems);
  if (!parsed.ok()) {
    result.salvaged_control_id = SalvageControlId(er7);
    return result;
  }
  result.message.emplace(std::move(parsed).value());
  const Message& msg = *result.message;
  result.problems.insert(result.problems.end(), msg.problems().begin(),
                         msg.problems().end());
  std::vector<Problem> header = CheckHeaderImpl(msg);
  bool reject = !header.empty();
  result.problems.insert(result.problems.end(), header.begin(), header.end());
  if (reject) return result;
  Reader reader(msg, options, &result.problems);
  reader.Run(&result.reports);
  return result;
}

}  // namespace genogate::mappers::hl7v2

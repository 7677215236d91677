#include "mappers/hl7v2/er7.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>

namespace genogate::mappers::hl7v2 {
namespace {

// The n-th (1-based) piece of `raw` split at `sep`; empty when out of range.
std::string_view NthPart(std::string_view raw, char sep, size_t n) {
  if (n == 0) return {};
  size_t start = 0;
  for (size_t i = 1; i < n; ++i) {
    size_t p = raw.find(sep, start);
    if (p == std::string_view::npos) return {};
    start = p + 1;
  }
  size_t end = raw.find(sep, start);
  if (end == std::string_view::npos) end = raw.size();
  return raw.substr(start, end - start);
}

size_t CountParts(std::string_view raw, char sep) {
  if (raw.empty()) return 0;
  return static_cast<size_t>(std::count(raw.begin(), raw.end(), sep)) + 1;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSegmentIdChar(char c, bool first) {
  if (c >= 'A' && c <= 'Z') return true;
  return !first && c >= '0' && c <= '9';
}

bool IsAlnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9');
}

// True when `c` may serve as an ER7 delimiter.
bool UsableDelimiter(char c) { return c > ' ' && c < 0x7f && !IsAlnum(c); }

bool ParseSize(std::string_view s, size_t* out) {
  if (s.empty() || s.size() > 9) return false;
  size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0) return false;
  *out = v;
  return true;
}

}  // namespace

std::string Delimiters::EncodingCharacters() const {
  std::string s{component, repetition, escape, subcomponent};
  if (truncation != '\0') s += truncation;
  return s;
}

EscapeStatus Unescape(std::string_view raw, const Delimiters& d,
                      std::string* out) {
  EscapeStatus status = EscapeStatus::kOk;
  auto note = [&status](EscapeStatus s) {
    if (status == EscapeStatus::kOk) status = s;
  };
  const char esc = d.escape;
  size_t i = 0;
  while (i < raw.size()) {
    size_t p = esc == '\0' ? std::string_view::npos : raw.find(esc, i);
    if (p == std::string_view::npos) {
      out->append(raw.substr(i));
      break;
    }
    out->append(raw.substr(i, p - i));
    size_t q = raw.find(esc, p + 1);
    if (q == std::string_view::npos) {
      note(EscapeStatus::kUnterminated);
      out->append(raw.substr(p));
      break;
    }
    std::string_view seq = raw.substr(p + 1, q - p - 1);
    std::string_view whole = raw.substr(p, q - p + 1);
    i = q + 1;
    if (seq.size() == 1) {
      switch (seq[0]) {
        case 'F':
          out->push_back(d.field);
          continue;
        case 'S':
          out->push_back(d.component);
          continue;
        case 'T':
          out->push_back(d.subcomponent);
          continue;
        case 'R':
          out->push_back(d.repetition);
          continue;
        case 'E':
          out->push_back(d.escape);
          continue;
        case 'H':
        case 'N':
          continue;  // highlighting on/off: no meaning in text
        case 'P':
          if (d.truncation != '\0') {
            out->push_back(d.truncation);
            continue;
          }
          break;
        default:
          break;
      }
      note(EscapeStatus::kUnknownSequence);
      out->append(whole);
      continue;
    }
    if (!seq.empty() && seq[0] == 'X') {
      std::string_view hex = seq.substr(1);
      bool ok = !hex.empty() && hex.size() % 2 == 0;
      for (size_t k = 0; ok && k < hex.size(); ++k) ok = HexDigit(hex[k]) >= 0;
      if (!ok) {
        note(EscapeStatus::kBadHex);
        out->append(whole);
        continue;
      }
      for (size_t k = 0; k < hex.size(); k += 2) {
        out->push_back(
            static_cast<char>(HexDigit(hex[k]) * 16 + HexDigit(hex[k + 1])));
      }
      continue;
    }
    if (seq == ".br") {
      out->push_back('\n');
      continue;
    }
    if (seq.substr(0, 3) == ".sp") {
      std::string_view n = seq.substr(3);
      while (!n.empty() && n.front() == ' ') n.remove_prefix(1);
      size_t count = 1;
      if (!n.empty() && !ParseSize(n, &count)) {
        note(EscapeStatus::kUnknownSequence);
        out->append(whole);
        continue;
      }
      out->append(std::min<size_t>(count, 100), '\n');
      continue;
    }
    if (seq.size() >= 3 && seq[0] == '.') {
      std::string_view cmd = seq.substr(1, 2);
      if (cmd == "fi" || cmd == "nf" || cmd == "in" || cmd == "ti" ||
          cmd == "sk" || cmd == "ce") {
        continue;  // formatting commands: dropped from plain text
      }
    }
    if (!seq.empty() && (seq[0] == 'Z' || seq[0] == 'C' || seq[0] == 'M')) {
      out->append(whole);  // locally defined / character set: kept as is
      continue;
    }
    note(EscapeStatus::kUnknownSequence);
    out->append(whole);
  }
  return status;
}

std::string Escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    auto seq = [&out, &d](std::string_view s) {
      out.push_back(d.escape);
      out.append(s);
      out.push_back(d.escape);
    };
    if (c == d.field) {
      seq("F");
    } else if (c == d.component) {
      seq("S");
    } else if (c == d.subcomponent) {
      seq("T");
    } else if (c == d.repetition) {
      seq("R");
    } else if (c == d.escape) {
      seq("E");
    } else if (d.truncation != '\0' && c == d.truncation) {
      seq("P");
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      seq(".br");
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      unsigned char u = static_cast<unsigned char>(c);
      std::string x = "X";
      x.push_back(kHex[u >> 4]);
      x.push_back(kHex[u & 0xf]);
      seq(x);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Element::Value(EscapeStatus* status) const {
  std::string out;
  if (literal_) {
    out.assign(raw_);
    if (status != nullptr) *status = EscapeStatus::kOk;
    return out;
  }
  out.reserve(raw_.size());
  EscapeStatus s = Unescape(raw_, delims_, &out);
  if (status != nullptr) *status = s;
  return out;
}

size_t Element::RepetitionCount() const {
  if (literal_) return raw_.empty() ? 0 : 1;
  if (level_ != Level::kField) return raw_.empty() ? 0 : 1;
  return CountParts(raw_, delims_.repetition);
}

size_t Element::ComponentCount() const {
  if (literal_) return raw_.empty() ? 0 : 1;
  if (level_ == Level::kField) return Repetition(1).ComponentCount();
  if (level_ != Level::kRepetition) return raw_.empty() ? 0 : 1;
  return CountParts(raw_, delims_.component);
}

size_t Element::SubcomponentCount() const {
  if (literal_) return raw_.empty() ? 0 : 1;
  if (level_ == Level::kField || level_ == Level::kRepetition) {
    return Component(1).SubcomponentCount();
  }
  if (level_ != Level::kComponent) return raw_.empty() ? 0 : 1;
  return CountParts(raw_, delims_.subcomponent);
}

Element Element::Repetition(size_t r) const {
  if (literal_ || level_ != Level::kField) {
    return r == 1 && level_ == Level::kField ? *this : Element();
  }
  return Element(NthPart(raw_, delims_.repetition, r), delims_,
                 Level::kRepetition);
}

std::vector<Element> Element::Repetitions() const {
  std::vector<Element> out;
  if (raw_.empty()) return out;
  if (literal_ || level_ != Level::kField) {
    out.push_back(Repetition(1));
    if (out.back().empty()) out.clear();
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t p = raw_.find(delims_.repetition, start);
    out.emplace_back(
        raw_.substr(start, p == std::string_view::npos ? std::string_view::npos
                                                       : p - start),
        delims_, Level::kRepetition);
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

Element Element::Component(size_t c) const {
  if (literal_) return c == 1 ? *this : Element();
  if (level_ == Level::kField) return Repetition(1).Component(c);
  if (level_ != Level::kRepetition) return Element();
  return Element(NthPart(raw_, delims_.component, c), delims_,
                 Level::kComponent);
}

Element Element::Sub(size_t s) const {
  if (literal_) return s == 1 ? *this : Element();
  if (level_ == Level::kField || level_ == Level::kRepetition) {
    return Component(1).Sub(s);
  }
  if (level_ != Level::kComponent) return Element();
  return Element(NthPart(raw_, delims_.subcomponent, s), delims_,
                 Level::kSubcomponent);
}

Element Segment::Field(size_t i) const {
  if (i == 0 || i >= fields_.size()) return Element();
  bool literal = is_msh_ && (i == 1 || i == 2);
  return Element(fields_[i], delims_, Element::Level::kField, literal);
}

ErrorLocation Segment::Where(size_t field, size_t component) const {
  ErrorLocation loc;
  loc.segment = std::string(id());
  loc.sequence = sequence_;
  loc.line = line_;
  loc.field = field;
  loc.component = component;
  return loc;
}

const Segment* Message::Find(std::string_view id, size_t occurrence) const {
  size_t seen = 0;
  for (const Segment& s : segments_) {
    if (s.id() == id && ++seen == occurrence) return &s;
  }
  return nullptr;
}

size_t Message::Count(std::string_view id) const {
  size_t n = 0;
  for (const Segment& s : segments_) n += s.id() == id;
  return n;
}

std::optional<Element> Message::At(std::string_view path) const {
  // SEG[(n)]-F[(r)][.C[.S]]
  if (path.size() < 5) return std::nullopt;
  std::string_view id = path.substr(0, 3);
  for (size_t k = 0; k < 3; ++k) {
    if (!IsSegmentIdChar(id[k], k == 0)) return std::nullopt;
  }
  size_t pos = 3;
  auto paren = [&path, &pos](size_t* value) {
    if (pos >= path.size() || path[pos] != '(') return true;
    size_t close = path.find(')', pos);
    if (close == std::string_view::npos) return false;
    if (!ParseSize(path.substr(pos + 1, close - pos - 1), value)) return false;
    pos = close + 1;
    return true;
  };
  auto number = [&path, &pos](size_t* value) {
    size_t start = pos;
    while (pos < path.size() && path[pos] >= '0' && path[pos] <= '9') ++pos;
    return ParseSize(path.substr(start, pos - start), value);
  };
  size_t occurrence = 1, field = 0, rep = 0, comp = 0, sub = 0;
  if (!paren(&occurrence)) return std::nullopt;
  if (pos >= path.size() || path[pos] != '-') return std::nullopt;
  ++pos;
  if (!number(&field) || !paren(&rep)) return std::nullopt;
  if (pos < path.size()) {
    if (path[pos] != '.') return std::nullopt;
    ++pos;
    if (!number(&comp)) return std::nullopt;
    if (pos < path.size()) {
      if (path[pos] != '.') return std::nullopt;
      ++pos;
      if (!number(&sub) || pos != path.size()) return std::nullopt;
    }
  }
  const Segment* seg = Find(id, occurrence);
  if (seg == nullptr) return std::nullopt;
  Element e = seg->Field(field);
  if (rep > 0) e = e.Repetition(rep);
  if (comp > 0) e = e.Component(comp);
  if (sub > 0) e = e.Sub(sub);
  return e;
}

std::string Message::Get(std::string_view path) const {
  std::optional<Element> e = At(path);
  return e ? e->Value() : std::string();
}

class MessageBuilder {
 public:
  static Result<Message> Build(std::string_view text,
                               const ParseOptions& options,
                               std::vector<Problem>* fatal);
};

namespace {

Error Fail(std::vector<Problem>* fatal, ErrorCode code, Hl7Error hl7,
           size_t line, size_t field, std::string reason) {
  Problem p;
  p.where.segment = "MSH";
  p.where.sequence = 1;
  p.where.line = line;
  p.where.field = field;
  p.code = hl7;
  p.reason = std::move(reason);
  p.rejects_message = true;
  std::string text = p.ToString();
  if (fatal != nullptr) fatal->push_back(std::move(p));
  return Error(code, std::move(text));
}

}  // namespace

Result<Message> MessageBuilder::Build(std::string_view text,
                                      const ParseOptions& options,
                                      std::vector<Problem>* fatal) {
  if (text.size() > options.max_bytes) {
    return Fail(fatal, ErrorCode::kLimitExceeded, Hl7Error::kValueTooLong, 0, 0,
                "message of " + std::to_string(text.size()) +
                    " bytes exceeds the limit of " +
                    std::to_string(options.max_bytes));
  }
  Message msg;
  msg.text_ = std::make_unique<std::string>(text);
  std::string_view all = *msg.text_;
  while (!all.empty() && all.back() == '\0') all.remove_suffix(1);

  // Skip leading blank lines and spaces.
  size_t begin = 0;
  while (begin < all.size() && (all[begin] == '\r' || all[begin] == '\n' ||
                                all[begin] == ' ' || all[begin] == '\t')) {
    ++begin;
  }
  if (all.substr(begin, 3) != "MSH") {
    // Is there an MSH further down?
    size_t line = 1;
    for (size_t i = begin; i < all.size(); ++i) {
      if (all[i] == '\r' || all[i] == '\n') {
        if (all[i] == '\r' && i + 1 < all.size() && all[i + 1] == '\n') ++i;
        ++line;
        if (all.substr(i + 1, 3) == "MSH") {
          return Fail(fatal, ErrorCode::kInvalidInput,
                      Hl7Error::kSegmentSequence, line, 0,
                      "MSH must be the first segment but is on line " +
                          std::to_string(line));
        }
      }
    }
    Problem p;
    p.where.segment = "MSH";
    p.where.sequence = 1;
    p.code = Hl7Error::kSegmentSequence;
    p.reason = "no MSH segment: this is not an HL7 v2 ER7 message";
    p.rejects_message = true;
    std::string m = p.reason;
    if (fatal != nullptr) fatal->push_back(std::move(p));
    return Error(ErrorCode::kInvalidInput, std::move(m));
  }
  if (begin + 3 >= all.size() || !UsableDelimiter(all[begin + 3])) {
    return Fail(fatal, ErrorCode::kInvalidInput, Hl7Error::kDataType, 1, 1,
                "MSH-1 (field separator) is missing or not a usable "
                "delimiter");
  }
  Delimiters d;
  d.field = all[begin + 3];
  size_t enc_start = begin + 4;
  size_t enc_end = enc_start;
  while (enc_end < all.size() && all[enc_end] != d.field &&
         all[enc_end] != '\r' && all[enc_end] != '\n') {
    ++enc_end;
  }
  std::string_view enc = all.substr(enc_start, enc_end - enc_start);
  if (enc.size() != 4 && enc.size() != 5) {
    return Fail(fatal, ErrorCode::kInvalidInput, Hl7Error::kDataType, 1, 2,
                "MSH-2 (encoding characters) must have 4 or 5 characters, "
                "has " +
                    std::to_string(enc.size()));
  }
  std::string seen(1, d.field);
  for (char c : enc) {
    if (!UsableDelimiter(c) || seen.find(c) != std::string::npos) {
      return Fail(fatal, ErrorCode::kInvalidInput, Hl7Error::kDataType, 1, 2,
                  "MSH-2 (encoding characters) has a repeated or unusable "
                  "character");
    }
    seen.push_back(c);
  }
  d.component = enc[0];
  d.repetition = enc[1];
  d.escape = enc[2];
  d.subcomponent = enc[3];
  if (enc.size() == 5) d.truncation = enc[4];
  msg.delims_ = d;

  std::unordered_map<std::string_view, size_t> counts;
  size_t line = 0;
  size_t pos = begin;
  while (pos < all.size()) {
    size_t end = pos;
    while (end < all.size() && all[end] != '\r' && all[end] != '\n') ++end;
    std::string_view raw = all.substr(pos, end - pos);
    pos = end;
    if (pos < all.size()) {
      if (all[pos] == '\r' && pos + 1 < all.size() && all[pos + 1] == '\n') {
        ++pos;
      }
      ++pos;
    }
    // Blank lines (and lines of only spaces) are not segments.
    if (raw.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++line;
    if (msg.segments_.size() >= options.max_segments) {
      return Fail(
          fatal, ErrorCode::kLimitExceeded, Hl7Error::kValueTooLong, line, 0,
          "more than " + std::to_string(options.max_segments) + " segments");
    }
    std::string_view id =
        raw.substr(0, std::min(raw.find(d.field), raw.size()));
    bool id_ok = id.size() == 3;
    for (size_t k = 0; id_ok && k < 3; ++k)
      id_ok = IsSegmentIdChar(id[k], k == 0);
    if (!id_ok) {
      Problem p;
      p.where.line = line;
      p.code = Hl7Error::kSegmentSequence;
      p.reason = "line " + std::to_string(line) +
                 " does not start with a segment id (3 upper-case letters or "
                 "digits followed by the field separator); segment ignored";
      msg.problems_.push_back(std::move(p));
      continue;
    }
    Segment seg;
    seg.raw_ = raw;
    seg.delims_ = d;
    seg.line_ = line;
    seg.sequence_ = ++counts[id];
    seg.is_msh_ = id == "MSH";
    size_t start = 0;
    while (true) {
      size_t sep = raw.find(d.field, start);
      if (seg.is_msh_ && seg.fields_.size() == 1) {
        // MSH-1 is the separator itself.
        seg.fields_.push_back(raw.substr(3, 1));
      }
      std::string_view f = raw.substr(start, sep == std::string_view::npos
                                                 ? std::string_view::npos
                                                 : sep - start);
      if (seg.fields_.size() > options.max_fields_per_segment) {
        Problem p;
        p.where = seg.Where();
        p.code = Hl7Error::kValueTooLong;
        p.reason = "more than " +
                   std::to_string(options.max_fields_per_segment) +
                   " fields; the rest are ignored";
        msg.problems_.push_back(std::move(p));
        break;
      }
      seg.fields_.push_back(f);
      if (sep == std::string_view::npos) break;
      start = sep + 1;
    }
    // Drop trailing empty fields so FieldCount() is the last valued one.
    while (seg.fields_.size() > 1 && seg.fields_.back().empty()) {
      seg.fields_.pop_back();
    }
    msg.segments_.push_back(std::move(seg));
  }
  return msg;
}

std::string SalvageControlId(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.size() > 3 && line.substr(0, 3) == "MSH") {
      char sep = line[3];
      std::string_view piece;
      size_t pos = 0;
      for (int k = 0; k <= 9; ++k) {
        size_t next = line.find(sep, pos);
        if (next == std::string_view::npos) {
          if (k < 9) return "";
          next = line.size();
        }
        piece = line.substr(pos, next - pos);
        pos = next + 1;
      }
      if (piece.empty() || piece.size() > 199) return "";
      for (char c : piece) {
        if (c <= ' ' || c >= 0x7f ||
            std::string_view("^~\\&|#").find(c) != std::string_view::npos) {
          return "";
        }
      }
      return std::string(piece);
    }
    start = end + 1;
  }
  return "";
}

Result<Message> ParseEr7(std::string_view text, const ParseOptions& options,
                         std::vector<Problem>* fatal) {
  return MessageBuilder::Build(text, options, fatal);
}

}  // namespace genogate::mappers::hl7v2

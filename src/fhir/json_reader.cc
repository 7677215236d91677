// FHIR JSON -> element model: a RapidJSON SAX pass builds an untyped tree
// (names as written, `_name` objects merged into their primitives), then the
// typing pass (typing.cc) resolves it against the schema.
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <string>
#include <vector>

#include "base/utf8.h"
#include "fhir/codec.h"
#include "fhir/internal/typing.h"
#include "fhir/schema.h"

namespace genogate::fhir {
namespace {

using internal::LineCounter;

class Builder
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
 public:
  Builder(std::string_view text, const rapidjson::StringStream* stream,
          const ParseOptions& options, Document* doc)
      : lines_(text), stream_(stream), options_(options), doc_(doc) {}

  // Set when the handler stopped the parse on purpose (limits).
  const std::string& abort_reason() const { return abort_reason_; }
  ErrorCode abort_code() const { return abort_code_; }
  size_t abort_offset() const { return abort_offset_; }

  // Offsets: with the iterative parser, Tell() is at the opening '{', '[',
  // quote or first digit when the handler is called, and just after a
  // true/false/null literal.
  bool StartObject() {
    size_t at = Tell();
    if (!Enter(at)) return false;
    if (frames_.empty()) {
      if (root_started_) return Abort(at, "more than one JSON value");
      root_started_ = true;
      Position(doc_->root, at);
      frames_.push_back({&doc_->root, false, {}, 0, false, 0});
      return true;
    }
    Node* n = NewChild(at);
    if (!n) return PushSkip();
    frames_.push_back({n, false, {}, 0, false, 0});
    return true;
  }

  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    Frame& f = frames_.back();
    if (f.skip) {
      frames_.pop_back();
      return true;
    }
    Node* n = f.node;
    if (members == 0) {
      Structure(*n, "empty-object", "JSON objects must not be empty in FHIR",
                PathOf(*n));
    }
    bool underscores = f.has_underscore;
    frames_.pop_back();
    Finish(*n, underscores);
    return true;
  }

  bool StartArray() {
    size_t at = Tell();
    if (!Enter(at)) return false;
    if (frames_.empty())
      return Abort(at, "a FHIR resource must be a JSON object");
    Frame& top = frames_.back();
    if (top.skip || top.array) {
      if (top.array && !top.skip) {
        Issue(at, "structure", "nested-array",
              "arrays of arrays are not allowed in FHIR");
      }
      return PushSkip();
    }
    if (top.key == "resourceType") {
      Issue(at, "structure", "resource-type", "resourceType must be a string");
      return PushSkip();
    }
    frames_.push_back({top.node, true, top.key, at, false, 0});
    return true;
  }

  bool EndArray(rapidjson::SizeType count) {
    --depth_;
    Frame f = frames_.back();
    frames_.pop_back();
    if (!f.skip && count == 0) {
      Issue(
          f.array_start, "structure", "empty-array",
          "'" + f.key + "' is an empty array; FHIR JSON omits empty elements");
    }
    return true;
  }

  bool Key(const char* str, rapidjson::SizeType len, bool) {
    Frame& top = frames_.back();
    if (top.skip) return true;
    top.key.assign(str, len);
    key_offset_ = Tell();
    if (len > 0 && str[0] == '_') top.has_underscore = true;
    return true;
  }

  bool String(const char* str, rapidjson::SizeType len, bool) {
    size_t at = Tell();
    if (len > options_.max_string_bytes) {
      abort_code_ = ErrorCode::kLimitExceeded;
      return Abort(at, "a string of " + std::to_string(len) +
                           " bytes is longer than the limit of " +
                           std::to_string(options_.max_string_bytes));
    }
    if (frames_.empty())
      return Abort(at, "a FHIR resource must be a JSON object");
    Frame& top = frames_.back();
    if (top.skip) return true;
    if (!top.array && top.key == "resourceType") {
      Node* n = top.node;
      n->set_resource(true);
      n->set_resource_type(std::string(str, len));
      if (frames_.size() == 1) n->set_name(n->resource_type());
      return true;
    }
    return Primitive(at, std::string(str, len), JsonKind::kString);
  }

  bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
    size_t end = Tell();
    return Primitive(end >= len ? end - len : 0, std::string(str, len),
                     JsonKind::kNumber);
  }

  bool Bool(bool b) {
    size_t end = Tell();
    size_t len = b ? 4 : 5;
    return Primitive(end >= len ? end - len : 0, b ? "true" : "false",
                     JsonKind::kBool);
  }

  bool Null() {
    size_t at = Tell() >= 4 ? Tell() - 4 : 0;
    if (frames_.empty())
      return Abort(at, "a FHIR resource must be a JSON object");
    Frame& top = frames_.back();
    if (top.skip) return true;
    if (!top.array) {
      Issue(at, "structure", "null-value",
            "'" + top.key + "' is null; FHIR JSON omits empty elements",
            PathOf(*top.node) + "." + top.key);
      return true;
    }
    // A placeholder that a `_name` array entry may fill.
    Node* n = NewChild(at);
    if (n) n->set_array_hint(true);
    return true;
  }

 private:
  struct Frame {
    Node* node;  // object being filled, or the array's owner
    bool array;  // elements become children of `node` named `key`
    std::string key;
    size_t array_start;
    bool skip;  // consume and drop (nested arrays, bad resourceType)
    int has_underscore;
  };

  size_t Tell() const { return stream_->Tell(); }

  bool Enter(size_t at) {
    if (++depth_ > options_.max_depth) {
      abort_code_ = ErrorCode::kLimitExceeded;
      return Abort(at, "nesting deeper than the limit of " +
                           std::to_string(options_.max_depth) + " levels");
    }
    return true;
  }

  bool PushSkip() {
    frames_.push_back({nullptr, false, {}, 0, true, 0});
    return true;
  }

  bool Abort(size_t at, std::string reason) {
    abort_reason_ = std::move(reason);
    abort_offset_ = at;
    return false;
  }

  void Position(Node& n, size_t at) {
    uint32_t line, col;
    lines_.At(at, &line, &col);
    n.set_position(line, col);
  }

  // A new child for the value at `at`, under the current key or array.
  Node* NewChild(size_t at) {
    Frame& top = frames_.back();
    if (top.skip) return nullptr;
    if (!top.array && top.key == "resourceType") {
      Issue(at, "structure", "resource-type", "resourceType must be a string");
      return nullptr;
    }
    Node& n = top.node->AddChild(Node(top.key, nullptr));
    n.set_array_hint(top.array);
    Position(n, top.array ? at : key_offset_);
    return &n;
  }

  bool Primitive(size_t at, std::string value, JsonKind kind) {
    if (frames_.empty())
      return Abort(at, "a FHIR resource must be a JSON object");
    Node* n = NewChild(at);
    if (n) n->set_value(std::move(value), kind);
    return true;
  }

  void Issue(size_t at, const char* type, const char* code, std::string msg,
             std::string location = {}) {
    genogate::Issue i;
    i.severity = Severity::kError;
    i.type = type;
    i.code = code;
    i.message = std::move(msg);
    i.location = std::move(location);
    lines_.At(at, &i.line, &i.column);
    doc_->issues.Add(std::move(i));
  }

  void Structure(const Node& n, const char* code, std::string msg,
                 std::string location = {}) {
    genogate::Issue i;
    i.severity = Severity::kError;
    i.type = "structure";
    i.code = code;
    i.message = std::move(msg);
    i.location = std::move(location);
    i.line = n.line();
    i.column = n.column();
    doc_->issues.Add(std::move(i));
  }

  // The FHIRPath location of `n` (its ancestors are the open frames, or it
  // is the innermost open object), with indices for JSON array entries.
  std::string PathOf(const Node& n) const {
    std::vector<const Node*> chain;
    for (const Frame& f : frames_)
      if (!f.skip && !f.array && f.node != nullptr) chain.push_back(f.node);
    if (chain.empty() || chain.back() != &n) chain.push_back(&n);
    std::string out;
    for (size_t i = 0; i < chain.size(); ++i) {
      if (i == 0) {
        out = chain[0]->resource_type().empty() ? chain[0]->name()
                                                : chain[0]->resource_type();
        continue;
      }
      out += '.';
      out += ChildStep(*chain[i - 1], *chain[i]);
    }
    return out;
  }

  // "name" or "name[i]" for `c`, a child of `parent`; a `_name` entry is
  // named as its primitive.
  static std::string ChildStep(const Node& parent, const Node& c) {
    std::string name = c.name();
    if (name.size() > 1 && name[0] == '_') name.erase(0, 1);
    if (!c.array_hint()) return name;
    size_t idx = 0;
    for (const Node& s : parent.children()) {
      if (&s == &c) break;
      if (s.name() == c.name()) ++idx;
    }
    return name + "[" + std::to_string(idx) + "]";
  }

  // Merges `_name` entries into their primitives and checks duplicates.
  void Finish(Node& n, bool underscores) {
    std::vector<Node>& kids = n.mutable_children();
    // Locations are worked out only when there is something to report.
    std::string path;
    auto at = [&](const Node& c, bool indexed) {
      if (path.empty()) path = PathOf(n);
      std::string name = c.name();
      if (name.size() > 1 && name[0] == '_') name.erase(0, 1);
      return path + "." + (indexed ? ChildStep(n, c) : name);
    };
    // Duplicate keys: a name whose entries are not one contiguous run, or a
    // run of non-array entries longer than one.
    for (size_t i = 0; i < kids.size(); ++i) {
      if (i > 0 && kids[i].name() == kids[i - 1].name()) {
        if (!kids[i].array_hint()) {
          Structure(kids[i], "duplicate-key",
                    "duplicate JSON property '" + kids[i].name() + "'",
                    at(kids[i], false));
        }
        continue;
      }
      for (size_t j = 0; j < i; ++j) {
        if (kids[j].name() == kids[i].name()) {
          Structure(kids[i], "duplicate-key",
                    "duplicate JSON property '" + kids[i].name() + "'",
                    at(kids[i], false));
          break;
        }
      }
    }
    if (underscores) {
      std::vector<bool> drop(kids.size(), false);
      for (size_t i = 0; i < kids.size(); ++i) {
        const std::string& uname = kids[i].name();
        if (drop[i] || uname.size() < 2 || uname[0] != '_') continue;
        if (i > 0 && kids[i - 1].name() == uname) continue;  // not a run start
        std::string base = uname.substr(1);
        std::vector<size_t> u, b;
        for (size_t j = 0; j < kids.size(); ++j) {
          if (kids[j].name() == uname) u.push_back(j);
          if (kids[j].name() == base) b.push_back(j);
        }
        for (size_t j : u) {
          if (kids[j].has_value()) {
            Structure(kids[j], "underscore-value",
                      "'" + uname +
                          "' must be an object with id/extension, not a value",
                      at(kids[j], true));
          }
        }
        if (b.empty()) {
          // Only extensions: the `_name` entries become the primitives.
          for (size_t j : u) kids[j].set_name(base);
          continue;
        }
        if (u.size() != b.size() ||
            kids[u[0]].array_hint() != kids[b[0]].array_hint()) {
          Structure(kids[u[0]], "underscore-alignment",
                    "'" + uname + "' has " + std::to_string(u.size()) +
                        " entries but '" + base + "' has " +
                        std::to_string(b.size()),
                    at(kids[u[0]], false));
        }
        for (size_t k = 0; k < u.size() && k < b.size(); ++k) {
          Node& from = kids[u[k]];
          Node& to = kids[b[k]];
          for (Node& c : from.mutable_children()) to.AddChild(std::move(c));
          drop[u[k]] = true;
        }
        for (size_t k = b.size(); k < u.size(); ++k) drop[u[k]] = true;
      }
      std::vector<Node> kept;
      kept.reserve(kids.size());
      for (size_t i = 0; i < kids.size(); ++i) {
        if (!drop[i]) kept.push_back(std::move(kids[i]));
      }
      kids = std::move(kept);
    }
    for (const Node& c : kids) {
      if (c.array_hint() && !c.has_value() && c.children().empty()) {
        Structure(c, "null-value",
                  "'" + c.name() + "' has a null entry with no matching '_" +
                      c.name() + "' extension",
                  at(c, true));
      }
    }
  }

  LineCounter lines_;
  const rapidjson::StringStream* stream_;
  const ParseOptions& options_;
  Document* doc_;
  std::vector<Frame> frames_;
  uint32_t depth_ = 0;
  size_t key_offset_ = 0;
  bool root_started_ = false;
  std::string abort_reason_;
  ErrorCode abort_code_ = ErrorCode::kInvalidInput;
  size_t abort_offset_ = 0;
};

}  // namespace

Result<Document> ParseJson(std::string_view text, const Schema* schema,
                           const ParseOptions& options) {
  if (text.size() > options.max_bytes) {
    return Error(ErrorCode::kLimitExceeded,
                 "JSON document of " + std::to_string(text.size()) +
                     " bytes is larger than the limit of " +
                     std::to_string(options.max_bytes));
  }
  // UTF-8 is checked up front (much faster than RapidJSON's per-character
  // check, which also reads past a truncated sequence at the end).
  if (size_t bad = FindInvalidUtf8(text); bad != text.size()) {
    internal::LineCounter lc(text);
    uint32_t line, col;
    lc.At(bad, &line, &col);
    return Error(ErrorCode::kInvalidInput,
                 "JSON syntax error at line " + std::to_string(line) +
                     ", column " + std::to_string(col) +
                     ": invalid UTF-8 byte sequence");
  }
  // RapidJSON's StringStream needs a NUL-terminated buffer (padded so no
  // look-ahead can leave it).
  std::string buf;
  buf.reserve(text.size() + 8);
  buf.assign(text);
  buf.append(7, '\0');
  rapidjson::StringStream stream(buf.c_str());
  Document doc;
  Builder builder(text, &stream, options, &doc);
  rapidjson::Reader reader;
  constexpr unsigned kFlags =
      rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, builder);
  if (!ok) {
    size_t offset = ok.Offset();
    std::string reason;
    ErrorCode code = ErrorCode::kInvalidInput;
    if (!builder.abort_reason().empty()) {
      reason = builder.abort_reason();
      offset = builder.abort_offset();
      code = builder.abort_code();
    } else {
      reason = rapidjson::GetParseError_En(ok.Code());
      if (offset < text.size() && text[offset] == '\0') {
        reason = "NUL byte in the document";
      }
    }
    internal::LineCounter lc(text);
    uint32_t line, col;
    lc.At(offset, &line, &col);
    return Error(code, "JSON syntax error at line " + std::to_string(line) +
                           ", column " + std::to_string(col) + ": " + reason);
  }
  if (std::strlen(buf.c_str()) != text.size()) {
    return Error(ErrorCode::kInvalidInput, "NUL byte in the JSON document");
  }
  if (schema) {
    internal::TypeResourceTree(doc.root, *schema, internal::Origin::kJson,
                               doc.issues);
  }
  return doc;
}

}  // namespace genogate::fhir

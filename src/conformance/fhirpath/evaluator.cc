// The FHIRPath evaluator: a recursive walk of the immutable AST with a
// per-evaluation state (budget, error, variables).
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <unordered_map>
#include <unordered_set>

#include "conformance/fhirpath/ast.h"
#include "conformance/fhirpath/convert.h"
#include "conformance/fhirpath/fhirpath.h"
#include "conformance/fhirpath/html_checks.h"
#include "conformance/fhirpath/regex_cache.h"
#include "fhir/schema.h"

namespace genogate::fhirpath {

std::string Item::TypeName() const {
  switch (kind()) {
    case Kind::kNode: {
      std::string_view t = NodeTypeName(*node());
      constexpr std::string_view kSys = "http://hl7.org/fhirpath/";
      if (t.substr(0, kSys.size()) == kSys)
        return std::string(t.substr(kSys.size()));
      return "FHIR." + std::string(t);
    }
    case Kind::kBoolean:
      return "System.Boolean";
    case Kind::kInteger:
      return "System.Integer";
    case Kind::kDecimal:
      return "System.Decimal";
    case Kind::kString:
      return "System.String";
    case Kind::kDateTime:
      switch (temporal().kind) {
        case DateTimeValue::Kind::kDate:
          return "System.Date";
        case DateTimeValue::Kind::kDateTime:
          return "System.DateTime";
        case DateTimeValue::Kind::kTime:
          return "System.Time";
      }
      return "System.DateTime";
    case Kind::kQuantity:
      return "System.Quantity";
  }
  return "";
}

namespace {

enum Truth : int { kFalse = 0, kTrue = 1, kEmpty = 2, kError = 3 };

bool IsSystemTypeName(std::string_view n) {
  return n == "Boolean" || n == "String" || n == "Integer" || n == "Decimal" ||
         n == "Date" || n == "DateTime" || n == "Time" || n == "Quantity";
}

// Case-sensitive match of a choice element by its typed name:
// child "value" of type Quantity matches "valueQuantity".
bool ChoiceMatches(const fhir::Node& c, std::string_view name) {
  const std::string& base = c.name();
  if (name.size() <= base.size() || name.compare(0, base.size(), base) != 0) {
    return false;
  }
  if (c.def() != nullptr && !c.def()->is_choice) return false;
  std::string_view t = NodeTypeName(c);
  std::string_view suffix = name.substr(base.size());
  if (t.empty() || suffix.size() != t.size()) return false;
  if (suffix[0] != (t[0] >= 'a' && t[0] <= 'z' ? t[0] - 32 : t[0]))
    return false;
  return suffix.substr(1) == t.substr(1);
}

bool ValidDouble(double d) { return std::isfinite(d); }

DateTimeValue NowValue() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                now.time_since_epoch())
                .count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  DateTimeValue v;
  v.kind = DateTimeValue::Kind::kDateTime;
  v.precision = DateTimeValue::Precision::kMillisecond;
  v.year = tm.tm_year + 1900;
  v.month = tm.tm_mon + 1;
  v.day = tm.tm_mday;
  v.hour = tm.tm_hour;
  v.minute = tm.tm_min;
  v.second = tm.tm_sec;
  v.millis = static_cast<int>(ms % 1000);
  v.has_tz = true;
  v.tz_minutes = 0;
  return v;
}

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>()(s);
  }
};

}  // namespace

class Evaluator {
 public:
  Evaluator(const Expression& e, const EvalContext& ctx) : expr_(e), ctx_(ctx) {
    if (ctx.max_time.count() > 0) {
      deadline_ = std::chrono::steady_clock::now() + ctx.max_time;
    }
  }

  Result<Collection> Run() {
    Frame top{&ctx_.focus, 0, nullptr};
    Collection out;
    if (!Eval(expr_.ast(), ctx_.focus, top, &out)) {
      return Error(error_code_, error_);
    }
    return out;
  }

 private:
  struct Frame {
    const Collection* this_coll;
    int64_t index;
    const Collection* total;
  };

  // ------------------------------------------------------------ helpers

  bool Fail(const Ast& at, std::string msg,
            ErrorCode code = ErrorCode::kInvalidInput) {
    if (error_.empty()) {
      error_code_ = code;
      error_ = "FHIRPath evaluation error at column " +
               std::to_string(at.pos + 1) + ": " + msg;
    }
    return false;
  }

  bool Step(const Ast& a) {
    ++steps_;
    if (ctx_.max_steps != 0 && steps_ > ctx_.max_steps) {
      return Fail(
          a, "step budget of " + std::to_string(ctx_.max_steps) + " exhausted",
          ErrorCode::kLimitExceeded);
    }
    if (deadline_ && (steps_ & 1023) == 0 &&
        std::chrono::steady_clock::now() > *deadline_) {
      return Fail(a, "time budget exhausted", ErrorCode::kTimeout);
    }
    return true;
  }

  // Singleton evaluation as Boolean (spec 4.5 "Singleton Evaluation of
  // Collections"): one Boolean -> its value; one other item -> true.
  Truth ToTruth(const Ast& at, const Collection& c) {
    if (c.empty()) return kEmpty;
    if (c.size() > 1) {
      Fail(at, "expected a single Boolean, found a collection of " +
                   std::to_string(c.size()) + " items");
      return kError;
    }
    std::optional<Item> s = ToSystem(c[0]);
    if (s && s->kind() == Item::Kind::kBoolean)
      return s->boolean() ? kTrue : kFalse;
    return kTrue;
  }

  // Input must have at most one item.
  bool Single(const Ast& at, const Collection& c, const char* what) {
    if (c.size() > 1) {
      return Fail(at, std::string(what) + " requires a single item, found " +
                          std::to_string(c.size()));
    }
    return true;
  }

  bool EvalArg(const Ast& fn, size_t i, const Collection& focus,
               const Frame& fr, Collection* out) {
    return Eval(*fn.args[i], focus, fr, out);
  }

  // An argument evaluated once against the expression focus, as a single
  // item; `present` false when empty.
  bool SingleArg(const Ast& fn, size_t i, const Collection& focus,
                 const Frame& fr, std::optional<Item>* out) {
    Collection c;
    if (!EvalArg(fn, i, focus, fr, &c)) return false;
    if (!Single(*fn.args[i], c, "argument")) return false;
    if (c.empty()) {
      out->reset();
    } else {
      *out = std::move(c[0]);
    }
    return true;
  }

  static void PushBool(Collection* out, bool b) {
    out->push_back(Item::Boolean(b));
  }

  // The tail of toX() / convertsToX(): convertsToX() pushes whether the
  // conversion gave a value, toX() the value made by `make` (nothing when
  // there is none).
  template <typename T, typename Make>
  static void PushConversion(Collection* out, bool converts,
                             std::optional<T>& value, Make make) {
    if (converts) {
      PushBool(out, value.has_value());
    } else if (value) {
      out->push_back(make(std::move(*value)));
    }
  }

  static bool Contains(const Collection& c, const Item& it) {
    for (const Item& x : c) {
      auto e = ItemsEqual(x, it);
      if (e && *e) return true;
    }
    return false;
  }

  // Builds a collection without duplicates (by FHIRPath `=`) in linear
  // time for primitive values: strings, numbers and booleans are keyed by
  // their canonical text; other items (dates, quantities, complex nodes)
  // are compared pairwise among themselves, as they can equal no keyed item.
  class Distinct {
   public:
    explicit Distinct(Collection* out) : out_(out) {}
    // Appends `it` unless an equal item is already there; true if added.
    bool Add(const Item& it) {
      if (it.is_node() && !seen_nodes_.insert(it.node()).second) return false;
      std::string key;
      if (Key(it, &key)) {
        if (!keys_.insert(std::move(key)).second) return false;
      } else {
        // Complex nodes, dates and quantities: compared only with items
        // of the same shape hash (equal items always share it).
        std::vector<size_t>& bucket = slow_[ShapeHash(it)];
        for (size_t i : bucket) {
          auto e = ItemsEqual((*out_)[i], it);
          if (e && *e) return false;
        }
        bucket.push_back(out_->size());
      }
      out_->push_back(it);
      return true;
    }

   private:
    static bool Key(const Item& it, std::string* key) {
      if (it.is_node()) {
        const fhir::Node& n = *it.node();
        switch (PrimOfNode(n)) {
          case Prim::kString:
            *key = "s" + n.value();
            return true;
          case Prim::kBoolean:
            *key = n.value() == "true" ? "b1" : "b0";
            return true;
          case Prim::kInteger:
          case Prim::kDecimal: {
            auto d = Decimal::Parse(n.value());
            if (!d) return false;
            *key = "n" + d->Trimmed().ToString();
            return true;
          }
          default:
            return false;
        }
      }
      switch (it.kind()) {
        case Item::Kind::kString:
          *key = "s" + it.string();
          return true;
        case Item::Kind::kBoolean:
          *key = it.boolean() ? "b1" : "b0";
          return true;
        case Item::Kind::kInteger:
          *key = "n" + std::to_string(it.integer());
          return true;
        case Item::Kind::kDecimal:
          *key = "n" + it.decimal().Trimmed().ToString();
          return true;
        default:
          return false;
      }
    }

    // A hash that equal items share: for a complex node, the names of its
    // descendants and its string values (other primitive values, such as
    // 1.0 and 1.00, can be equal with different text, so they are left out).
    static size_t ShapeHash(const Item& it) {
      if (!it.is_node()) return static_cast<size_t>(it.kind());
      // Date/time nodes and Quantity-typed nodes can equal system values.
      std::optional<Item> sys = ToSystem(it);
      if (sys && !sys->is_node()) return static_cast<size_t>(sys->kind());
      return NodeHash(*it.node(), 0);
    }
    static size_t NodeHash(const fhir::Node& n, int depth) {
      size_t h = 0x9e3779b97f4a7c15ULL;
      if (PrimOfNode(n) == Prim::kString)
        h ^= std::hash<std::string>{}(n.value());
      if (depth >= 8) return h;
      for (const fhir::Node& c : n.children()) {
        if (c.name() == "id") continue;  // ignored by equivalence
        size_t k =
            std::hash<std::string>{}(c.name()) ^ (NodeHash(c, depth + 1) << 1);
        h = (h ^ k) * 0x100000001b3ULL;
      }
      return h;
    }

    Collection* out_;
    std::unordered_set<const fhir::Node*> seen_nodes_;
    std::unordered_set<std::string> keys_;
    std::unordered_map<size_t, std::vector<size_t>> slow_;
  };

  bool IsType(const Item& it, const TypeSpec& t) {
    if (!it.is_node()) {
      if (!t.ns.empty() && t.ns != "System") return false;
      switch (it.kind()) {
        case Item::Kind::kBoolean:
          return t.name == "Boolean";
        case Item::Kind::kInteger:
          return t.name == "Integer";
        case Item::Kind::kDecimal:
          return t.name == "Decimal";
        case Item::Kind::kString:
          return t.name == "String";
        case Item::Kind::kQuantity:
          return t.name == "Quantity";
        case Item::Kind::kDateTime:
          switch (it.temporal().kind) {
            case DateTimeValue::Kind::kDate:
              return t.name == "Date";
            case DateTimeValue::Kind::kDateTime:
              return t.name == "DateTime";
            case DateTimeValue::Kind::kTime:
              return t.name == "Time";
          }
          return false;
        case Item::Kind::kNode:
          return false;
      }
      return false;
    }
    const fhir::Node& n = *it.node();
    if (t.ns == "System") {
      // FHIR primitives whose type is a System type (Element.id).
      std::string_view tn = NodeTypeName(n);
      return tn == "http://hl7.org/fhirpath/System." + t.name;
    }
    if (t.ns.empty() && IsSystemTypeName(t.name) && t.name != "Quantity") {
      return NodeTypeName(n) == "http://hl7.org/fhirpath/System." + t.name;
    }
    return NodeIsA(n, t.name);
  }

  // Children named `name` of each item of `in` (FHIR navigation).
  void Navigate(const Collection& in, std::string_view name, bool head,
                Collection* out) {
    for (const Item& it : in) {
      if (!it.is_node()) continue;
      const fhir::Node* n = it.node();
      if (head && !name.empty() && name[0] >= 'A' && name[0] <= 'Z' &&
          n->is_resource() && NodeIsA(*n, name)) {
        out->push_back(it);
        continue;
      }
      // Hot loop: compare length and first byte before the bytes, and try
      // the choice form only for choice (or untyped) elements.
      const size_t len = name.size();
      if (len == 0) continue;
      const char first = name[0];
      for (const fhir::Node& c : n->children()) {
        const std::string& cn = c.name();
        if (cn.empty() || cn[0] != first) continue;
        if (cn.size() == len) {
          if (std::memcmp(cn.data(), name.data(), len) == 0) {
            out->push_back(Item::Of(&c));
          }
        } else if (cn.size() < len &&
                   (c.def() == nullptr || c.def()->is_choice) &&
                   ChoiceMatches(c, name)) {
          out->push_back(Item::Of(&c));
        }
      }
    }
  }

  // ------------------------------------------------------------ eval

  bool Eval(const Ast& a, const Collection& focus, const Frame& fr,
            Collection* out) {
    if (a.context_free &&
        (a.kind == NodeKind::kMember || a.kind == NodeKind::kFunction ||
         a.kind == NodeKind::kBinary || a.kind == NodeKind::kIndexer)) {
      // Independent of the focus: computed once per evaluation.
      auto it = memo_.find(&a);
      if (it == memo_.end()) {
        Collection value;
        if (!EvalNode(a, focus, fr, &value)) return false;
        it = memo_.emplace(&a, std::move(value)).first;
      } else if (!Step(a)) {
        return false;
      }
      out->insert(out->end(), it->second.begin(), it->second.end());
      return true;
    }
    return EvalNode(a, focus, fr, out);
  }

  bool EvalNode(const Ast& a, const Collection& focus, const Frame& fr,
                Collection* out) {
    if (!Step(a)) return false;
    switch (a.kind) {
      case NodeKind::kLiteral:
        out->push_back(a.literal);
        return true;
      case NodeKind::kEmpty:
        return true;
      case NodeKind::kThis:
        out->insert(out->end(), fr.this_coll->begin(), fr.this_coll->end());
        return true;
      case NodeKind::kIndex:
        out->push_back(Item::Integer(fr.index));
        return true;
      case NodeKind::kTotal:
        if (fr.total)
          out->insert(out->end(), fr.total->begin(), fr.total->end());
        return true;
      case NodeKind::kResourceVar:
        if (ctx_.resource) out->push_back(Item::Of(ctx_.resource));
        return true;
      case NodeKind::kRootResourceVar:
        if (ctx_.root_resource) out->push_back(Item::Of(ctx_.root_resource));
        return true;
      case NodeKind::kContextVar:
        out->insert(out->end(), ctx_.focus.begin(), ctx_.focus.end());
        return true;
      case NodeKind::kVariable: {
        auto it = ctx_.variables.find(a.name);
        if (it == ctx_.variables.end()) {
          return Fail(a, "undefined variable %" + a.name);
        }
        out->insert(out->end(), it->second.begin(), it->second.end());
        return true;
      }
      case NodeKind::kMember: {
        if (a.args[0] == nullptr) {
          Navigate(focus, a.name, true, out);
          return true;
        }
        Collection in;
        if (!Eval(*a.args[0], focus, fr, &in)) return false;
        Navigate(in, a.name, false, out);
        return true;
      }
      case NodeKind::kIndexer: {
        Collection in, idx;
        if (!Eval(*a.args[0], focus, fr, &in)) return false;
        if (!Eval(*a.args[1], focus, fr, &idx)) return false;
        if (idx.empty()) return true;
        std::optional<Item> i =
            idx.size() == 1 ? ToSystem(idx[0]) : std::nullopt;
        if (!i || i->kind() != Item::Kind::kInteger) {
          return Fail(a, "an indexer requires a single Integer");
        }
        int64_t k = i->integer();
        if (k >= 0 && static_cast<uint64_t>(k) < in.size())
          out->push_back(in[k]);
        return true;
      }
      case NodeKind::kUnary: {
        Collection in;
        if (!Eval(*a.args[0], focus, fr, &in)) return false;
        if (in.empty()) return true;
        if (!Single(a, in, "unary operator")) return false;
        std::optional<Item> v = ToSystem(in[0]);
        if (!v) return Fail(a, "unary operator on a non-number");
        if (a.op == Op::kPos) {
          out->push_back(*v);
          return true;
        }
        switch (v->kind()) {
          case Item::Kind::kInteger:
            if (v->integer() == INT64_MIN) return true;
            out->push_back(Item::Integer(-v->integer()));
            return true;
          case Item::Kind::kDecimal:
            out->push_back(Item::Dec(v->decimal().Negate()));
            return true;
          case Item::Kind::kQuantity: {
            Quantity q = v->quantity();
            q.value = q.value.Negate();
            out->push_back(Item::Qty(q));
            return true;
          }
          default:
            return Fail(a, "unary '-' on a non-number");
        }
      }
      case NodeKind::kTypeOp: {
        Collection in;
        if (!Eval(*a.args[0], focus, fr, &in)) return false;
        if (a.op == Op::kIs) {
          if (in.empty()) return true;
          if (!Single(a, in, "'is'")) return false;
          PushBool(out, IsType(in[0], a.type));
          return true;
        }
        // 'as' filters a collection of any size (FHIR R4's dom-3 applies
        // as(canonical) to descendants(); FHIRPath.js does the same).
        for (const Item& it : in) {
          if (IsType(it, a.type)) out->push_back(it);
        }
        return true;
      }
      case NodeKind::kBinary:
        return Binary(a, focus, fr, out);
      case NodeKind::kFunction:
        return Function(a, focus, fr, out);
    }
    return Fail(a, "internal: unknown AST node");
  }

  // ------------------------------------------------------- operators

  bool Binary(const Ast& a, const Collection& focus, const Frame& fr,
              Collection* out) {
    Collection l, r;
    switch (a.op) {
      case Op::kAnd:
      case Op::kOr:
      case Op::kXor:
      case Op::kImplies: {
        if (!Eval(*a.args[0], focus, fr, &l)) return false;
        Truth x = ToTruth(*a.args[0], l);
        if (x == kError) return false;
        // Short-circuit where the result is already known.
        if ((a.op == Op::kAnd && x == kFalse) ||
            (a.op == Op::kOr && x == kTrue)) {
          PushBool(out, a.op == Op::kOr);
          return true;
        }
        if (a.op == Op::kImplies && x == kFalse) {
          PushBool(out, true);
          return true;
        }
        if (!Eval(*a.args[1], focus, fr, &r)) return false;
        Truth y = ToTruth(*a.args[1], r);
        if (y == kError) return false;
        Truth res;
        switch (a.op) {
          case Op::kAnd:
            res = (x == kTrue && y == kTrue) ? kTrue
                  : (y == kFalse)            ? kFalse
                                             : kEmpty;
            break;
          case Op::kOr:
            res = (y == kTrue)                   ? kTrue
                  : (x == kFalse && y == kFalse) ? kFalse
                                                 : kEmpty;
            break;
          case Op::kXor:
            res = (x == kEmpty || y == kEmpty) ? kEmpty
                                               : (x != y ? kTrue : kFalse);
            break;
          default:  // implies, x is true or empty
            res = x == kTrue ? y : (y == kTrue ? kTrue : kEmpty);
            break;
        }
        if (res != kEmpty) PushBool(out, res == kTrue);
        return true;
      }
      default:
        break;
    }
    if (!Eval(*a.args[0], focus, fr, &l)) return false;
    if (!Eval(*a.args[1], focus, fr, &r)) return false;
    switch (a.op) {
      case Op::kUnion: {
        Distinct d(out);
        for (const Item& it : l) d.Add(it);
        for (const Item& it : r) d.Add(it);
      }
        return true;
      case Op::kEq:
      case Op::kNe: {
        if (l.empty() || r.empty()) return true;
        if (l.size() != r.size()) {
          PushBool(out, a.op == Op::kNe);
          return true;
        }
        bool all = true;
        for (size_t i = 0; i < l.size(); ++i) {
          auto e = ItemsEqual(l[i], r[i]);
          if (!e) return true;  // empty
          if (!*e) all = false;
        }
        PushBool(out, a.op == Op::kEq ? all : !all);
        return true;
      }
      case Op::kEquiv:
      case Op::kNotEquiv: {
        bool eq;
        if (l.empty() || r.empty()) {
          eq = l.empty() && r.empty();
        } else if (l.size() != r.size()) {
          eq = false;
        } else {
          eq = true;
          for (const Item& x : l) {
            bool found = false;
            for (const Item& y : r) {
              if (ItemsEquivalent(x, y)) {
                found = true;
                break;
              }
            }
            if (!found) {
              eq = false;
              break;
            }
          }
        }
        PushBool(out, a.op == Op::kEquiv ? eq : !eq);
        return true;
      }
      case Op::kLt:
      case Op::kGt:
      case Op::kLe:
      case Op::kGe: {
        if (l.empty() || r.empty()) return true;
        if (!Single(a, l, "comparison") || !Single(a, r, "comparison"))
          return false;
        bool type_error = false;
        auto c = ItemsCompare(l[0], r[0], &type_error);
        if (type_error) {
          return Fail(a, "cannot compare " + l[0].TypeName() + " with " +
                             r[0].TypeName());
        }
        if (!c) return true;
        bool v = a.op == Op::kLt   ? *c < 0
                 : a.op == Op::kGt ? *c > 0
                 : a.op == Op::kLe ? *c <= 0
                                   : *c >= 0;
        PushBool(out, v);
        return true;
      }
      case Op::kIn:
      case Op::kContains: {
        const Collection& item = a.op == Op::kIn ? l : r;
        const Collection& coll = a.op == Op::kIn ? r : l;
        if (item.empty()) return true;
        if (!Single(a, item, std::string(OpName(a.op)).c_str())) return false;
        PushBool(out, Contains(coll, item[0]));
        return true;
      }
      case Op::kConcat: {
        if (!Single(a, l, "'&'") || !Single(a, r, "'&'")) return false;
        std::string s;
        for (const Collection* c : {&l, &r}) {
          if (c->empty()) continue;
          auto v = StringOf((*c)[0]);
          if (!v) return Fail(a, "'&' requires strings");
          s += *v;
        }
        out->push_back(Item::String(std::move(s)));
        return true;
      }
      default:
        return Arithmetic(a, l, r, out);
    }
  }

  bool Arithmetic(const Ast& a, const Collection& l, const Collection& r,
                  Collection* out) {
    if (l.empty() || r.empty()) return true;
    if (!Single(a, l, "arithmetic") || !Single(a, r, "arithmetic"))
      return false;
    std::optional<Item> x = ToSystem(l[0]);
    std::optional<Item> y = ToSystem(r[0]);
    if (!x || !y)
      return Fail(a, std::string("operator '") + std::string(OpName(a.op)) +
                         "' on a non-primitive value");
    using K = Item::Kind;
    K kx = x->kind(), ky = y->kind();
    if (a.op == Op::kAdd && kx == K::kString && ky == K::kString) {
      out->push_back(Item::String(x->string() + y->string()));
      return true;
    }
    if (kx == K::kInteger && ky == K::kInteger && a.op != Op::kDiv) {
      int64_t p = x->integer(), q = y->integer(), res = 0;
      bool ovf = false;
      switch (a.op) {
        case Op::kAdd:
          ovf = __builtin_add_overflow(p, q, &res);
          break;
        case Op::kSub:
          ovf = __builtin_sub_overflow(p, q, &res);
          break;
        case Op::kMul:
          ovf = __builtin_mul_overflow(p, q, &res);
          break;
        case Op::kIntDiv:
          if (q == 0 || (p == INT64_MIN && q == -1)) return true;
          res = p / q;
          break;
        case Op::kMod:
          if (q == 0 || (p == INT64_MIN && q == -1)) return true;
          res = p % q;
          break;
        default:
          break;
      }
      if (!ovf) out->push_back(Item::Integer(res));
      return true;
    }
    auto num = [](const Item& i) -> std::optional<Decimal> {
      if (i.kind() == K::kInteger) return Decimal::FromInt(i.integer());
      if (i.kind() == K::kDecimal) return i.decimal();
      return std::nullopt;
    };
    std::optional<Decimal> dx = num(*x), dy = num(*y);
    if (dx && dy) {
      std::optional<Decimal> res;
      switch (a.op) {
        case Op::kAdd:
          res = Decimal::Add(*dx, *dy);
          break;
        case Op::kSub:
          res = Decimal::Sub(*dx, *dy);
          break;
        case Op::kMul:
          res = Decimal::Mul(*dx, *dy);
          break;
        case Op::kDiv:
          res = Decimal::Div(*dx, *dy);
          break;
        case Op::kIntDiv: {
          auto q = Decimal::IntDiv(*dx, *dy);
          if (q) {
            auto i = q->ToInt64();
            if (i) out->push_back(Item::Integer(*i));
          }
          return true;
        }
        case Op::kMod:
          res = Decimal::Mod(*dx, *dy);
          break;
        default:
          break;
      }
      if (res) out->push_back(Item::Dec(*res));
      return true;
    }
    // Date/time +/- quantity.
    if (kx == K::kDateTime && ky == K::kQuantity &&
        (a.op == Op::kAdd || a.op == Op::kSub)) {
      const Quantity& q = y->quantity();
      if (!q.value.IsInteger())
        return Fail(a, "date arithmetic needs a whole quantity");
      auto n = q.value.ToInt64();
      if (!n) return true;
      auto v = x->temporal().Add(a.op == Op::kAdd ? *n : -*n, q.unit);
      if (!v) return Fail(a, "cannot add '" + q.unit + "' to a date/time");
      out->push_back(Item::Temporal(*v));
      return true;
    }
    if (kx == K::kQuantity && ky == K::kQuantity &&
        (a.op == Op::kAdd || a.op == Op::kSub)) {
      const Quantity& p = x->quantity();
      const Quantity& q = y->quantity();
      if (p.unit != q.unit) return true;  // conversion not supported: empty
      auto v = a.op == Op::kAdd ? Decimal::Add(p.value, q.value)
                                : Decimal::Sub(p.value, q.value);
      if (v) out->push_back(Item::Qty(Quantity{*v, p.unit}));
      return true;
    }
    if (kx == K::kQuantity && dy && (a.op == Op::kMul || a.op == Op::kDiv)) {
      auto v = a.op == Op::kMul ? Decimal::Mul(x->quantity().value, *dy)
                                : Decimal::Div(x->quantity().value, *dy);
      if (v) out->push_back(Item::Qty(Quantity{*v, x->quantity().unit}));
      return true;
    }
    if (dx && ky == K::kQuantity && a.op == Op::kMul) {
      auto v = Decimal::Mul(*dx, y->quantity().value);
      if (v) out->push_back(Item::Qty(Quantity{*v, y->quantity().unit}));
      return true;
    }
    return Fail(a, std::string("operator '") + std::string(OpName(a.op)) +
                       "' cannot apply to " + x->TypeName() + " and " +
                       y->TypeName());
  }

  // ------------------------------------------------------- functions

  bool Function(const Ast& a, const Collection& focus, const Frame& fr,
                Collection* out) {
    Collection in_storage;
    const Collection* inp = &focus;
    if (a.args[0] != nullptr) {
      if (!Eval(*a.args[0], focus, fr, &in_storage)) return false;
      inp = &in_storage;
    }
    const Collection& in = *inp;
    const Fn fn = a.fn->fn;
    // Arguments of non-lazy functions are evaluated against the focus of
    // the whole invocation ($this of the enclosing iteration), per spec.
    switch (fn) {
      case Fn::kEmpty:
        PushBool(out, in.empty());
        return true;
      case Fn::kExists: {
        if (a.args.size() == 1) {
          PushBool(out, !in.empty());
          return true;
        }
        Collection w;
        if (!Where(a, in, fr, &w, true)) return false;
        PushBool(out, !w.empty());
        return true;
      }
      case Fn::kWhere:
        return Where(a, in, fr, out, false);
      case Fn::kAll: {
        Collection one, r;
        for (size_t i = 0; i < in.size(); ++i) {
          one.assign(1, in[i]);
          r.clear();
          Frame f{&one, static_cast<int64_t>(i), fr.total};
          if (!Eval(*a.args[1], one, f, &r)) return false;
          Truth t = ToTruth(*a.args[1], r);
          if (t == kError) return false;
          if (t != kTrue) {
            PushBool(out, false);
            return true;
          }
        }
        PushBool(out, true);
        return true;
      }
      case Fn::kAllTrue:
      case Fn::kAnyTrue:
      case Fn::kAllFalse:
      case Fn::kAnyFalse: {
        bool want = fn == Fn::kAllTrue || fn == Fn::kAnyTrue;
        bool any = fn == Fn::kAnyTrue || fn == Fn::kAnyFalse;
        bool result = !any;
        for (const Item& it : in) {
          std::optional<Item> s = ToSystem(it);
          if (!s || s->kind() != Item::Kind::kBoolean) {
            return Fail(a, std::string(a.fn->name) + " requires Booleans");
          }
          if (any && s->boolean() == want) result = true;
          if (!any && s->boolean() != want) result = false;
        }
        PushBool(out, result);
        return true;
      }
      case Fn::kSubsetOf:
      case Fn::kSupersetOf: {
        Collection other;
        if (!EvalArg(a, 1, *fr.this_coll, fr, &other)) return false;
        const Collection& sub = fn == Fn::kSubsetOf ? in : other;
        const Collection& sup = fn == Fn::kSubsetOf ? other : in;
        bool ok = true;
        for (const Item& it : sub) {
          if (!Contains(sup, it)) {
            ok = false;
            break;
          }
        }
        PushBool(out, ok);
        return true;
      }
      case Fn::kCount:
        out->push_back(Item::Integer(static_cast<int64_t>(in.size())));
        return true;
      case Fn::kDistinct: {
        Distinct d(out);
        for (const Item& it : in) d.Add(it);
      }
        return true;
      case Fn::kIsDistinct: {
        Collection d;
        Distinct dd(&d);
        for (const Item& it : in) dd.Add(it);
        PushBool(out, d.size() == in.size());
        return true;
      }
      case Fn::kSelect: {
        Collection one;
        for (size_t i = 0; i < in.size(); ++i) {
          one.assign(1, in[i]);
          Frame f{&one, static_cast<int64_t>(i), fr.total};
          if (!Eval(*a.args[1], one, f, out)) return false;
        }
        return true;
      }
      case Fn::kRepeat:
        return Repeat(a, in, fr, out);
      case Fn::kOfType:
        for (const Item& it : in) {
          if (IsType(it, a.type)) out->push_back(it);
        }
        return true;
      case Fn::kIs:
        if (in.empty()) return true;
        if (!Single(a, in, "is()")) return false;
        PushBool(out, IsType(in[0], a.type));
        return true;
      case Fn::kAs:
        for (const Item& it : in) {
          if (IsType(it, a.type)) out->push_back(it);
        }
        return true;
      case Fn::kSingle:
        if (!Single(a, in, "single()")) return false;
        out->insert(out->end(), in.begin(), in.end());
        return true;
      case Fn::kFirst:
        if (!in.empty()) out->push_back(in.front());
        return true;
      case Fn::kLast:
        if (!in.empty()) out->push_back(in.back());
        return true;
      case Fn::kTail:
        if (in.size() > 1) out->insert(out->end(), in.begin() + 1, in.end());
        return true;
      case Fn::kSkip:
      case Fn::kTake: {
        std::optional<Item> n;
        if (!SingleArg(a, 1, *fr.this_coll, fr, &n)) return false;
        if (!n) return true;
        std::optional<Item> s = ToSystem(*n);
        if (!s || s->kind() != Item::Kind::kInteger) {
          return Fail(a, std::string(a.fn->name) + " requires an Integer");
        }
        int64_t k = std::max<int64_t>(0, s->integer());
        size_t kk = static_cast<size_t>(
            std::min<int64_t>(k, static_cast<int64_t>(in.size())));
        if (fn == Fn::kSkip) {
          out->insert(out->end(), in.begin() + kk, in.end());
        } else {
          out->insert(out->end(), in.begin(), in.begin() + kk);
        }
        return true;
      }
      case Fn::kIntersect:
      case Fn::kExclude:
      case Fn::kUnion:
      case Fn::kCombine: {
        Collection other;
        if (!EvalArg(a, 1, *fr.this_coll, fr, &other)) return false;
        Distinct d(out);
        if (fn == Fn::kCombine) {
          out->insert(out->end(), in.begin(), in.end());
          out->insert(out->end(), other.begin(), other.end());
        } else if (fn == Fn::kUnion) {
          for (const Item& it : in) d.Add(it);
          for (const Item& it : other) d.Add(it);
        } else if (fn == Fn::kIntersect) {
          for (const Item& it : in) {
            if (Contains(other, it)) d.Add(it);
          }
        } else {
          for (const Item& it : in) {
            if (!Contains(other, it)) out->push_back(it);
          }
        }
        return true;
      }
      case Fn::kIif: {
        if (!Single(a, in, "iif()")) return false;
        Collection c;
        const Collection& f0 = a.args[0] ? in : focus;
        Frame f{&f0, fr.index, fr.total};
        if (!Eval(*a.args[1], f0, f, &c)) return false;
        Truth t = ToTruth(*a.args[1], c);
        if (t == kError) return false;
        if (t == kTrue) return Eval(*a.args[2], f0, f, out);
        if (a.args.size() > 3) return Eval(*a.args[3], f0, f, out);
        return true;
      }
      case Fn::kNot: {
        Truth t = ToTruth(a, in);
        if (t == kError) return false;
        if (t != kEmpty) PushBool(out, t == kFalse);
        return true;
      }
      case Fn::kTrace: {
        std::optional<Item> name;
        if (!SingleArg(a, 1, *fr.this_coll, fr, &name)) return false;
        if (ctx_.trace) {
          std::string nm = name ? ItemToString(*name).value_or("") : "";
          if (a.args.size() > 2) {
            Collection proj;
            for (size_t i = 0; i < in.size(); ++i) {
              Collection one{in[i]};
              Frame f{&one, static_cast<int64_t>(i), fr.total};
              if (!Eval(*a.args[2], one, f, &proj)) return false;
            }
            ctx_.trace(nm, proj);
          } else {
            ctx_.trace(nm, in);
          }
        }
        out->insert(out->end(), in.begin(), in.end());
        return true;
      }
      case Fn::kAggregate: {
        Collection total;
        if (a.args.size() > 2) {
          if (!Eval(*a.args[2], focus, fr, &total)) return false;
        }
        for (size_t i = 0; i < in.size(); ++i) {
          Collection one{in[i]}, next;
          Frame f{&one, static_cast<int64_t>(i), &total};
          if (!Eval(*a.args[1], one, f, &next)) return false;
          total = std::move(next);
        }
        out->insert(out->end(), total.begin(), total.end());
        return true;
      }
      case Fn::kChildren:
        for (const Item& it : in) {
          if (!it.is_node()) continue;
          out->reserve(out->size() + it.node()->children().size());
          for (const fhir::Node& c : it.node()->children())
            out->push_back(Item::Of(&c));
        }
        return true;
      case Fn::kDescendants: {
        size_t start = out->size();
        for (const Item& it : in) {
          if (it.is_node()) Descend(*it.node(), out);
        }
        (void)start;
        return true;
      }
      case Fn::kNow:
        out->push_back(Item::Temporal(Now()));
        return true;
      case Fn::kToday: {
        DateTimeValue d = Now();
        d.kind = DateTimeValue::Kind::kDate;
        d.precision = DateTimeValue::Precision::kDay;
        d.has_tz = false;
        out->push_back(Item::Temporal(d));
        return true;
      }
      case Fn::kTimeOfDay: {
        DateTimeValue t = Now();
        t.kind = DateTimeValue::Kind::kTime;
        t.has_tz = false;
        out->push_back(Item::Temporal(t));
        return true;
      }
      case Fn::kHasValue: {
        bool v = false;
        if (in.size() == 1) {
          const Item& it = in[0];
          v = it.is_node() ? (it.node()->has_value() &&
                              PrimOfNode(*it.node()) != Prim::kNone)
                           : it.kind() != Item::Kind::kQuantity;
        }
        PushBool(out, v);
        return true;
      }
      case Fn::kGetValue:
        if (in.size() == 1 && in[0].is_node() && in[0].node()->has_value()) {
          std::optional<Item> s = ToSystem(in[0]);
          if (s && !s->is_node() && s->kind() != Item::Kind::kQuantity)
            out->push_back(*s);
        }
        return true;
      case Fn::kExtension: {
        std::optional<Item> url;
        if (!SingleArg(a, 1, *fr.this_coll, fr, &url)) return false;
        if (!url) return true;
        auto u = StringOf(*url);
        if (!u) return Fail(a, "extension() requires a url string");
        for (const Item& it : in) {
          if (!it.is_node()) continue;
          for (const fhir::Node& c : it.node()->children()) {
            if (c.name() == "extension" && c.ChildValue("url") == *u) {
              out->push_back(Item::Of(&c));
            }
          }
        }
        return true;
      }
      case Fn::kResolve:
        for (const Item& it : in) Resolve(it, out);
        return true;
      case Fn::kMemberOf:
      case Fn::kConformsTo: {
        std::optional<Item> url;
        if (!SingleArg(a, 1, *fr.this_coll, fr, &url)) return false;
        if (!url || in.empty() || ctx_.services == nullptr) return true;
        if (!Single(a, in,
                    a.fn->name == "memberOf" ? "memberOf()" : "conformsTo()"))
          return false;
        auto u = StringOf(*url);
        if (!u) return true;
        std::optional<bool> r;
        if (fn == Fn::kMemberOf) {
          r = ctx_.services->MemberOf(in[0], *u);
        } else if (in[0].is_node()) {
          r = ctx_.services->ConformsTo(*in[0].node(), *u);
        }
        if (r) PushBool(out, *r);
        return true;
      }
      case Fn::kSubsumes:
      case Fn::kSubsumedBy: {
        // FHIR R4 fhirpath.html: true if the codes are equivalent or one
        // subsumes the other (a terminology question, asked of the
        // services); empty when that cannot be decided.
        Collection arg;
        if (!Eval(*a.args[1], *fr.this_coll, fr, &arg)) return false;
        if (in.empty() || arg.empty()) return true;
        if (!Single(a, in, fn == Fn::kSubsumes ? "subsumes()" : "subsumedBy()"))
          return false;
        if (arg.size() != 1) {
          return Fail(a, std::string(a.fn->name) +
                             "() expects a single code, Coding or "
                             "CodeableConcept argument");
        }
        const Item& general = fn == Fn::kSubsumes ? in[0] : arg[0];
        const Item& specific = fn == Fn::kSubsumes ? arg[0] : in[0];
        std::vector<std::pair<std::string_view, std::string_view>> g, sp;
        Codings(general, &g);
        Codings(specific, &sp);
        for (const auto& x : g) {
          for (const auto& y : sp) {
            if (x == y) {
              PushBool(out, true);
              return true;
            }
          }
        }
        if (ctx_.services == nullptr) return true;
        if (auto r = ctx_.services->Subsumes(general, specific)) {
          PushBool(out, *r);
        }
        return true;
      }
      case Fn::kHtmlChecks: {
        // xhtml: a narrative document; a string: the content of a div.
        if (in.size() != 1) return true;
        const Item& it = in[0];
        bool fragment;
        if (it.is_node()) {
          if (!it.node()->has_value()) return true;
          std::string_view t = NodeTypeName(*it.node());
          if (t == "xhtml") {
            fragment = false;
          } else if (t == "string" || t == "code" || t == "id" ||
                     t == "markdown") {
            fragment = true;
          } else {
            return true;
          }
        } else if (it.kind() == Item::Kind::kString) {
          fragment = true;
        } else {
          return true;
        }
        PushBool(out, CheckNarrativeXhtml(*StringOf(it), fragment).empty());
        return true;
      }
      case Fn::kCheckModifiers:
        out->insert(out->end(), in.begin(), in.end());
        return true;
      case Fn::kElementDefinition:
      case Fn::kSlice:
        return true;  // needs profile context: empty (see fhirpath.h)
      default:
        return Scalar(a, in, fr, out);
    }
  }

  void Descend(const fhir::Node& n, Collection* out) {
    for (const fhir::Node& c : n.children()) {
      out->push_back(Item::Of(&c));
      Descend(c, out);
    }
  }

  bool Where(const Ast& a, const Collection& in, const Frame& fr,
             Collection* out, bool stop_at_first) {
    Collection one, r;
    for (size_t i = 0; i < in.size(); ++i) {
      one.assign(1, in[i]);
      r.clear();
      Frame f{&one, static_cast<int64_t>(i), fr.total};
      if (!Eval(*a.args[1], one, f, &r)) return false;
      Truth t = ToTruth(*a.args[1], r);
      if (t == kError) return false;
      if (t == kTrue) {
        out->push_back(in[i]);
        if (stop_at_first) return true;
      }
    }
    return true;
  }

  bool Repeat(const Ast& a, const Collection& in, const Frame& fr,
              Collection* out) {
    constexpr size_t kMaxRepeat = 1 << 20;
    Collection frontier = in;
    std::unordered_set<const fhir::Node*> seen_nodes;
    while (!frontier.empty()) {
      Collection next;
      for (size_t i = 0; i < frontier.size(); ++i) {
        Collection one{frontier[i]}, r;
        Frame f{&one, static_cast<int64_t>(i), fr.total};
        if (!Eval(*a.args[1], one, f, &r)) return false;
        for (Item& it : r) {
          if (it.is_node()) {
            if (!seen_nodes.insert(it.node()).second) continue;
          } else if (Contains(*out, it)) {
            continue;
          }
          out->push_back(it);
          next.push_back(std::move(it));
        }
      }
      if (out->size() > kMaxRepeat)
        return Fail(a, "repeat() produced too many items",
                    ErrorCode::kLimitExceeded);
      frontier = std::move(next);
    }
    return true;
  }

  // The (system, code) pairs of a Coding, of each coding of a
  // CodeableConcept, or of a code (system "").
  static void Codings(
      const Item& it,
      std::vector<std::pair<std::string_view, std::string_view>>* out) {
    if (!it.is_node()) {
      if (it.kind() == Item::Kind::kString) out->emplace_back("", it.string());
      return;
    }
    const fhir::Node& n = *it.node();
    if (n.has_value()) {
      out->emplace_back("", n.value());
      return;
    }
    if (n.Child("code") != nullptr) {
      out->emplace_back(n.ChildValue("system"), n.ChildValue("code"));
      return;
    }
    for (const fhir::Node* c : n.Children("coding")) {
      if (c->Child("code") != nullptr)
        out->emplace_back(c->ChildValue("system"), c->ChildValue("code"));
    }
  }

  void Resolve(const Item& it, Collection* out) {
    std::string ref;
    if (it.is_node() && !it.node()->has_value()) {
      ref = std::string(it.node()->ChildValue("reference"));
    } else if (auto s = StringOf(it)) {
      ref = std::string(*s);
    }
    if (ref.empty()) return;
    const fhir::Node* root =
        ctx_.root_resource ? ctx_.root_resource : ctx_.resource;
    if (ref[0] == '#') {
      if (root == nullptr) return;
      if (ref.size() == 1) {
        out->push_back(Item::Of(root));
        return;
      }
      std::string_view id = std::string_view(ref).substr(1);
      for (const fhir::Node* container : {ctx_.resource, ctx_.root_resource}) {
        if (container == nullptr) continue;
        for (const fhir::Node& c : container->children()) {
          if (c.name() == "contained" && c.ChildValue("id") == id) {
            out->push_back(Item::Of(&c));
            return;
          }
        }
      }
      return;
    }
    if (root != nullptr && root->is_resource() &&
        root->resource_type() == "Bundle") {
      const BundleIndex& index = IndexBundle(*root);
      if (auto f = index.by_full_url.find(ref); f != index.by_full_url.end()) {
        out->push_back(Item::Of(f->second));
        return;
      }
      // Relative references ("Patient/1", "http://x/fhir/Patient/1",
      // version suffix stripped) match an entry by its type and id: they
      // resolve against the entry's base when its fullUrl is RESTful.
      std::string_view rel = ref;
      if (auto h = rel.find("/_history/"); h != std::string_view::npos)
        rel = rel.substr(0, h);
      if (size_t slash = rel.rfind('/');
          slash != std::string_view::npos && slash > 0) {
        size_t start = rel.rfind('/', slash - 1);
        std::string_view tid =
            start == std::string_view::npos ? rel : rel.substr(start + 1);
        if (auto t = index.by_type_id.find(tid); t != index.by_type_id.end()) {
          out->push_back(Item::Of(t->second));
          return;
        }
      }
    }
    if (ctx_.services) {
      if (const fhir::Node* n = ctx_.services->Resolve(ref))
        out->push_back(Item::Of(n));
    }
  }

  // Functions on a single (system-convertible) input item.
  bool Scalar(const Ast& a, const Collection& in, const Frame& fr,
              Collection* out) {
    const Fn fn = a.fn->fn;
    if (in.empty()) return true;
    if (!Single(a, in, (std::string(a.fn->name) + "()").c_str())) return false;
    std::optional<Item> v = ToSystem(in[0]);
    auto args = [&](size_t i, std::optional<Item>* x) {
      return SingleArg(a, i, *fr.this_coll, fr, x);
    };
    using K = Item::Kind;
    switch (fn) {
      // ---- conversions
      case Fn::kToBoolean:
      case Fn::kConvertsToBoolean: {
        std::optional<bool> b;
        if (v) {
          switch (v->kind()) {
            case K::kBoolean:
              b = v->boolean();
              break;
            case K::kInteger:
              if (v->integer() == 1) b = true;
              if (v->integer() == 0) b = false;
              break;
            case K::kDecimal: {
              int c1 = Decimal::Compare(v->decimal(), Decimal::FromInt(1));
              int c0 = Decimal::Compare(v->decimal(), Decimal::FromInt(0));
              if (c1 == 0) b = true;
              if (c0 == 0) b = false;
              break;
            }
            case K::kString: {
              std::string s = v->string();
              for (char& c : s)
                c = static_cast<char>(
                    std::tolower(static_cast<unsigned char>(c)));
              if (s == "true" || s == "t" || s == "yes" || s == "y" ||
                  s == "1" || s == "1.0")
                b = true;
              if (s == "false" || s == "f" || s == "no" || s == "n" ||
                  s == "0" || s == "0.0")
                b = false;
              break;
            }
            default:
              break;
          }
        }
        PushConversion(out, fn == Fn::kConvertsToBoolean, b, Item::Boolean);
        return true;
      }
      case Fn::kToInteger:
      case Fn::kConvertsToInteger: {
        std::optional<int64_t> r;
        if (v) {
          if (v->kind() == K::kInteger) r = v->integer();
          if (v->kind() == K::kBoolean) r = v->boolean() ? 1 : 0;
          if (v->kind() == K::kString) {
            static const RE2 kInt("[+-]?[0-9]+");
            if (RE2::FullMatch(v->string(), kInt)) {
              auto d = Decimal::Parse(v->string());
              if (d) r = d->ToInt64();
            }
          }
        }
        PushConversion(out, fn == Fn::kConvertsToInteger, r, Item::Integer);
        return true;
      }
      case Fn::kToDecimal:
      case Fn::kConvertsToDecimal: {
        std::optional<Decimal> r;
        if (v) {
          if (v->kind() == K::kInteger) r = Decimal::FromInt(v->integer());
          if (v->kind() == K::kDecimal) r = v->decimal();
          if (v->kind() == K::kBoolean)
            r = Decimal::FromInt(v->boolean() ? 1 : 0).Rescale(1);
          if (v->kind() == K::kString) {
            static const RE2 kDec("[+-]?[0-9]+(\\.[0-9]+)?");
            if (RE2::FullMatch(v->string(), kDec))
              r = Decimal::Parse(v->string());
          }
        }
        PushConversion(out, fn == Fn::kConvertsToDecimal, r, Item::Dec);
        return true;
      }
      case Fn::kToString:
      case Fn::kConvertsToString: {
        std::optional<std::string> s = v ? ItemToString(*v) : std::nullopt;
        PushConversion(out, fn == Fn::kConvertsToString, s, Item::String);
        return true;
      }
      case Fn::kToDate:
      case Fn::kConvertsToDate:
      case Fn::kToDateTime:
      case Fn::kConvertsToDateTime:
      case Fn::kToTime:
      case Fn::kConvertsToTime: {
        std::optional<DateTimeValue> r;
        bool want_time = fn == Fn::kToTime || fn == Fn::kConvertsToTime;
        bool want_date = fn == Fn::kToDate || fn == Fn::kConvertsToDate;
        if (v && v->kind() == K::kString) {
          if (want_time)
            r = DateTimeValue::ParseTime(v->string());
          else if (want_date)
            r = DateTimeValue::ParseDate(v->string());
          else
            r = DateTimeValue::ParseDateTime(v->string());
        } else if (v && v->kind() == K::kDateTime) {
          const DateTimeValue& t = v->temporal();
          bool is_time = t.kind == DateTimeValue::Kind::kTime;
          if (want_time && is_time) r = t;
          if (!want_time && !is_time) {
            r = t;
            if (want_date) {
              r->kind = DateTimeValue::Kind::kDate;
              if (r->precision > DateTimeValue::Precision::kDay) {
                r->precision = DateTimeValue::Precision::kDay;
              }
              r->has_tz = false;
            } else {
              r->kind = DateTimeValue::Kind::kDateTime;
            }
          }
        }
        bool converts = fn == Fn::kConvertsToDate ||
                        fn == Fn::kConvertsToDateTime ||
                        fn == Fn::kConvertsToTime;
        PushConversion(out, converts, r, Item::Temporal);
        return true;
      }
      case Fn::kToQuantity:
      case Fn::kConvertsToQuantity: {
        std::optional<Quantity> q;
        if (v) {
          if (v->kind() == K::kQuantity) q = v->quantity();
          if (v->kind() == K::kInteger)
            q = Quantity{Decimal::FromInt(v->integer()), "1"};
          if (v->kind() == K::kDecimal) q = Quantity{v->decimal(), "1"};
          if (v->kind() == K::kBoolean)
            q = Quantity{
                Decimal::FromInt(v->boolean() ? 1 : 0).Rescale(1).value(), "1"};
          if (v->kind() == K::kString) {
            static const RE2 kQty(
                "([+-]?[0-9]+(?:\\.[0-9]+)?)\\s*(?:'([^']+)'|([a-z]+))?");
            std::string num, unit, word;
            if (RE2::FullMatch(v->string(), kQty, &num, &unit, &word)) {
              auto d = Decimal::Parse(num);
              if (d && (word.empty() || Quantity::IsCalendarKeyword(word))) {
                q = Quantity{*d, !unit.empty()   ? unit
                                 : !word.empty() ? word
                                                 : "1"};
              }
            }
          }
        }
        if (q && a.args.size() > 1) {
          std::optional<Item> u;
          if (!args(1, &u)) return false;
          auto us = u ? StringOf(*u) : std::nullopt;
          if (!us) return true;
          q = q->ConvertTo(*us);
        }
        PushConversion(out, fn == Fn::kConvertsToQuantity, q, Item::Qty);
        return true;
      }
      default:
        break;
    }
    // ---- string functions
    switch (fn) {
      case Fn::kIndexOf:
      case Fn::kSubstring:
      case Fn::kStartsWith:
      case Fn::kEndsWith:
      case Fn::kContains:
      case Fn::kUpper:
      case Fn::kLower:
      case Fn::kReplace:
      case Fn::kMatches:
      case Fn::kReplaceMatches:
      case Fn::kLength:
      case Fn::kToChars:
        return StringFn(a, in[0], fr, out);
      default:
        break;
    }
    // ---- math
    if (!v) return Fail(a, std::string(a.fn->name) + "() requires a number");
    std::optional<Decimal> d;
    bool is_int = v->kind() == K::kInteger;
    if (is_int) d = Decimal::FromInt(v->integer());
    if (v->kind() == K::kDecimal) d = v->decimal();
    if (v->kind() == K::kQuantity && fn == Fn::kAbs) {
      out->push_back(
          Item::Qty(Quantity{v->quantity().value.Abs(), v->quantity().unit}));
      return true;
    }
    if (!d) return Fail(a, std::string(a.fn->name) + "() requires a number");
    auto push_double = [&](double x) {
      if (!ValidDouble(x)) return;
      auto r = Decimal::FromDouble(x);
      if (r) out->push_back(Item::Dec(*r));
    };
    auto push_int = [&](const Decimal& x) {
      auto i = x.ToInt64();
      if (i) out->push_back(Item::Integer(*i));
    };
    switch (fn) {
      case Fn::kAbs:
        if (is_int) {
          if (v->integer() != INT64_MIN)
            out->push_back(Item::Integer(std::llabs(v->integer())));
        } else {
          out->push_back(Item::Dec(d->Abs()));
        }
        return true;
      case Fn::kCeiling:
        push_int(d->Ceiling());
        return true;
      case Fn::kFloor:
        push_int(d->Floor());
        return true;
      case Fn::kTruncate:
        push_int(d->Truncate());
        return true;
      case Fn::kExp:
        push_double(std::exp(d->ToDouble()));
        return true;
      case Fn::kLn:
        push_double(std::log(d->ToDouble()));
        return true;
      case Fn::kSqrt:
        push_double(std::sqrt(d->ToDouble()));
        return true;
      case Fn::kLog:
      case Fn::kPower: {
        std::optional<Item> x;
        if (!args(1, &x)) return false;
        if (!x) return true;
        std::optional<Item> xs = ToSystem(*x);
        if (!xs || (xs->kind() != K::kInteger && xs->kind() != K::kDecimal)) {
          return Fail(
              a, std::string(a.fn->name) + "() requires a number argument");
        }
        double p = xs->kind() == K::kInteger
                       ? static_cast<double>(xs->integer())
                       : xs->decimal().ToDouble();
        if (fn == Fn::kLog) {
          push_double(std::log(d->ToDouble()) / std::log(p));
          return true;
        }
        double r = std::pow(d->ToDouble(), p);
        if (is_int && xs->kind() == K::kInteger && xs->integer() >= 0) {
          if (ValidDouble(r) && std::fabs(r) < 9.2e18) {
            // Exact integer power.
            int64_t base = v->integer(), acc = 1;
            bool ovf = false;
            for (int64_t k = 0; k < xs->integer() && !ovf; ++k) {
              ovf = __builtin_mul_overflow(acc, base, &acc);
            }
            if (!ovf) out->push_back(Item::Integer(acc));
          }
          return true;
        }
        push_double(r);
        return true;
      }
      case Fn::kRound: {
        int digits = 0;
        if (a.args.size() > 1) {
          std::optional<Item> x;
          if (!args(1, &x)) return false;
          if (!x) return true;
          std::optional<Item> xs = ToSystem(*x);
          if (!xs || xs->kind() != K::kInteger || xs->integer() < 0) {
            return Fail(a, "round() requires a non-negative Integer precision");
          }
          digits = static_cast<int>(
              std::min<int64_t>(xs->integer(), Decimal::kMaxScale));
        }
        out->push_back(Item::Dec(d->Round(digits)));
        return true;
      }
      default:
        break;
    }
    return Fail(a, "internal: unhandled function " + std::string(a.fn->name));
  }

  bool StringFn(const Ast& a, const Item& item, const Frame& fr,
                Collection* out) {
    const Fn fn = a.fn->fn;
    std::optional<std::string_view> sv = StringOf(item);
    if (!sv) {
      return Fail(a, std::string(a.fn->name) + "() requires a String, found " +
                         item.TypeName());
    }
    std::string_view s = *sv;
    auto str_arg = [&](size_t i, std::optional<std::string>* x) {
      std::optional<Item> it;
      if (!SingleArg(a, i, *fr.this_coll, fr, &it)) return false;
      if (!it) {
        x->reset();
        return true;
      }
      auto v = StringOf(*it);
      if (!v)
        return Fail(a,
                    std::string(a.fn->name) + "() requires String arguments");
      *x = std::string(*v);
      return true;
    };
    auto int_arg = [&](size_t i, std::optional<int64_t>* x) {
      std::optional<Item> it;
      if (!SingleArg(a, i, *fr.this_coll, fr, &it)) return false;
      if (!it) {
        x->reset();
        return true;
      }
      std::optional<Item> v = ToSystem(*it);
      if (!v || v->kind() != Item::Kind::kInteger) {
        return Fail(a,
                    std::string(a.fn->name) + "() requires Integer arguments");
      }
      *x = v->integer();
      return true;
    };
    bool ascii =
        std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
    switch (fn) {
      case Fn::kLength:
        out->push_back(Item::Integer(
            static_cast<int64_t>(ascii ? s.size() : ToCodePoints(s).size())));
        return true;
      case Fn::kUpper:
      case Fn::kLower: {
        std::string r(s);
        for (char& c : r) {
          c = static_cast<char>(
              fn == Fn::kUpper ? std::toupper(static_cast<unsigned char>(c))
                               : std::tolower(static_cast<unsigned char>(c)));
        }
        out->push_back(Item::String(std::move(r)));
        return true;
      }
      case Fn::kToChars: {
        std::u32string cps = ToCodePoints(s);
        for (char32_t c : cps)
          out->push_back(Item::String(FromCodePoints(std::u32string(1, c))));
        return true;
      }
      case Fn::kStartsWith:
      case Fn::kEndsWith:
      case Fn::kContains:
      case Fn::kIndexOf: {
        std::optional<std::string> x;
        if (!str_arg(1, &x)) return false;
        if (!x) return true;
        if (fn == Fn::kStartsWith) PushBool(out, s.substr(0, x->size()) == *x);
        if (fn == Fn::kEndsWith) {
          PushBool(out, s.size() >= x->size() &&
                            s.substr(s.size() - x->size()) == *x);
        }
        if (fn == Fn::kContains)
          PushBool(out, s.find(*x) != std::string_view::npos);
        if (fn == Fn::kIndexOf) {
          size_t p = s.find(*x);
          int64_t idx =
              p == std::string_view::npos ? -1
              : ascii
                  ? static_cast<int64_t>(p)
                  : static_cast<int64_t>(ToCodePoints(s.substr(0, p)).size());
          out->push_back(Item::Integer(idx));
        }
        return true;
      }
      case Fn::kSubstring: {
        std::optional<int64_t> start, len;
        if (!int_arg(1, &start)) return false;
        if (!start) return true;
        if (a.args.size() > 2 && !int_arg(2, &len)) return false;
        std::u32string cps = ToCodePoints(s);
        int64_t n = static_cast<int64_t>(cps.size());
        if (*start < 0 || *start >= n) return true;
        int64_t l = n - *start;
        if (len) l = std::max<int64_t>(0, std::min(*len, l));
        out->push_back(Item::String(
            FromCodePoints(std::u32string_view(cps).substr(*start, l))));
        return true;
      }
      case Fn::kReplace: {
        std::optional<std::string> pat, sub;
        if (!str_arg(1, &pat) || !str_arg(2, &sub)) return false;
        if (!pat || !sub) return true;
        std::string r;
        if (pat->empty()) {
          std::u32string cps = ToCodePoints(s);
          r = *sub;
          for (char32_t c : cps) {
            r += FromCodePoints(std::u32string(1, c));
            r += *sub;
          }
        } else {
          size_t p = 0;
          while (true) {
            size_t q = s.find(*pat, p);
            if (q == std::string_view::npos) break;
            r.append(s.substr(p, q - p));
            r += *sub;
            p = q + pat->size();
          }
          r.append(s.substr(p));
        }
        out->push_back(Item::String(std::move(r)));
        return true;
      }
      case Fn::kMatches:
      case Fn::kReplaceMatches: {
        std::shared_ptr<const re2::RE2> re = a.regex;
        if (!re) {
          std::optional<std::string> pat;
          if (!str_arg(1, &pat)) return false;
          if (!pat) return true;
          re = expr_.regex_cache_->Get(*pat);
          if (!re) return Fail(a, "invalid regular expression: " + *pat);
        }
        if (fn == Fn::kMatches) {
          PushBool(out, RE2::PartialMatch(re2::StringPiece(s.data(), s.size()),
                                          *re));
          return true;
        }
        std::optional<std::string> sub;
        if (!str_arg(2, &sub)) return false;
        if (!sub) return true;
        // FHIRPath uses $1 for groups; RE2 uses \1.
        std::string rsub;
        for (size_t i = 0; i < sub->size(); ++i) {
          char c = (*sub)[i];
          if (c == '\\') {
            rsub += "\\\\";
          } else if (c == '$' && i + 1 < sub->size() &&
                     std::isdigit(static_cast<unsigned char>((*sub)[i + 1]))) {
            rsub += '\\';
          } else {
            rsub += c;
          }
        }
        std::string r(s);
        RE2::GlobalReplace(&r, *re, rsub);
        out->push_back(Item::String(std::move(r)));
        return true;
      }
      default:
        break;
    }
    return Fail(a, "internal: unhandled string function");
  }

  const Expression& expr_;
  const EvalContext& ctx_;
  uint64_t steps_ = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::optional<DateTimeValue> now_;                 // computed on first use
  std::unordered_map<const Ast*, Collection> memo_;  // context-free values

  // resolve() in a Bundle: the entries by fullUrl and by "Type/id" (first
  // entry wins), built on the first resolve() of the evaluation.
  // (No default member initialisers: clang cannot default-construct a
  // nested class that has them inside the enclosing class's definition.)
  struct BundleIndex {
    const fhir::Node* bundle;
    std::unordered_map<std::string_view, const fhir::Node*> by_full_url;
    std::unordered_map<std::string, const fhir::Node*, TransparentHash,
                       std::equal_to<>>
        by_type_id;
  };
  std::optional<BundleIndex> bundle_index_;

  const BundleIndex& IndexBundle(const fhir::Node& bundle) {
    if (bundle_index_ && bundle_index_->bundle == &bundle)
      return *bundle_index_;
    BundleIndex& index = bundle_index_.emplace();
    index.bundle = &bundle;
    for (const fhir::Node& e : bundle.children()) {
      if (e.name() != "entry") continue;
      const fhir::Node* res = e.Child("resource");
      if (res == nullptr) continue;
      std::string_view full = e.ChildValue("fullUrl");
      if (!full.empty()) index.by_full_url.emplace(full, res);
      std::string_view id = res->ChildValue("id");
      if (!id.empty()) {
        index.by_type_id.emplace(res->resource_type() + "/" + std::string(id),
                                 res);
      }
    }
    return index;
  }

  const DateTimeValue& Now() {
    if (!now_) now_ = ctx_.now ? *ctx_.now : NowValue();
    return *now_;
  }
  ErrorCode error_code_ = ErrorCode::kInvalidInput;
  std::string error_;
};

Result<Collection> Evaluate(const Expression& expr, const EvalContext& ctx) {
  Evaluator ev(expr, ctx);
  return ev.Run();
}

Result<Collection> EvaluateOn(std::string_view expression,
                              const fhir::Node& resource,
                              const fhir::Schema* schema) {
  Result<Expression> e = Compile(expression);
  if (!e.ok()) return e.error();
  EvalContext ctx;
  ctx.focus = {Item::Of(&resource)};
  ctx.resource = &resource;
  ctx.root_resource = &resource;
  ctx.schema = schema;
  return Evaluate(*e, ctx);
}

Result<std::optional<bool>> ToBoolean(const Collection& items) {
  if (items.empty()) return std::optional<bool>();
  if (items.size() > 1) {
    return Error(ErrorCode::kInvalidInput, "expected a single Boolean, found " +
                                               std::to_string(items.size()) +
                                               " items");
  }
  std::optional<Item> s = ToSystem(items[0]);
  if (s && s->kind() == Item::Kind::kBoolean)
    return std::optional<bool>(s->boolean());
  return std::optional<bool>(true);
}

}  // namespace genogate::fhirpath

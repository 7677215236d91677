#include "conformance/fhirpath/convert.h"

#include <cctype>

#include "base/utf8.h"
#include "fhir/schema.h"

namespace genogate::fhirpath {

Prim PrimOfType(std::string_view t) {
  constexpr std::string_view kSys = "http://hl7.org/fhirpath/System.";
  if (t.substr(0, kSys.size()) == kSys) {
    t.remove_prefix(kSys.size());
    if (t == "Boolean") return Prim::kBoolean;
    if (t == "Integer") return Prim::kInteger;
    if (t == "Decimal") return Prim::kDecimal;
    if (t == "Date") return Prim::kDate;
    if (t == "DateTime") return Prim::kDateTime;
    if (t == "Time") return Prim::kTime;
    return Prim::kString;
  }
  if (t.empty()) return Prim::kNone;
  switch (t[0]) {
    case 'b':
      if (t == "boolean") return Prim::kBoolean;
      if (t == "base64Binary") return Prim::kString;
      break;
    case 'i':
      if (t == "integer" || t == "integer64") return Prim::kInteger;
      if (t == "instant") return Prim::kDateTime;
      if (t == "id") return Prim::kString;
      break;
    case 'p':
      if (t == "positiveInt") return Prim::kInteger;
      break;
    case 'u':
      if (t == "unsignedInt") return Prim::kInteger;
      if (t == "uri" || t == "url" || t == "uuid") return Prim::kString;
      break;
    case 'd':
      if (t == "decimal") return Prim::kDecimal;
      if (t == "date") return Prim::kDate;
      if (t == "dateTime") return Prim::kDateTime;
      break;
    case 't':
      if (t == "time") return Prim::kTime;
      break;
    case 's':
      if (t == "string") return Prim::kString;
      break;
    case 'c':
      if (t == "code" || t == "canonical") return Prim::kString;
      break;
    case 'm':
      if (t == "markdown") return Prim::kString;
      break;
    case 'o':
      if (t == "oid") return Prim::kString;
      break;
    case 'x':
      if (t == "xhtml") return Prim::kString;
      break;
    default:
      break;
  }
  return Prim::kNone;
}

std::string_view NodeTypeName(const fhir::Node& n) {
  if (n.type() != nullptr) return n.type()->name();
  if (n.is_resource()) return n.resource_type();
  return {};
}

Prim PrimOfNode(const fhir::Node& n) {
  if (!n.has_value()) return Prim::kNone;
  if (n.type() != nullptr) {
    Prim p = PrimOfType(n.type()->name());
    if (p != Prim::kNone) return p;
    // Element.id / Extension.url have System.String types.
    return n.type()->is_primitive() ? Prim::kString : Prim::kNone;
  }
  switch (n.json_kind()) {
    case fhir::JsonKind::kBool:
      return Prim::kBoolean;
    case fhir::JsonKind::kNumber:
      return n.value().find_first_of(".eE") == std::string::npos
                 ? Prim::kInteger
                 : Prim::kDecimal;
    case fhir::JsonKind::kString:
      return Prim::kString;
  }
  return Prim::kString;
}

bool NodeIsA(const fhir::Node& n, std::string_view type) {
  if (n.type() != nullptr) return n.type()->IsA(type);
  if (n.is_resource()) {
    return n.resource_type() == type || type == "Resource" ||
           type == "DomainResource";
  }
  return false;
}

namespace {

bool IsQuantityNode(const fhir::Node& n) {
  if (n.type() == nullptr) return false;
  const std::string& t = n.type()->name();
  if (t == "Quantity" || t == "Age" || t == "Duration" || t == "Distance" ||
      t == "Count" || t == "SimpleQuantity" || t == "MoneyQuantity") {
    return true;
  }
  return n.type()->IsA("Quantity");
}

std::optional<Item> QuantityOfNode(const fhir::Node& n) {
  const fhir::Node* v = n.Child("value");
  if (v == nullptr || !v->has_value()) return std::nullopt;
  auto d = Decimal::Parse(v->value());
  if (!d) return std::nullopt;
  Quantity q;
  q.value = *d;
  std::string_view code = n.ChildValue("code");
  std::string_view system = n.ChildValue("system");
  if (!code.empty() &&
      (system.empty() || system == "http://unitsofmeasure.org")) {
    q.unit = std::string(code);
  } else if (std::string_view unit = n.ChildValue("unit"); !unit.empty()) {
    q.unit = std::string(unit);
  } else if (!code.empty()) {
    q.unit = std::string(code);
  }
  return Item::Qty(std::move(q));
}

}  // namespace

std::optional<Item> ToSystem(const Item& item) {
  if (!item.is_node()) return item;
  const fhir::Node& n = *item.node();
  switch (PrimOfNode(n)) {
    case Prim::kNone:
      if (IsQuantityNode(n)) return QuantityOfNode(n);
      return std::nullopt;
    case Prim::kBoolean:
      if (n.value() == "true") return Item::Boolean(true);
      if (n.value() == "false") return Item::Boolean(false);
      return std::nullopt;
    case Prim::kInteger: {
      auto d = Decimal::Parse(n.value());
      if (!d || !d->IsInteger()) return std::nullopt;
      auto i = d->ToInt64();
      if (!i) return std::nullopt;
      return Item::Integer(*i);
    }
    case Prim::kDecimal: {
      auto d = Decimal::Parse(n.value());
      if (!d) return std::nullopt;
      return Item::Dec(*d);
    }
    case Prim::kString:
      return Item::String(n.value());
    case Prim::kDate: {
      auto d = DateTimeValue::ParseDate(n.value());
      if (!d) return std::nullopt;
      return Item::Temporal(*d);
    }
    case Prim::kDateTime: {
      auto d = DateTimeValue::ParseDateTime(n.value());
      if (!d) return std::nullopt;
      return Item::Temporal(*d);
    }
    case Prim::kTime: {
      auto d = DateTimeValue::ParseTime(n.value());
      if (!d) return std::nullopt;
      return Item::Temporal(*d);
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> StringOf(const Item& item) {
  if (item.is_node()) {
    const fhir::Node* n = item.node();
    if (!n->has_value()) return std::nullopt;
    return std::string_view(n->value());
  }
  if (item.kind() == Item::Kind::kString)
    return std::string_view(item.string());
  return std::nullopt;
}

namespace {

std::optional<bool> NodesEqual(const fhir::Node& a, const fhir::Node& b,
                               bool equivalent);

std::optional<bool> SysEqual(const Item& a, const Item& b, bool equivalent) {
  using K = Item::Kind;
  K ka = a.kind(), kb = b.kind();
  if ((ka == K::kInteger || ka == K::kDecimal) &&
      (kb == K::kInteger || kb == K::kDecimal)) {
    Decimal x = ka == K::kInteger ? Decimal::FromInt(a.integer()) : a.decimal();
    Decimal y = kb == K::kInteger ? Decimal::FromInt(b.integer()) : b.decimal();
    if (equivalent) return Decimal::Equivalent(x, y);
    return Decimal::Compare(x, y) == 0;
  }
  if (ka != kb) {
    // A Quantity compares with a number only if unitless (not supported).
    return false;
  }
  switch (ka) {
    case K::kBoolean:
      return a.boolean() == b.boolean();
    case K::kString: {
      if (!equivalent) return a.string() == b.string();
      // Case-insensitive, whitespace normalised.
      auto norm = [](const std::string& s) {
        std::string out;
        bool space = false;
        for (char c : s) {
          if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = true;
            continue;
          }
          if (space && !out.empty()) out += ' ';
          space = false;
          out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return out;
      };
      return norm(a.string()) == norm(b.string());
    }
    case K::kDateTime: {
      const DateTimeValue& x = a.temporal();
      const DateTimeValue& y = b.temporal();
      DateTimeValue xd =
          x.kind == DateTimeValue::Kind::kTime ? x : x.AsDateTime();
      DateTimeValue yd =
          y.kind == DateTimeValue::Kind::kTime ? y : y.AsDateTime();
      auto c = DateTimeValue::Compare(xd, yd);
      if (!c) {
        if (equivalent) return false;
        // Different kinds (Time vs Date) are simply not equal.
        if ((x.kind == DateTimeValue::Kind::kTime) !=
            (y.kind == DateTimeValue::Kind::kTime)) {
          return false;
        }
        return std::nullopt;
      }
      return *c == 0;
    }
    case K::kQuantity: {
      if (equivalent) return Quantity::Equivalent(a.quantity(), b.quantity());
      auto c = Quantity::Compare(a.quantity(), b.quantity());
      if (!c) return std::nullopt;
      return *c == 0;
    }
    default:
      return false;
  }
}

std::optional<bool> ItemsEqualImpl(const Item& a, const Item& b,
                                   bool equivalent) {
  if (a.is_node() && b.is_node() && a.node() == b.node()) return true;
  std::optional<Item> sa = ToSystem(a);
  std::optional<Item> sb = ToSystem(b);
  if (sa && sb) return SysEqual(*sa, *sb, equivalent);
  if (a.is_node() && b.is_node() && !sa && !sb) {
    return NodesEqual(*a.node(), *b.node(), equivalent);
  }
  return false;
}

std::optional<bool> NodesEqual(const fhir::Node& a, const fhir::Node& b,
                               bool equivalent) {
  if (a.has_value() != b.has_value()) return false;
  if (a.has_value()) {
    auto r = ItemsEqualImpl(Item::Of(&a), Item::Of(&b), equivalent);
    if (!r || !*r) return r;
  }
  // Children compared by name, in order (ignoring "id" for equivalence).
  auto skip = [&](const fhir::Node& c) {
    return equivalent && c.name() == "id";
  };
  size_t i = 0, j = 0;
  const auto& ca = a.children();
  const auto& cb = b.children();
  while (true) {
    while (i < ca.size() && skip(ca[i])) ++i;
    while (j < cb.size() && skip(cb[j])) ++j;
    if (i == ca.size() || j == cb.size()) break;
    if (ca[i].name() != cb[j].name()) return false;
    auto r = NodesEqual(ca[i], cb[j], equivalent);
    if (!r || !*r) return r;
    ++i;
    ++j;
  }
  return i == ca.size() && j == cb.size();
}

}  // namespace

std::optional<bool> ItemsEqual(const Item& a, const Item& b) {
  return ItemsEqualImpl(a, b, false);
}

bool ItemsEquivalent(const Item& a, const Item& b) {
  auto r = ItemsEqualImpl(a, b, true);
  return r.value_or(false);
}

std::optional<int> ItemsCompare(const Item& a0, const Item& b0,
                                bool* type_error) {
  *type_error = false;
  std::optional<Item> a = ToSystem(a0);
  std::optional<Item> b = ToSystem(b0);
  if (!a || !b) {
    *type_error = true;
    return std::nullopt;
  }
  using K = Item::Kind;
  K ka = a->kind(), kb = b->kind();
  if ((ka == K::kInteger || ka == K::kDecimal) &&
      (kb == K::kInteger || kb == K::kDecimal)) {
    if (ka == K::kInteger && kb == K::kInteger) {
      return a->integer() < b->integer()   ? -1
             : a->integer() > b->integer() ? 1
                                           : 0;
    }
    Decimal x =
        ka == K::kInteger ? Decimal::FromInt(a->integer()) : a->decimal();
    Decimal y =
        kb == K::kInteger ? Decimal::FromInt(b->integer()) : b->decimal();
    return Decimal::Compare(x, y);
  }
  if (ka != kb) {
    *type_error = true;
    return std::nullopt;
  }
  switch (ka) {
    case K::kString: {
      int c = a->string().compare(b->string());
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case K::kDateTime: {
      const DateTimeValue& x = a->temporal();
      const DateTimeValue& y = b->temporal();
      bool xt = x.kind == DateTimeValue::Kind::kTime;
      bool yt = y.kind == DateTimeValue::Kind::kTime;
      if (xt != yt) {
        *type_error = true;
        return std::nullopt;
      }
      return DateTimeValue::Compare(xt ? x : x.AsDateTime(),
                                    yt ? y : y.AsDateTime());
    }
    case K::kQuantity:
      return Quantity::Compare(a->quantity(), b->quantity());
    default:
      *type_error = true;
      return std::nullopt;
  }
}

std::optional<std::string> ItemToString(const Item& item) {
  std::optional<Item> s = ToSystem(item);
  if (!s) return std::nullopt;
  switch (s->kind()) {
    case Item::Kind::kBoolean:
      return s->boolean() ? "true" : "false";
    case Item::Kind::kInteger:
      return std::to_string(s->integer());
    case Item::Kind::kDecimal:
      return s->decimal().ToString();
    case Item::Kind::kString:
      return s->string();
    case Item::Kind::kDateTime:
      return s->temporal().ToString();
    case Item::Kind::kQuantity:
      return s->quantity().ToString();
    case Item::Kind::kNode:
      return std::nullopt;
  }
  return std::nullopt;
}

std::u32string ToCodePoints(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char32_t>(c);
      ++i;
      continue;
    }
    int n = (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    char32_t cp = c & (0x3F >> n);
    bool ok = true;
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) {
        ok = false;
        break;
      }
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    out += cp;
    i += n + 1;
  }
  return out;
}

std::string FromCodePoints(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) AppendUtf8(out, cp);
  return out;
}

}  // namespace genogate::fhirpath

// ToJson: a result collection as a JSON array.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <vector>

#include "conformance/fhirpath/convert.h"
#include "conformance/fhirpath/fhirpath.h"
#include "fhir/schema.h"

namespace genogate::fhirpath {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WritePrimitive(const fhir::Node& n, Writer& w) {
  if (!n.has_value()) {
    w.Null();
    return;
  }
  const std::string& v = n.value();
  switch (n.json_kind()) {
    case fhir::JsonKind::kBool:
      w.Bool(v == "true");
      return;
    case fhir::JsonKind::kNumber:
      if (Decimal::Parse(v)) {
        w.RawValue(v.data(), v.size(), rapidjson::kNumberType);
      } else {
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      }
      return;
    case fhir::JsonKind::kString:
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      return;
  }
}

bool IsPrimitiveNode(const fhir::Node& n) {
  if (n.type() != nullptr) return n.type()->is_primitive();
  return n.has_value();
}

void WriteNode(const fhir::Node& n, Writer& w, int depth);

void WriteObject(const fhir::Node& n, Writer& w, int depth) {
  w.StartObject();
  if (n.is_resource()) {
    w.Key("resourceType");
    w.String(n.resource_type().c_str());
  }
  const auto& cs = n.children();
  std::vector<bool> done(cs.size(), false);
  for (size_t i = 0; i < cs.size(); ++i) {
    if (done[i]) continue;
    std::string key = cs[i].json_name();
    std::vector<const fhir::Node*> group;
    for (size_t j = i; j < cs.size(); ++j) {
      if (!done[j] && cs[j].json_name() == key) {
        group.push_back(&cs[j]);
        done[j] = true;
      }
    }
    bool array = group.size() > 1 || cs[i].array_hint() ||
                 (cs[i].def() != nullptr && cs[i].def()->is_array);
    bool prim = IsPrimitiveNode(cs[i]);
    bool any_value = false, any_ext = false;
    for (const fhir::Node* g : group) {
      any_value |= g->has_value();
      any_ext |= !g->children().empty();
    }
    if (!prim || any_value) {
      w.Key(key.c_str());
      if (array) w.StartArray();
      for (const fhir::Node* g : group) {
        if (prim) {
          WritePrimitive(*g, w);
        } else {
          WriteNode(*g, w, depth + 1);
        }
      }
      if (array) w.EndArray();
    }
    if (prim && any_ext) {
      w.Key(("_" + key).c_str());
      if (array) w.StartArray();
      for (const fhir::Node* g : group) {
        if (g->children().empty()) {
          w.Null();
        } else {
          WriteObject(*g, w, depth + 1);
        }
      }
      if (array) w.EndArray();
    }
  }
  w.EndObject();
}

void WriteNode(const fhir::Node& n, Writer& w, int depth) {
  if (depth > 200) {
    w.Null();
    return;
  }
  if (IsPrimitiveNode(n)) {
    WritePrimitive(n, w);
    return;
  }
  WriteObject(n, w, depth);
}

}  // namespace

std::string ToJson(const Collection& items) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartArray();
  for (const Item& it : items) {
    switch (it.kind()) {
      case Item::Kind::kNode:
        WriteNode(*it.node(), w, 0);
        break;
      case Item::Kind::kBoolean:
        w.Bool(it.boolean());
        break;
      case Item::Kind::kInteger:
        w.Int64(it.integer());
        break;
      case Item::Kind::kDecimal: {
        std::string s = it.decimal().ToString();
        w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
        break;
      }
      case Item::Kind::kString:
        w.String(it.string().data(),
                 static_cast<rapidjson::SizeType>(it.string().size()));
        break;
      case Item::Kind::kDateTime: {
        std::string s = it.temporal().ToString();
        w.String(s.c_str());
        break;
      }
      case Item::Kind::kQuantity: {
        const Quantity& q = it.quantity();
        w.StartObject();
        w.Key("value");
        std::string s = q.value.ToString();
        w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
        w.Key("unit");
        w.String(q.unit.c_str());
        w.EndObject();
        break;
      }
    }
  }
  w.EndArray();
  return buf.GetString();
}

}  // namespace genogate::fhirpath

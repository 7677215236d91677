#include "fhir/schema.h"

#include <string>

#include "fhir/package.h"

namespace genogate::fhir {
namespace {

constexpr std::string_view kSdPrefix =
    "http://hl7.org/fhir/StructureDefinition/";
constexpr std::string_view kSystemPrefix = "http://hl7.org/fhirpath/System.";
constexpr std::string_view kFhirTypeExt =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

std::string Str(const JsonValue& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// The FHIR type name of one ElementDefinition.type entry. Elements typed as
// FHIRPath system types (Element.id, Extension.url) say their FHIR type in
// the structuredefinition-fhir-type extension.
std::string TypeCode(const JsonValue& type) {
  std::string code = Str(type, "code");
  if (type.HasMember("extension") && type["extension"].IsArray()) {
    for (const JsonValue& ext : type["extension"].GetArray()) {
      if (Str(ext, "url") == kFhirTypeExt) {
        std::string v = Str(ext, "valueUrl");
        if (v.empty()) v = Str(ext, "valueUri");
        if (!v.empty()) return v;
      }
    }
  }
  if (code.compare(0, kSystemPrefix.size(), kSystemPrefix) == 0) {
    std::string sys = code.substr(kSystemPrefix.size());
    if (sys == "String") return "string";
    if (sys == "Boolean") return "boolean";
    if (sys == "Integer") return "integer";
    if (sys == "Decimal") return "decimal";
    if (sys == "Date") return "date";
    if (sys == "DateTime") return "dateTime";
    if (sys == "Time") return "time";
    return "string";
  }
  return code;
}

std::string Capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

uint32_t ParseMax(const std::string& max) {
  if (max == "*" || max.empty()) return ElementInfo::kUnbounded;
  uint32_t v = 0;
  for (char c : max) {
    if (c < '0' || c > '9') return ElementInfo::kUnbounded;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v;
}

JsonKind PrimitiveJsonKind(std::string_view name) {
  if (name == "boolean") return JsonKind::kBool;
  if (name == "integer" || name == "positiveInt" || name == "unsignedInt" ||
      name == "decimal" || name == "integer64") {
    return JsonKind::kNumber;
  }
  return JsonKind::kString;
}

}  // namespace

bool TypeInfo::IsA(const TypeInfo* other) const {
  for (const TypeInfo* t = this; t; t = t->base_) {
    if (t == other) return true;
  }
  return false;
}

bool TypeInfo::IsA(std::string_view type_name) const {
  for (const TypeInfo* t = this; t; t = t->base_) {
    if (t->name_ == type_name) return true;
  }
  return false;
}

const ElementInfo* TypeInfo::FindByJsonName(
    std::string_view json_name, const TypeInfo** chosen_type) const {
  auto it = by_json_name_.find(json_name);
  if (it == by_json_name_.end()) return nullptr;
  if (chosen_type) *chosen_type = it->second.type;
  return it->second.element;
}

const ElementInfo* TypeInfo::FindByName(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Schema::Schema(const PackageSet* packages) : packages_(packages) {}
Schema::~Schema() = default;

const TypeInfo* Schema::FindType(std::string_view name) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::string key(name);
  auto it = types_.find(key);
  if (it != types_.end()) return it->second.get();
  return CompileLocked(key);
}

const TypeInfo* Schema::FindResourceType(std::string_view name) const {
  const TypeInfo* t = FindType(name);
  return t && t->is_resource() ? t : nullptr;
}

std::vector<std::string> Schema::Problems() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return problems_;
}

const TypeInfo* Schema::CompileLocked(const std::string& name) const {
  // Remember failures too, so a bad name is not looked up again.
  types_[name] = nullptr;
  if (name.empty() || name.find('/') != std::string::npos) return nullptr;
  std::string url = std::string(kSdPrefix) + name;
  const ResourceEntry* entry = packages_->FindEntry(url);
  if (!entry || entry->resource_type != "StructureDefinition") return nullptr;
  std::string err;
  const Json* sd = packages_->Load(*entry, &err);
  if (!sd) {
    problems_.push_back("cannot load " + url + ": " + err);
    return nullptr;
  }
  // Only base types (not profiles) define the element model.
  if (Str(*sd, "derivation") == "constraint") return nullptr;
  auto snap = sd->FindMember("snapshot");
  if (snap == sd->MemberEnd() || !snap->value.IsObject() ||
      !snap->value.HasMember("element") || !snap->value["element"].IsArray()) {
    problems_.push_back(url + " has no snapshot");
    return nullptr;
  }

  auto owned = std::make_unique<TypeInfo>();
  TypeInfo* type = owned.get();
  types_[name] = std::move(owned);  // visible to recursive lookups
  type->name_ = name;
  type->url_ = url;
  std::string kind = Str(*sd, "kind");
  type->kind_ = kind == "primitive-type" ? TypeInfo::Kind::kPrimitive
                : kind == "resource"     ? TypeInfo::Kind::kResource
                                         : TypeInfo::Kind::kComplex;
  if (type->kind_ == TypeInfo::Kind::kPrimitive) {
    type->json_kind_ = PrimitiveJsonKind(name);
  }
  std::string base_url = Str(*sd, "baseDefinition");
  if (base_url.compare(0, kSdPrefix.size(), kSdPrefix) == 0) {
    type->base_ = FindType(std::string_view(base_url).substr(kSdPrefix.size()));
  }

  // Element paths -> the TypeInfo holding their children.
  std::unordered_map<std::string, TypeInfo*> by_path;
  by_path[name] = type;
  const JsonValue& elements = snap->value["element"];
  for (const JsonValue& ed : elements.GetArray()) {
    std::string path = Str(ed, "path");
    size_t dot = path.rfind('.');
    if (dot == std::string::npos) continue;  // the root element
    std::string parent_path = path.substr(0, dot);
    auto parent_it = by_path.find(parent_path);
    if (parent_it == by_path.end()) continue;  // child of an unknown parent
    TypeInfo* parent = parent_it->second;

    ElementInfo ei;
    ei.path = path;
    ei.name = path.substr(dot + 1);
    if (ei.name.size() > 3 &&
        ei.name.compare(ei.name.size() - 3, 3, "[x]") == 0) {
      ei.name.resize(ei.name.size() - 3);
      ei.is_choice = true;
    }
    // A primitive's value is the node's own value, not a child.
    if (type->is_primitive() && parent == type && ei.name == "value") continue;

    ei.min =
        ed.HasMember("min") && ed["min"].IsUint() ? ed["min"].GetUint() : 0;
    ei.max = ParseMax(Str(ed, "max"));
    uint32_t base_max = ei.max;
    if (ed.HasMember("base") && ed["base"].IsObject()) {
      std::string bm = Str(ed["base"], "max");
      if (!bm.empty()) base_max = ParseMax(bm);
    }
    ei.is_array = base_max != 1;
    if (ed.HasMember("representation") && ed["representation"].IsArray()) {
      for (const JsonValue& r : ed["representation"].GetArray()) {
        if (r.IsString() && std::string_view(r.GetString()) == "xmlAttr") {
          ei.xml = XmlRepresentation::kAttribute;
        }
      }
    }

    std::string content_ref = Str(ed, "contentReference");
    if (!content_ref.empty()) {
      std::string target = content_ref.substr(content_ref.find('#') + 1);
      auto t = by_path.find(target);
      if (t != by_path.end()) {
        ei.types.push_back(t->second);
        ei.type_codes.push_back(t->second->name_);
      } else {
        problems_.push_back(path + ": contentReference " + content_ref +
                            " not found");
      }
    } else if (ed.HasMember("type") && ed["type"].IsArray()) {
      const auto& types = ed["type"].GetArray();
      bool backbone = false;
      for (const JsonValue& t : types) {
        std::string code = TypeCode(t);
        if ((code == "BackboneElement" || code == "Element") &&
            types.Size() == 1) {
          // An inline structure when the snapshot lists children for it;
          // decided below by looking ahead is costly, so create it and let
          // children attach (an Element with no children stays empty).
          backbone = true;
        }
        ei.type_codes.push_back(code);
      }
      if (backbone) {
        auto bb = std::make_unique<TypeInfo>();
        bb->name_ = ei.is_choice ? path : path;
        bb->kind_ = TypeInfo::Kind::kBackbone;
        bb->base_ = FindType(ei.type_codes[0]);
        by_path[path] = bb.get();
        ei.types.push_back(bb.get());
        backbones_.push_back(std::move(bb));
      } else {
        for (const std::string& code : ei.type_codes) {
          const TypeInfo* t = FindType(code);
          if (!t) problems_.push_back(path + ": unknown type " + code);
          ei.types.push_back(t);
        }
      }
    }
    if (ei.type_codes.size() == 1 && ei.type_codes[0] == "Resource") {
      ei.holds_resource = true;
    }
    if (ei.type_codes.size() == 1 && ei.type_codes[0] == "xhtml") {
      ei.xml = XmlRepresentation::kXhtml;
    }
    ei.order = static_cast<uint32_t>(parent->elements_.size());
    parent->elements_.push_back(std::move(ei));
  }

  // Index every TypeInfo built here (the type and its backbones). Elements
  // are final now, so pointers into the vectors stay valid.
  for (auto& [path, info] : by_path) {
    for (const ElementInfo& ei : info->elements_) {
      info->by_name_[ei.name] = &ei;
      if (ei.is_choice) {
        for (size_t i = 0; i < ei.type_codes.size(); ++i) {
          info->by_json_name_[ei.name + Capitalize(ei.type_codes[i])] = {
              &ei, ei.types.size() > i ? ei.types[i] : nullptr};
        }
      } else {
        info->by_json_name_[ei.name] = {
            &ei, ei.types.empty() ? nullptr : ei.types[0]};
      }
    }
  }
  return type;
}

}  // namespace genogate::fhir

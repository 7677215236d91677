// Schema: FHIR types compiled from StructureDefinition snapshots.
//
// A TypeInfo describes one type (primitive, complex datatype, resource) or
// one backbone element ("Observation.component"), with its child elements in
// definition order (the order FHIR XML requires). Types are compiled on first
// use from the base definitions in a PackageSet and never change afterwards,
// so pointers to TypeInfo and ElementInfo stay valid for the Schema's life.
//
// Thread-safety: all methods are safe to call concurrently.
#ifndef GENOGATE_FHIR_SCHEMA_H_
#define GENOGATE_FHIR_SCHEMA_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "fhir/element.h"

namespace genogate::fhir {

class PackageSet;
class TypeInfo;

// How an element is represented in XML (ElementDefinition.representation).
enum class XmlRepresentation : uint8_t { kElement, kAttribute, kXhtml };

struct ElementInfo {
  // Name without "[x]": "value", "given", "id".
  std::string name;
  // Full path in the defining type: "Observation.value[x]".
  std::string path;
  bool is_choice = false;
  // Allowed types; for a choice element each option. A backbone element has
  // one entry, its own anonymous TypeInfo. A contentReference
  // ("#Questionnaire.item") points at the referenced backbone type.
  std::vector<const TypeInfo*> types;
  // The type codes as written ("Quantity", "Reference", ...), parallel to
  // `types` (kept even when a type could not be compiled).
  std::vector<std::string> type_codes;
  uint32_t min = 0;
  // Maximum cardinality; kUnbounded for "*".
  static constexpr uint32_t kUnbounded = 0xffffffff;
  uint32_t max = 1;
  // The base definition's max is not 1: JSON writes an array.
  bool is_array = false;
  // True for Resource-typed elements that hold a whole resource
  // (contained, Bundle.entry.resource, Parameters.parameter.resource).
  bool holds_resource = false;
  XmlRepresentation xml = XmlRepresentation::kElement;
  // Position among the type's elements (XML order).
  uint32_t order = 0;
};

class TypeInfo {
 public:
  enum class Kind : uint8_t { kPrimitive, kComplex, kResource, kBackbone };

  // Type code ("Quantity", "string", "Patient") or, for a backbone element,
  // its path ("Observation.component").
  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  bool is_primitive() const { return kind_ == Kind::kPrimitive; }
  bool is_resource() const { return kind_ == Kind::kResource; }
  // Canonical URL of the defining StructureDefinition ("" for backbones).
  const std::string& url() const { return url_; }
  // The base type (Quantity -> Element, Patient -> DomainResource,
  // backbone -> BackboneElement); null for Base/Element/Resource roots.
  const TypeInfo* base() const { return base_; }
  // True if this type is `other` or derives from it.
  bool IsA(const TypeInfo* other) const;
  bool IsA(std::string_view type_name) const;
  // For primitives: how the value is written in JSON.
  JsonKind json_kind() const { return json_kind_; }

  // Child elements in definition order.
  const std::vector<ElementInfo>& elements() const { return elements_; }
  // Finds an element by its JSON/XML name ("valueQuantity", "given"). For a
  // choice element also returns the chosen type. Returns null if the type
  // has no such element.
  const ElementInfo* FindByJsonName(std::string_view json_name,
                                    const TypeInfo** chosen_type) const;
  // Finds an element by its name without choice suffix ("value").
  const ElementInfo* FindByName(std::string_view name) const;

 private:
  friend class Schema;
  std::string name_;
  std::string url_;
  Kind kind_ = Kind::kComplex;
  JsonKind json_kind_ = JsonKind::kString;
  const TypeInfo* base_ = nullptr;
  std::vector<ElementInfo> elements_;
  struct JsonEntry {
    const ElementInfo* element;
    const TypeInfo* type;
  };
  // Heterogeneous lookup: find by string_view without allocating.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>()(s);
    }
  };
  std::unordered_map<std::string, JsonEntry, NameHash, std::equal_to<>>
      by_json_name_;
  std::unordered_map<std::string, const ElementInfo*, NameHash, std::equal_to<>>
      by_name_;
};

class Schema {
 public:
  // `packages` must outlive the Schema.
  explicit Schema(const PackageSet* packages);
  ~Schema();
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  // The type named `name` ("Patient", "Quantity", "string"), compiled on
  // first use from http://hl7.org/fhir/StructureDefinition/<name>. Returns
  // null if no such base definition is loaded or it cannot be compiled.
  const TypeInfo* FindType(std::string_view name) const;

  // The resource type `name`, or null if `name` is not a resource type.
  const TypeInfo* FindResourceType(std::string_view name) const;

  const PackageSet& packages() const { return *packages_; }

  // Compilation problems seen so far (a base definition without a snapshot,
  // an unknown type code). Empty for the official R4 packages.
  std::vector<std::string> Problems() const;

 private:
  const TypeInfo* CompileLocked(const std::string& name) const;

  const PackageSet* packages_;
  mutable std::recursive_mutex mu_;
  mutable std::unordered_map<std::string, std::unique_ptr<TypeInfo>> types_;
  mutable std::vector<std::unique_ptr<TypeInfo>> backbones_;
  mutable std::vector<std::string> problems_;
};

}  // namespace genogate::fhir

#endif  // GENOGATE_FHIR_SCHEMA_H_

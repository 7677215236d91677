// The FHIR element model: one tree of Nodes per resource, typed from the
// StructureDefinitions (see schema.h).
//
// Shape. A Node is one element. Its children are kept in document order;
// a repeating element is a run of consecutive siblings with the same name
// (as in FHIR XML and in FHIRPath), so `given` with three values is three
// sibling Nodes named "given". A choice element `valueQuantity` is a Node
// named "value" whose type is Quantity. A primitive keeps its value as the
// exact text it had (decimals keep every digit) and may also have children
// `id` and `extension` (the `_name` object of FHIR JSON). A resource (the
// root, a `contained` entry, `Bundle.entry.resource`, `Parameters...resource`)
// is a Node with is_resource() true whose type is the resource type.
//
// Narrative `div` is a primitive of type xhtml whose value is the XHTML text.
//
// Unknown elements (not in the type's definition) are kept, untyped
// (type() == nullptr), under their name as written, so that a validator can
// report them and a writer can refuse them.
//
// Thread-safety: a tree is a value; concurrent reads are safe, writes are not.
#ifndef GENOGATE_FHIR_ELEMENT_H_
#define GENOGATE_FHIR_ELEMENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace genogate::fhir {

class TypeInfo;
struct ElementInfo;

// How a primitive value is written in FHIR JSON.
enum class JsonKind : uint8_t { kString, kNumber, kBool };

class Node {
 public:
  Node() = default;
  Node(std::string name, const TypeInfo* type)
      : name_(std::move(name)), type_(type) {}

  // --- identity and type -------------------------------------------------
  // Element name without a choice suffix ("value", "given"); for a root
  // resource, its resource type.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // The concrete type, or null when the schema does not know this element.
  const TypeInfo* type() const { return type_; }
  void set_type(const TypeInfo* type) { type_ = type; }
  // The FHIR type code: type()->name(), or the resourceType as written for
  // a resource of an unknown type, or "" for an unknown element.
  std::string_view type_name() const;

  // The definition of this element within its parent's type; null for a
  // root resource and for unknown elements.
  const ElementInfo* def() const { return def_; }
  void set_def(const ElementInfo* def) { def_ = def; }

  // True for a resource: root, contained, Bundle.entry.resource, ...
  bool is_resource() const { return is_resource_; }
  void set_resource(bool r) { is_resource_ = r; }
  // For a resource, the resourceType as written (kept even if unknown).
  const std::string& resource_type() const { return resource_type_; }
  void set_resource_type(std::string rt) { resource_type_ = std::move(rt); }

  // The name this element has in FHIR JSON and XML: name() plus the
  // capitalised type for a choice element ("valueQuantity").
  std::string json_name() const;

  // --- primitive value ---------------------------------------------------
  // True when this node is a primitive with a value (a primitive may have
  // only an id or extensions).
  bool has_value() const { return has_value_; }
  const std::string& value() const { return value_; }
  JsonKind json_kind() const { return json_kind_; }
  void set_value(std::string text, JsonKind kind) {
    value_ = std::move(text);
    json_kind_ = kind;
    has_value_ = true;
  }
  void clear_value() {
    value_.clear();
    has_value_ = false;
  }
  // True for a node of a primitive type (known from the schema), or an
  // untyped node that carries a value.
  bool is_primitive() const;

  // --- children ----------------------------------------------------------
  const std::vector<Node>& children() const { return children_; }
  std::vector<Node>& mutable_children() { return children_; }
  Node& AddChild(Node child) {
    children_.push_back(std::move(child));
    return children_.back();
  }
  // First child named `name` (choice elements by their base name), or null.
  const Node* Child(std::string_view name) const;
  Node* MutableChild(std::string_view name);
  // All children named `name`, in order.
  std::vector<const Node*> Children(std::string_view name) const;
  // Shortcut: value of the first child named `name`, or "" if absent.
  std::string_view ChildValue(std::string_view name) const;

  // --- source position ---------------------------------------------------
  // 1-based line and column where the element started in its source text
  // (JSON: the property name; XML: the start tag); 0 when built in memory.
  uint32_t line() const { return line_; }
  uint32_t column() const { return column_; }
  void set_position(uint32_t line, uint32_t column) {
    line_ = line;
    column_ = column;
  }

  // For untyped nodes: whether the JSON had an array here, so a writer can
  // keep it. Typed nodes follow their definition's cardinality.
  bool array_hint() const { return array_hint_; }
  void set_array_hint(bool a) { array_hint_ = a; }

 private:
  std::string name_;
  std::string value_;
  std::string resource_type_;
  std::vector<Node> children_;
  const TypeInfo* type_ = nullptr;
  const ElementInfo* def_ = nullptr;
  uint32_t line_ = 0;
  uint32_t column_ = 0;
  JsonKind json_kind_ = JsonKind::kString;
  bool has_value_ = false;
  bool is_resource_ = false;
  bool array_hint_ = false;
};

}  // namespace genogate::fhir

#endif  // GENOGATE_FHIR_ELEMENT_H_

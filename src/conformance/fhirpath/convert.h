// Conversions between FHIR element nodes and FHIRPath system values, and
// the equality/equivalence/ordering rules (internal to the engine).
//
// Thread-safety: pure functions.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_CONVERT_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_CONVERT_H_

#include <optional>
#include <string>
#include <string_view>

#include "conformance/fhirpath/item.h"
#include "fhir/element.h"

namespace genogate::fhirpath {

// The system type a FHIR primitive type converts to.
enum class Prim : uint8_t {
  kNone,  // not a primitive (complex node) or a primitive without value
  kBoolean,
  kInteger,
  kDecimal,
  kString,
  kDate,
  kDateTime,
  kTime,
};

// By FHIR type code ("boolean" -> kBoolean, "instant" -> kDateTime,
// "code" -> kString, "http://hl7.org/fhirpath/System.String" -> kString);
// kNone for complex types.
Prim PrimOfType(std::string_view fhir_type);
// For a node: by its type, or for an untyped node with a value by its JSON
// kind. kNone when the node has no primitive value.
Prim PrimOfNode(const fhir::Node& n);

// The type code of a node: "string", "Quantity", "Patient"; "" if unknown.
std::string_view NodeTypeName(const fhir::Node& n);

// True if the node's type is (or derives from) `type`.
bool NodeIsA(const fhir::Node& n, std::string_view type);

// A primitive node as its system value; a Quantity-typed node as a system
// Quantity; a system item unchanged. nullopt for other complex nodes and
// primitives without a value (or a value that does not parse).
std::optional<Item> ToSystem(const Item& item);

// The text of a string-like item (system String or any primitive node's
// value); nullopt otherwise.
std::optional<std::string_view> StringOf(const Item& item);

// FHIRPath `=` for two items: nullopt when the result is empty (dates of
// different precision, incomparable quantities).
std::optional<bool> ItemsEqual(const Item& a, const Item& b);
// FHIRPath `~` for two items.
bool ItemsEquivalent(const Item& a, const Item& b);
// Ordering for < > <= >=: nullopt if incomparable (empty result);
// `type_error` set when the types cannot be compared at all.
std::optional<int> ItemsCompare(const Item& a, const Item& b, bool* type_error);

// The FHIRPath string representation (toString()) of a system value or a
// primitive node; nullopt for complex nodes.
std::optional<std::string> ItemToString(const Item& item);

// Strings: UTF-8 <-> code points (invalid bytes map to U+FFFD).
std::u32string ToCodePoints(std::string_view s);
std::string FromCodePoints(std::u32string_view s);

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_CONVERT_H_

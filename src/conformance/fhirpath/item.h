// Item and Collection: what FHIRPath expressions produce and consume.
//
// An Item is either a FHIR element (a `const fhir::Node*` into a tree the
// caller keeps alive) or a system value (Boolean, Integer, Decimal, String,
// Date, DateTime, Time, Quantity). A Collection is an ordered list of Items.
//
// Thread-safety: value types. Node items only point into the caller's tree;
// the tree must outlive every Collection that refers to it.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_ITEM_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_ITEM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "conformance/fhirpath/value.h"
#include "fhir/element.h"

namespace genogate::fhirpath {

class Item {
 public:
  enum class Kind : uint8_t {
    kNode,
    kBoolean,
    kInteger,
    kDecimal,
    kString,
    kDateTime,  // Date, DateTime or Time (see DateTimeValue::kind)
    kQuantity,
  };

  Item() : v_(false) {}
  static Item Of(const fhir::Node* n) {
    return Item(V(std::in_place_index<0>, n));
  }
  static Item Boolean(bool b) { return Item(V(std::in_place_index<1>, b)); }
  static Item Integer(int64_t i) { return Item(V(std::in_place_index<2>, i)); }
  static Item Dec(Decimal d) { return Item(V(std::in_place_index<3>, d)); }
  static Item String(std::string s) {
    return Item(V(std::in_place_index<4>, std::move(s)));
  }
  static Item Temporal(DateTimeValue d) {
    return Item(V(std::in_place_index<5>, d));
  }
  static Item Qty(Quantity q) {
    return Item(V(std::in_place_index<6>, std::move(q)));
  }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_node() const { return v_.index() == 0; }
  // Preconditions: the matching kind().
  const fhir::Node* node() const { return std::get<0>(v_); }
  bool boolean() const { return std::get<1>(v_); }
  int64_t integer() const { return std::get<2>(v_); }
  const Decimal& decimal() const { return std::get<3>(v_); }
  const std::string& string() const { return std::get<4>(v_); }
  const DateTimeValue& temporal() const { return std::get<5>(v_); }
  const Quantity& quantity() const { return std::get<6>(v_); }

  // The FHIRPath type name: "System.Boolean", ..., "System.Date",
  // "System.DateTime", "System.Time"; for a node "FHIR.<type code>".
  std::string TypeName() const;

 private:
  using V = std::variant<const fhir::Node*, bool, int64_t, Decimal, std::string,
                         DateTimeValue, Quantity>;
  explicit Item(V v) : v_(std::move(v)) {}
  V v_;
};

using Collection = std::vector<Item>;

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_ITEM_H_

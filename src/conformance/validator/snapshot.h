// Internal: snapshot generation for StructureDefinitions that come with a
// differential only (a profile a user adds, such as a national variant
// profile).
//
// The snapshot is the base's snapshot with the differential applied element
// by element, for the usual constraints: cardinality, types (and type and
// target profiles), fixed[x] and pattern[x], bindings, constraints
// (invariants are added to the base's), slicing of existing elements (new
// slices and re-slices are copies of the sliced element and its children),
// extensions (slices of `extension` with a type profile), and elements
// inside data types (`component.valueQuantity.system`: the type's own
// snapshot, or its type profile's, is unfolded under the element first).
// Differential elements for a choice type by its typed name
// (`Observation.valueQuantity`) constrain the `value[x]` element to that
// type. What it does not do: mappings, `base` bookkeeping, and checks
// that the differential only narrows its base (a wider constraint is
// copied as written).
#ifndef GENOGATE_CONFORMANCE_VALIDATOR_SNAPSHOT_H_
#define GENOGATE_CONFORMANCE_VALIDATOR_SNAPSHOT_H_

#include <functional>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "fhir/package.h"

namespace genogate::conformance::internal {

// Returns the StructureDefinition for a canonical URL with its snapshot
// (generated if need be), or null if it is unknown or has none.
using SnapshotSource =
    std::function<const fhir::JsonValue*(std::string_view url)>;

// True if `sd` has a non-empty snapshot.
bool HasSnapshot(const fhir::JsonValue& sd);

// Generates the snapshot of `sd` from its differential and `base` (the
// StructureDefinition that sd.baseDefinition names, with a snapshot).
// `types` gives the snapshots of data types and type profiles the
// differential reaches into. Returns a new document: a copy of `sd` with
// `snapshot.element` filled in. Fails with kInvalidInput when `sd` has no
// differential, `base` has no snapshot, or a differential element names
// an element that neither the base nor its data types have (the message
// names the element id). Thread-safe if `types` is.
Result<std::unique_ptr<fhir::Json>> GenerateSnapshot(
    const fhir::JsonValue& sd, const fhir::JsonValue& base,
    const SnapshotSource& types);

}  // namespace genogate::conformance::internal

#endif  // GENOGATE_CONFORMANCE_VALIDATOR_SNAPSHOT_H_

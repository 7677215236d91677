// The invariants (ElementDefinition.constraint with a FHIRPath expression)
// of the base StructureDefinitions (resources and datatypes) and where they
// apply in a resource tree: the corpus the FHIRPath differential test and
// benchmark run over the R4 examples, and a starting point for the
// validator.
//
// Thread-safety: BaseConstraints is immutable after construction and safe
// to share; the functions are pure.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_INVARIANTS_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_INVARIANTS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/element.h"
#include "fhir/package.h"

namespace genogate::fhirpath {

struct Invariant {
  std::string key;       // "obs-6"
  std::string severity;  // "error" | "warning"
  std::string human;
  std::string expression;  // FHIRPath
  // Where it is defined: a type name ("Quantity", "Observation") for the
  // root element of a definition, else the element path without "[x]"
  // ("Observation.referenceRange", "Timing.repeat").
  std::string context;
};

// Every constraint with an expression of the base definitions: each
// StructureDefinition of kind resource, complex-type or primitive-type whose
// url is in http://hl7.org/fhir/StructureDefinition/ (specialisations, plus
// the datatype constraints Age, Count, Distance, Duration, SimpleQuantity,
// MoneyQuantity under their own names; extension definitions are not
// included). Definitions that fail to load are skipped.
class BaseConstraints {
 public:
  explicit BaseConstraints(const fhir::PackageSet& packages);

  // The constraints defined at a context (type name or element path, see
  // Invariant::context), in snapshot order; empty if none.
  const std::vector<Invariant>& At(std::string_view context) const;

  // The constraints that apply at `node` of a typed tree: those of its
  // definition's element path, of its type (a datatype's root element, a
  // backbone element's path — which covers contentReference recursion —
  // or, for a resource, the resource's root element). Each key once.
  // Empty for an untyped node.
  std::vector<const Invariant*> For(const fhir::Node& node) const;

  // Number of contexts and of constraints.
  size_t contexts() const { return by_context_.size(); }
  size_t size() const;

 private:
  std::map<std::string, std::vector<Invariant>, std::less<>> by_context_;
};

// One node of a resource tree with the constraints that apply there and the
// resources FHIRPath sees from it.
struct ConstraintSite {
  const fhir::Node* node = nullptr;
  // %resource: the nearest resource holding the node (the node itself for
  // a resource); %rootResource: the resource containing %resource when it
  // is a contained resource, else %resource.
  const fhir::Node* resource = nullptr;
  const fhir::Node* root_resource = nullptr;
  // FHIRPath location from the root, each step with its index among the
  // same-named siblings: "Bundle.entry[0].resource[0].code[0]".
  std::string location;
  std::vector<const Invariant*> invariants;
};

// Every resource node of the tree under `root` (the root, contained
// resources, Bundle entries and other nested resources) and every other node
// where at least one constraint applies, in document order.
std::vector<ConstraintSite> ConstraintSites(const fhir::Node& root,
                                            const BaseConstraints& constraints);

// The FHIR type of a site's node: the resource type of a resource, else the
// node's type name ("Quantity", "Observation.referenceRange").
std::string SiteType(const ConstraintSite& site);

// Where each resource node of `sites` stands (its ConstraintSite::location),
// for naming a site's %resource and %rootResource. The pointers point into
// `sites`.
std::map<const fhir::Node*, const std::string*> ResourceLocations(
    const std::vector<ConstraintSite>& sites);

// Picks the (constraint, context node) pairs of a corpus to evaluate, so that
// a run over the R4 examples (the FHIRPath differential test and benchmark)
// stays within minutes on two cores: every pair whose (constraint key, node
// type) has not been seen yet, and of the others one in `every` (1: all),
// chosen by an FNV-1a hash of the file name, node location and key. The same
// files in the same order give the same choice.
//
// Thread-safety: not thread-safe (it remembers the pairs seen).
class ConstraintSampler {
 public:
  explicit ConstraintSampler(uint64_t every) : every_(every) {}

  // The invariants of `site` (a node of the resource in `file`) to
  // evaluate, in the site's order; possibly none.
  std::vector<const Invariant*> Pick(std::string_view file,
                                     const ConstraintSite& site);

  // Distinct (constraint key, node type) pairs seen so far.
  size_t pairs() const { return pairs_.size(); }

 private:
  uint64_t every_;
  std::set<std::pair<std::string, std::string>> pairs_;
};

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_INVARIANTS_H_

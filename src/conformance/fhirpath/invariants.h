// The invariants (ElementDefinition.constraint with a FHIRPath expression)
// of the base resource StructureDefinitions, grouped by resource type and
// element path: the corpus the FHIRPath differential test and benchmark run
// over the R4 examples, and a starting point for the validator.
//
// Thread-safety: pure function over a PackageSet that is safe to share.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_INVARIANTS_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_INVARIANTS_H_

#include <map>
#include <string>
#include <vector>

#include "fhir/package.h"

namespace genogate::fhirpath {

struct Invariant {
  std::string key;       // "obs-6"
  std::string severity;  // "error" | "warning"
  std::string human;
  std::string expression;  // FHIRPath
};

struct InvariantSite {
  // Element path as a FHIRPath expression from the resource:
  // "Observation.component", "Observation.value" ("[x]" removed).
  std::string path;
  std::vector<Invariant> invariants;
};

// Resource type -> sites, in snapshot order, from every StructureDefinition
// with kind "resource" and derivation "specialization" whose url is in
// http://hl7.org/fhir/StructureDefinition/ (the base resources; the
// abstract Resource and DomainResource are included under their own names).
// Definitions that fail to load are skipped.
std::map<std::string, std::vector<InvariantSite>> BaseResourceInvariants(
    const fhir::PackageSet& packages);

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_INVARIANTS_H_

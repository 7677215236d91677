// CapabilityStatement generator: what GET [base]/metadata answers, built
// from what is loaded (the profiles of the configured packages) and what
// the server offers (operations, formats, transactions).
//
// The statement is kind "instance" (one running gateway): software,
// implementation, fhirVersion 4.0.1, the formats, and one rest.resource per
// resource type that has a loaded profile (its supportedProfile list, the
// $validate operation), plus the system-level transaction interaction and
// operations. No clock: the caller supplies `date`.
//
// Thread-safety: reentrant; the PackageSet is read concurrently.
#ifndef GENOGATE_CONFORMANCE_CAPABILITY_STATEMENT_H_
#define GENOGATE_CONFORMANCE_CAPABILITY_STATEMENT_H_

#include <string>
#include <vector>

#include "base/result.h"

namespace genogate::fhir {
class PackageSet;
}

namespace genogate::conformance {

struct CapabilityOperation {
  std::string name;        // "validate" (without '$')
  std::string definition;  // canonical of the OperationDefinition
  // Also offered on each listed resource type ([base]/[type]/$name).
  bool type_level = false;
};

struct CapabilityOptions {
  // CapabilityStatement.date (FHIR dateTime, e.g. the start-up time).
  std::string date;
  std::string software_name = "genogate";
  std::string software_version;
  // implementation.description and .url (the FHIR base; may be empty).
  std::string description = "genogate clinical genomics gateway";
  std::string url;
  // Packages whose resource profiles (StructureDefinitions with derivation
  // constraint and kind resource) are listed as supportedProfile.
  std::vector<std::string> profile_packages = {
      "hl7.fhir.uv.genomics-reporting"};
  // Resource types the gateway accepts even without a profile (e.g.
  // "Bundle" for transactions).
  std::vector<std::string> accepted_types = {"Bundle"};
  std::vector<CapabilityOperation> operations;
  // The system-level transaction interaction (POST [base]).
  bool transaction = true;
  // CapabilityStatement.format.
  std::vector<std::string> formats = {"json", "xml", "application/fhir+json",
                                      "application/fhir+xml"};
};

// The CapabilityStatement as FHIR JSON. kInvalidInput when `date` is empty.
Result<std::string> CapabilityStatementJson(const fhir::PackageSet& packages,
                                            const CapabilityOptions& options);

}  // namespace genogate::conformance

#endif  // GENOGATE_CONFORMANCE_CAPABILITY_STATEMENT_H_

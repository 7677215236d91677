// Profile validator: checks FHIR resources against the R4 base definitions,
// the profiles they declare in meta.profile, and profiles the caller asks
// for, and reports what the HL7 FHIR Validator (without a terminology
// server) would report, as Issues.
//
//   Validator v(&packages, &schema);
//   IssueList issues = v.Validate(doc.root);           // a parsed tree
//   Result<IssueList> r = v.ValidateText(json_or_xml);  // parse + validate
//
// What is checked: cardinality, types (choices, Reference targets),
// primitive formats, fixed and pattern values, slicing (value, pattern,
// type, profile, exists discriminators; open/closed/openAtEnd; ordered;
// re-slicing), bindings against locally expanded ValueSets (required →
// error, extensible → warning, codes that cannot be checked locally →
// information), invariants (compiled FHIRPath), extensions against their
// definitions, Bundle rules (fullUrl uniqueness, reference resolution in
// document and transaction bundles) and the genomics rules of the Genomics
// Reporting IG that are stated only in prose (codes "gg-...").
//
// Each StructureDefinition is compiled once, on first use, into an
// immutable plan and cached.
//
// Thread-safety: Validate and ValidateText may be called concurrently from
// many threads; the plan cache is internally synchronised and plans are
// immutable after they are built.
#ifndef GENOGATE_CONFORMANCE_VALIDATOR_VALIDATOR_H_
#define GENOGATE_CONFORMANCE_VALIDATOR_VALIDATOR_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/issue.h"
#include "base/result.h"
#include "fhir/element.h"

namespace genogate::fhir {
class PackageSet;
class Schema;
}  // namespace genogate::fhir

namespace genogate::conformance {

class Terminology;

struct ValidationOptions {
  // Extra profiles (canonical URLs) the root resource must conform to. An
  // unknown URL gives an error issue ("profile-unknown").
  std::vector<std::string> profiles;
  // Run the genomics checks (gg-...) on Observations of the Genomics
  // Reporting IG.
  bool genomics_checks = true;
};

class Validator {
 public:
  // `packages` and `schema` must outlive the Validator.
  Validator(const fhir::PackageSet* packages, const fhir::Schema* schema);
  ~Validator();
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  // Validates a typed tree (from fhir::ParseJson/ParseXml with the same
  // Schema). The reader's structure issues are not repeated: pass them on
  // yourself, or use ValidateText. Never fails; problems with the
  // definitions themselves become information issues.
  IssueList Validate(const fhir::Node& resource,
                     const ValidationOptions& options = {}) const;

  // Parses FHIR JSON or XML and validates it: the reader's issues followed
  // by the validator's. Fails (kInvalidInput, kLimitExceeded) only when the
  // text is not well-formed or exceeds the reader's limits.
  Result<IssueList> ValidateText(std::string_view text,
                                 const ValidationOptions& options = {}) const;

  // Whether a StructureDefinition with this canonical URL is loaded.
  bool HasProfile(std::string_view url) const;

  // Whether `resource` conforms to the profile: no error-level issue.
  // nullopt if the profile is not loaded.
  std::optional<bool> ConformsTo(const fhir::Node& resource,
                                 std::string_view profile) const;

  const Terminology& terminology() const { return *terminology_; }
  const fhir::Schema& schema() const { return *schema_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<Terminology> terminology_;
  const fhir::Schema* schema_;
};

// The directory of genogate's own conformance resources (profiles/, holding
// loinc/): $GENOGATE_PROFILES_DIR, else ../profiles or ../share/genogate/
// profiles relative to the running executable, else
// /usr/share/genogate/profiles. Returns "" if none exists.
std::string FindProfilesDir();

// The package directories the validator loads by default besides the pinned
// FHIR packages: <profiles dir>/loinc when present.
std::vector<std::string> BundledResourceDirs();

}  // namespace genogate::conformance

#endif  // GENOGATE_CONFORMANCE_VALIDATOR_VALIDATOR_H_

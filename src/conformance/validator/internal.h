// Internal helpers shared by the validator's translation units.
#ifndef GENOGATE_CONFORMANCE_VALIDATOR_INTERNAL_H_
#define GENOGATE_CONFORMANCE_VALIDATOR_INTERNAL_H_

#include <string>
#include <string_view>

#include "base/issue.h"
#include "fhir/element.h"

namespace genogate::conformance::internal {

// Receives issues from checks; implemented by the validation run (which
// adds the profile name and removes duplicates).
class IssueSink {
 public:
  virtual ~IssueSink() = default;
  virtual void Report(Severity severity, std::string_view type,
                      std::string_view code, std::string detail,
                      const std::string& location, const fhir::Node* node) = 0;
};

// The profile URL of the Genomics Reporting IG variant profile.
inline constexpr std::string_view kVariantProfile =
    "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant";

// The genomics rules stated in prose (gg-...), on an Observation that is a
// genomic variant (declares the variant profile or has code LOINC
// 69548-6). `location` is the Observation's FHIRPath location.
void CheckGenomicVariant(const fhir::Node& observation,
                         const std::string& location, IssueSink* sink);

// True if `observation` is a genomic variant Observation.
bool IsGenomicVariant(const fhir::Node& observation);

// Primitive value checks beyond the regex: calendar dates, integer ranges.
// Returns an empty string if fine, else what is wrong.
std::string CheckPrimitiveValue(std::string_view type, std::string_view value);

}  // namespace genogate::conformance::internal

#endif  // GENOGATE_CONFORMANCE_VALIDATOR_INTERNAL_H_

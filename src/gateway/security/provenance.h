// Provenance for delivered bundles: who made the data and who carried it.
//
// AddProvenance appends one Provenance entry (request POST Provenance) to a
// transaction or batch Bundle just before delivery:
//   target    every entry of the bundle that has a fullUrl (the references
//             resolve inside the transaction);
//   recorded  the delivery time;
//   agent[0]  type "author" (provenance-participant-type), who = the lab
//             (identifier system "urn:genogate:lab", value the lab id);
//   agent[1]  type "assembler", role "transmitter", who = genogate
//             (identifier system "urn:genogate", value "genogate"),
//             onBehalfOf the lab;
//   entity    role "source", what = the submission
//             (identifier system "urn:genogate:submission").
// R4 Provenance has no identifier, so it cannot be a conditional create:
// each successful delivery (including a redelivery after a lost answer)
// records one Provenance, which is what happened.
//
// Thread-safety: reentrant.
#ifndef GENOGATE_GATEWAY_SECURITY_PROVENANCE_H_
#define GENOGATE_GATEWAY_SECURITY_PROVENANCE_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "gateway/queue/clock.h"

namespace genogate::gateway {

struct ProvenanceInfo {
  std::string lab;          // lab id (required)
  std::string lab_display;  // optional human-readable name
  std::string submission_id;
  Timestamp recorded{};
  // agent[1].who.display, e.g. "genogate 0.4.0".
  std::string software = "genogate";
  // The Provenance entry's fullUrl; empty: "urn:uuid:" + a random UUID.
  std::string full_url;
};

// The Provenance resource (FHIR R4 JSON) for `bundle_json`.
// kInvalidInput if the text is not a JSON Bundle, has no entry with a
// fullUrl, or info.lab is empty.
Result<std::string> BuildProvenanceJson(std::string_view bundle_json,
                                        const ProvenanceInfo& info);

// `bundle_json` with the Provenance appended as its last entry (the
// bundle's other members are kept as they are). Errors as
// BuildProvenanceJson; kInvalidInput also for a Bundle whose type is not
// transaction or batch.
Result<std::string> AddProvenance(std::string_view bundle_json,
                                  const ProvenanceInfo& info);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SECURITY_PROVENANCE_H_

// Local terminology: ValueSets expanded from the loaded packages, and code
// look-ups in the loaded CodeSystems. No terminology server is consulted.
//
// A ValueSet is expanded on first use from its compose (enumerated concepts,
// whole local CodeSystems, is-a / descendent-of / = filters on local
// hierarchies, imported ValueSets, excludes) or, failing that, from a stored
// expansion. Codes from systems that are not available locally (SNOMED CT,
// LOINC beyond the shipped answer lists, HGNC, HGVS, UCUM, ...) cannot be
// checked: the answer is kUnknown with the reason, never kInvalid.
//
// Thread-safety: all methods are safe to call concurrently; expansions are
// built once under a lock and immutable afterwards.
#ifndef GENOGATE_CONFORMANCE_TERMINOLOGY_TERMINOLOGY_H_
#define GENOGATE_CONFORMANCE_TERMINOLOGY_TERMINOLOGY_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace genogate::fhir {
class PackageSet;
}

namespace genogate::conformance {

enum class CodeStatus { kValid, kInvalid, kUnknown };

struct CodeResult {
  CodeStatus status = CodeStatus::kUnknown;
  // Why kUnknown or kInvalid (plain text, no patient data).
  std::string reason;
};

class Terminology {
 public:
  // `packages` must outlive this object.
  explicit Terminology(const fhir::PackageSet* packages);
  ~Terminology();
  Terminology(const Terminology&) = delete;
  Terminology& operator=(const Terminology&) = delete;

  // Whether a ValueSet with this canonical ("url" or "url|version") is
  // loaded.
  bool HasValueSet(std::string_view valueset) const;

  // Whether (system, code) is in the ValueSet. An empty `system` (a `code`
  // element) matches the code in any system of the expansion.
  CodeResult CheckCode(std::string_view valueset, std::string_view system,
                       std::string_view code) const;

  // Whether `code` is defined in the local CodeSystem `system`. kUnknown if
  // the CodeSystem is not loaded or not complete (content != complete).
  CodeResult CheckCodeSystem(std::string_view system,
                             std::string_view code) const;

  // True if a complete CodeSystem with this URL is loaded.
  bool IsLocalCodeSystem(std::string_view system) const;

 private:
  struct CodeSystemIndex;
  struct Expansion;
  const CodeSystemIndex* FindCodeSystem(std::string_view url) const;
  const Expansion* Expand(std::string_view url) const;
  std::unique_ptr<Expansion> BuildExpansion(std::string_view url,
                                            int depth) const;

  const fhir::PackageSet* packages_;
  mutable std::recursive_mutex mu_;
  mutable std::unordered_map<std::string, std::unique_ptr<CodeSystemIndex>>
      code_systems_;
  mutable std::unordered_map<std::string, std::unique_ptr<Expansion>>
      expansions_;
};

}  // namespace genogate::conformance

#endif  // GENOGATE_CONFORMANCE_TERMINOLOGY_TERMINOLOGY_H_

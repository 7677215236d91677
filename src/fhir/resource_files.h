// The resource files of a folder of FHIR resources (a package's `package`
// folder, the R4 examples, a folder of profiles).
//
// Thread-safety: reentrant.
#ifndef GENOGATE_FHIR_RESOURCE_FILES_H_
#define GENOGATE_FHIR_RESOURCE_FILES_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace genogate::fhir {

// The names (not paths) in `dir` that end in one of `extensions` (".json",
// ".xml") and are longer than it, except hidden names (a leading '.') and
// the npm manifest "package.json", sorted. Empty when `dir` cannot be read
// (no error: a caller that needs the folder checks it first).
std::vector<std::string> ListResourceFiles(
    const std::string& dir, std::initializer_list<std::string_view> extensions);

}  // namespace genogate::fhir

#endif  // GENOGATE_FHIR_RESOURCE_FILES_H_

// Compiled RE2 patterns for matches()/replaceMatches(), shared by all
// evaluations of one Expression.
//
// Patterns that are string literals are compiled once by Compile and kept in
// the AST; patterns computed at run time are compiled on first use and kept
// here (at most kMaxEntries; the cache is emptied when full).
//
// Thread-safety: Get is safe to call concurrently (internally locked); the
// returned RE2 is immutable and safe to share.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_REGEX_CACHE_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_REGEX_CACHE_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace re2 {
class RE2;
}

namespace genogate::fhirpath {

class RegexCache {
 public:
  static constexpr size_t kMaxEntries = 256;

  // Compiles `pattern` with the FHIRPath options (UTF-8, case-sensitive,
  // '.' matches newlines, bounded memory); null if it is not a valid RE2
  // pattern.
  static std::shared_ptr<const re2::RE2> CompileRegex(std::string_view pattern);

  // The compiled pattern, from the cache or compiled now; null if invalid.
  std::shared_ptr<const re2::RE2> Get(std::string_view pattern);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const re2::RE2>> map_;
};

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_REGEX_CACHE_H_

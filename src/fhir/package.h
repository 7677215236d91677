// PackageSet: FHIR conformance resources from npm-format FHIR packages.
//
// A package directory is either an npm FHIR package (`package/package.json`
// beside its resources; pass the `package` folder or its parent) or a plain
// folder of conformance resources in FHIR JSON or FHIR XML (`*.json`,
// `*.xml`). Opening a set reads each directory's `.genogate-index.json`
// (built by scanning and written back when missing or stale and the folder
// is writable) and indexes the resources by canonical URL and version. A
// resource is parsed only when it is first asked for, so start-up reads
// only the indexes. An XML resource is read with the R4 base definitions of
// the set (which must come from JSON packages) and handed out as FHIR JSON
// like every other; a DOCTYPE makes an XML file unreadable.
//
// Thread-safety: after Open, all methods are safe to call concurrently.
#ifndef GENOGATE_FHIR_PACKAGE_H_
#define GENOGATE_FHIR_PACKAGE_H_

#include <rapidjson/document.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace genogate::fhir {

class Schema;

// A conformance resource as parsed JSON. RapidJSON's DOM is used for
// definitions (not the element model) because definitions are read by code,
// never written back.
using Json = rapidjson::Document;
using JsonValue = rapidjson::Value;

struct PackageInfo {
  std::string name;     // "hl7.fhir.uv.genomics-reporting"
  std::string version;  // "3.0.0"
  std::string dir;      // directory holding the resources
  std::string canonical;
};

struct ResourceEntry {
  std::string resource_type;  // "StructureDefinition"
  std::string id;
  std::string url;
  std::string version;
  std::string kind;        // StructureDefinition.kind
  std::string type;        // StructureDefinition.type
  std::string derivation;  // "specialization" | "constraint" | ""
  std::string file;        // absolute path
  size_t package = 0;      // index into packages()
};

class PackageSet {
 public:
  ~PackageSet();

  // Opens the given package directories (later ones win on a URL clash of
  // the same version). Fails with kNotFound for a missing directory and
  // kInvalidInput for an unreadable index.
  static Result<std::unique_ptr<PackageSet>> Open(
      const std::vector<std::string>& dirs);

  // The default directories: the packages pinned in
  // profiles/fhir-packages.lock, found in `cache_dir` (empty: from
  // $GENOGATE_PACKAGE_CACHE, else ~/.cache/genogate/packages, else
  // /usr/share/genogate/packages).
  static std::vector<std::string> DefaultDirs(
      const std::string& cache_dir = "");

  const std::vector<PackageInfo>& packages() const { return packages_; }
  const std::vector<ResourceEntry>& entries() const { return entries_; }

  // Index entry for a canonical URL, optionally "url|version". With no
  // version the latest loaded version is returned. Null if none.
  const ResourceEntry* FindEntry(std::string_view canonical) const;

  // The parsed resource for a canonical URL ("url" or "url|version"); null
  // if unknown or unreadable (then `error` if given receives why). Parsed on
  // first use and cached; the returned pointer lives as long as the set.
  const Json* Find(std::string_view canonical,
                   std::string* error = nullptr) const;

  // The parsed resource of an index entry.
  const Json* Load(const ResourceEntry& entry,
                   std::string* error = nullptr) const;

  // All entries of one resource type ("StructureDefinition", "ValueSet").
  std::vector<const ResourceEntry*> EntriesOfType(std::string_view type) const;

 private:
  PackageSet() = default;
  Status AddDirectory(const std::string& dir);

  std::vector<PackageInfo> packages_;
  std::vector<ResourceEntry> entries_;
  // url -> entry indexes (all versions).
  std::unordered_map<std::string, std::vector<size_t>> by_url_;
  mutable std::mutex mu_;
  mutable std::unordered_map<size_t, std::unique_ptr<Json>> loaded_;
  // Types XML resources, built on the first XML resource loaded.
  mutable std::once_flag xml_schema_once_;
  mutable std::unique_ptr<Schema> xml_schema_;
};

}  // namespace genogate::fhir

#endif  // GENOGATE_FHIR_PACKAGE_H_

// Shared by the FHIR reader fuzz targets: the R4 schema, loaded once from
// the package cache (scripts/fetch-packages.sh must have run).
#ifndef GENOGATE_FUZZ_FUZZ_SCHEMA_H_
#define GENOGATE_FUZZ_FUZZ_SCHEMA_H_

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "fhir/package.h"
#include "fhir/schema.h"

namespace genogate::fuzz {

inline const fhir::Schema& FuzzSchema() {
  static const fhir::Schema* schema = [] {
    auto set = fhir::PackageSet::Open(fhir::PackageSet::DefaultDirs());
    if (!set.ok()) {
      std::fprintf(stderr, "fuzz: %s\n", set.error().message().c_str());
      std::abort();
    }
    return new fhir::Schema(std::move(set).value().release());
  }();
  return *schema;
}

}  // namespace genogate::fuzz

#endif  // GENOGATE_FUZZ_FUZZ_SCHEMA_H_

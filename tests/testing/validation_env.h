// For tests of the mappers and above: the R4 + Genomics IG definitions (with
// the LOINC answer lists genogate ships) and a Validator, built once per
// test binary and shared by every suite that asks. Header-only, since the
// genogate_testing library sits below the conformance layer.
#ifndef GENOGATE_TESTS_TESTING_VALIDATION_ENV_H_
#define GENOGATE_TESTS_TESTING_VALIDATION_ENV_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/issue.h"
#include "conformance/validator/validator.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/test_env.h"

namespace genogate::testing {

struct ValidationEnv {
  std::unique_ptr<fhir::PackageSet> packages;
  std::unique_ptr<fhir::Schema> schema;
  std::unique_ptr<conformance::Validator> validator;
};

// Aborts the test binary if the packages cannot be opened: every test that
// uses this needs them (scripts/test.sh always fetches them).
inline const ValidationEnv& SharedValidationEnv() {
  static const ValidationEnv* env = [] {
    std::vector<std::string> dirs = DefaultPackageDirs();
    for (const std::string& d : conformance::BundledResourceDirs())
      dirs.push_back(d);
    auto set = fhir::PackageSet::Open(dirs);
    if (!set.ok()) {
      ADD_FAILURE() << set.error().message();
      std::abort();
    }
    auto* e = new ValidationEnv;
    e->packages = std::move(set).value();
    e->schema = std::make_unique<fhir::Schema>(e->packages.get());
    e->validator = std::make_unique<conformance::Validator>(e->packages.get(),
                                                            e->schema.get());
    return e;
  }();
  return *env;
}

// The error and fatal issues of `issues`.
inline IssueList ErrorsOf(const IssueList& issues) {
  IssueList errors;
  for (const Issue& i : issues.issues()) {
    if (i.severity == Severity::kError || i.severity == Severity::kFatal)
      errors.Add(i);
  }
  return errors;
}

}  // namespace genogate::testing

#endif  // GENOGATE_TESTS_TESTING_VALIDATION_ENV_H_

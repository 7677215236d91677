// A GoogleTest fixture base for tests that need the FHIR definitions: the
// default packages (R4 and the Genomics Reporting IG, as
// DefaultPackageDirs) and a Schema over them, opened when a suite starts and
// freed when it ends. Header-only, since the genogate_testing library sits
// below the fhir layer. Suites that also need a Validator use
// validation_env.h instead.
#ifndef GENOGATE_TESTS_TESTING_SCHEMA_TEST_H_
#define GENOGATE_TESTS_TESTING_SCHEMA_TEST_H_

#include <gtest/gtest.h>

#include <utility>

#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/test_env.h"

namespace genogate::testing {

class SchemaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto set = fhir::PackageSet::Open(DefaultPackageDirs());
    ASSERT_TRUE(set.ok()) << set.error().message();
    packages_ = std::move(set).value().release();
    schema_ = new fhir::Schema(packages_);
  }
  static void TearDownTestSuite() {
    delete schema_;
    delete packages_;
    schema_ = nullptr;
    packages_ = nullptr;
  }

  static inline fhir::PackageSet* packages_ = nullptr;
  static inline fhir::Schema* schema_ = nullptr;
};

}  // namespace genogate::testing

#endif  // GENOGATE_TESTS_TESTING_SCHEMA_TEST_H_

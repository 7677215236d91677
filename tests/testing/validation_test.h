// A GoogleTest fixture base over the shared validation environment
// (validation_env.h): its packages, schema and validator as packages_,
// schema_ and validator_. `Base` is ::testing::Test or
// ::testing::TestWithParam<T>.
#ifndef GENOGATE_TESTS_TESTING_VALIDATION_TEST_H_
#define GENOGATE_TESTS_TESTING_VALIDATION_TEST_H_

#include <gtest/gtest.h>

#include "testing/validation_env.h"

namespace genogate::testing {

template <typename Base = ::testing::Test>
class ValidationTest : public Base {
 protected:
  static void SetUpTestSuite() {
    const ValidationEnv& env = SharedValidationEnv();
    packages_ = env.packages.get();
    schema_ = env.schema.get();
    validator_ = env.validator.get();
  }

  static inline fhir::PackageSet* packages_ = nullptr;
  static inline fhir::Schema* schema_ = nullptr;
  static inline conformance::Validator* validator_ = nullptr;
};

}  // namespace genogate::testing

#endif  // GENOGATE_TESTS_TESTING_VALIDATION_TEST_H_

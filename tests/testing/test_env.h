// Locations the tests read from: the source tree, the build tree, the test
// data and the FHIR package cache. Tests that need the FHIR packages fail
// (never skip) when they are missing: scripts/test.sh always fetches them.
#ifndef GENOGATE_TESTS_TESTING_TEST_ENV_H_
#define GENOGATE_TESTS_TESTING_TEST_ENV_H_

#include <string>
#include <vector>

namespace genogate::testing {

// The repository root.
std::string SourceDir();
// The CMake build directory (holds the genogate binary).
std::string BinaryDir();
// tests/data under the source tree.
std::string DataDir();
// $GENOGATE_PACKAGE_CACHE, else ~/.cache/genogate/packages.
std::string PackageCache();
// <cache>/<name>#<version>/package.
std::string PackageDir(const std::string& name, const std::string& version);
std::string R4ExamplesDir();  // hl7.fhir.r4.examples#4.0.1/package
std::string
GenomicsPackageDir();  // hl7.fhir.uv.genomics-reporting#3.0.0/package
// The package directories genogate loads by default (R4 core + Genomics IG).
std::vector<std::string> DefaultPackageDirs();

// Whole file as a string; fails the current test (and returns "") if it
// cannot be read.
std::string ReadTestFile(const std::string& path);

}  // namespace genogate::testing

#endif  // GENOGATE_TESTS_TESTING_TEST_ENV_H_

#include "testing/test_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace genogate::testing {

std::string SourceDir() { return GENOGATE_SOURCE_DIR; }
std::string BinaryDir() { return GENOGATE_BINARY_DIR; }
std::string DataDir() { return SourceDir() + "/tests/data"; }

std::string PackageCache() {
  if (const char* env = std::getenv("GENOGATE_PACKAGE_CACHE"); env && *env) {
    return env;
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/genogate/packages";
}

std::string PackageDir(const std::string& name, const std::string& version) {
  return PackageCache() + "/" + name + "#" + version + "/package";
}

std::string R4ExamplesDir() {
  return PackageDir("hl7.fhir.r4.examples", "4.0.1");
}

std::string GenomicsPackageDir() {
  return PackageDir("hl7.fhir.uv.genomics-reporting", "3.0.0");
}

std::vector<std::string> DefaultPackageDirs() {
  return {R4ExamplesDir(), GenomicsPackageDir()};
}

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace genogate::testing

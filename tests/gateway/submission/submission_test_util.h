// Inputs and helpers shared by the submission service and API tests.
#ifndef GENOGATE_TESTS_GATEWAY_SUBMISSION_SUBMISSION_TEST_UTIL_H_
#define GENOGATE_TESTS_GATEWAY_SUBMISSION_SUBMISSION_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "base/issue.h"
#include "conformance/validator/validator.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"

namespace genogate::gateway::testing {

using genogate::testing::DataDir;
using genogate::testing::ReadTestFile;
using genogate::testing::SharedValidationEnv;
using genogate::testing::SourceDir;

inline std::string SampleVcf() {
  return ReadTestFile(DataDir() + "/vcf/snv_indel.vcf");
}
inline std::string SampleHl7() {
  return ReadTestFile(DataDir() + "/hl7v2/brca1_germline_two_variants.hl7");
}
inline std::string SampleLabJson() {
  return ReadTestFile(SourceDir() + "/examples/lab-result.json");
}

// The sample VCF with the POS of its first data line broken; `line`
// receives that line's number.
inline std::string MalformedVcf(uint32_t* line) {
  std::string vcf = SampleVcf();
  size_t start = 0;
  *line = 1;
  while (vcf.compare(start, 1, "#") == 0) {
    start = vcf.find('\n', start) + 1;
    ++*line;
  }
  vcf.insert(vcf.find('\t', start) + 1, "x");
  return vcf;
}

// Error issues of validating `payload` (a queued Bundle) as text.
inline std::string PayloadErrors(const std::string& payload) {
  const auto& env = SharedValidationEnv();
  Result<IssueList> r = env.validator->ValidateText(payload);
  if (!r.ok()) return r.error().ToString();
  return genogate::testing::ErrorsOf(*r).ToText();
}

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_SUBMISSION_SUBMISSION_TEST_UTIL_H_

// libFuzzer target: the lab JSON reader on arbitrary bytes. Checks that a
// refusal always comes with at least one problem naming a JSON pointer (or
// the document) and that an accepted document gives 0-based intervals.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "mappers/labjson/labjson_mapper.h"

using namespace genogate::mappers::labjson;  // NOLINT: fuzz driver

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Problem> problems;
  genogate::Result<genogate::mappers::GenomicReportInput> r =
      ReadLabJson(text, &problems);
  if (!r.ok()) {
    if (problems.empty()) std::abort();
    for (const Problem& p : problems) {
      if (!p.pointer.empty() && p.pointer[0] != '/') std::abort();
      if (p.reason.empty()) std::abort();
    }
    return 0;
  }
  if (!problems.empty()) std::abort();
  for (const genogate::mappers::VariantCall& v : r->variants) {
    if (!v.start || *v.start < 0) std::abort();
    if (v.end && *v.end < *v.start) std::abort();
  }
  return 0;
}

// libFuzzer target: the FHIRPath lexer and parser (Compile) on arbitrary
// text. Checks that Compile never crashes, that errors carry a position, and
// that a compiled AST can be printed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "conformance/fhirpath/ast.h"
#include "conformance/fhirpath/fhirpath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  genogate::fhirpath::CompileOptions options;
  options.max_length = 16 * 1024;
  options.max_depth = 128;
  genogate::Result<genogate::fhirpath::Expression> e =
      genogate::fhirpath::Compile(text, options);
  if (e.ok()) {
    std::string s = genogate::fhirpath::DebugString(e->ast());
    if (s.empty()) std::abort();
  } else if (e.error().message().rfind("line ", 0) != 0 &&
             e.error().code() != genogate::ErrorCode::kLimitExceeded) {
    std::abort();  // every syntax error names its position
  }
  return 0;
}

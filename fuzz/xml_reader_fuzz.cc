// Fuzzes the FHIR XML reader (libxml2 SAX2 with DOCTYPEs refused), and the
// writers on whatever it accepts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fhir/codec.h"
#include "fuzz_schema.h"

// Loads the definitions before fuzzing starts (outside the per-input
// timeout; a first run may have to build the package index).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)genogate::fuzz::FuzzSchema();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace genogate::fhir;
  const Schema& schema = genogate::fuzz::FuzzSchema();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseOptions options;
  options.max_depth = 64;
  genogate::Result<Document> doc = ParseXml(text, schema, options);
  if (!doc.ok()) return 0;
  genogate::Result<std::string> json = WriteJson(doc->root);
  if (json.ok()) (void)ParseJson(*json, &schema, options);
  if (!doc->issues.HasErrors()) (void)WriteXml(doc->root);
  return 0;
}

// Fuzzes the FHIR JSON reader, and the writers on whatever it accepts:
// nothing may crash, leak or hang, and accepted trees must write out.
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
  genogate::Result<Document> doc = ParseJson(text, &schema, options);
  if (!doc.ok()) return 0;
  (void)WriteJson(doc->root);
  if (!doc->issues.HasErrors()) {
    genogate::Result<std::string> xml = WriteXml(doc->root);
    if (xml.ok()) (void)ParseXml(*xml, schema, options);
  }
  return 0;
}

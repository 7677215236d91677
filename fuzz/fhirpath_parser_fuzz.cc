// libFuzzer target: the FHIRPath lexer and parser (Compile) on arbitrary
// text, then evaluation of what compiles against a small fixed resource
// with a step budget. Checks that neither crashes, that every syntax error
// carries its position, and that a compiled AST can be printed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "conformance/fhirpath/ast.h"
#include "conformance/fhirpath/fhirpath.h"
#include "fhir/codec.h"

namespace {

constexpr std::string_view kResource = R"({
  "resourceType": "Observation", "id": "o1", "status": "final",
  "contained": [{"resourceType": "Patient", "id": "p", "name": [{"given": ["A", "B"]}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}], "text": "w"},
  "subject": {"reference": "#p"},
  "effectiveDateTime": "2016-03-28T09:30:00+01:00",
  "valueQuantity": {"value": 185.50, "unit": "lbs", "code": "[lb_av]"},
  "component": [{"code": {"text": "a"}, "valueString": "x\u00e9"},
                {"code": {"text": "b"}, "valueInteger": 3, "_valueInteger": {"id": "i"}}]
})";

const genogate::fhir::Document& Resource() {
  static const genogate::fhir::Document* doc = [] {
    auto r = genogate::fhir::ParseJson(kResource, nullptr);
    if (!r.ok()) std::abort();
    return new genogate::fhir::Document(std::move(r).value());
  }();
  return *doc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  genogate::fhirpath::CompileOptions options;
  options.max_length = 16 * 1024;
  options.max_depth = 128;
  genogate::Result<genogate::fhirpath::Expression> e =
      genogate::fhirpath::Compile(text, options);
  if (!e.ok()) {
    if (e.error().message().rfind("line ", 0) != 0 &&
        e.error().code() != genogate::ErrorCode::kLimitExceeded) {
      std::abort();  // every syntax error names its position
    }
    return 0;
  }
  if (genogate::fhirpath::DebugString(e->ast()).empty()) std::abort();
  const genogate::fhir::Node& root = Resource().root;
  genogate::fhirpath::EvalContext ctx;
  ctx.focus = {genogate::fhirpath::Item::Of(&root)};
  ctx.resource = &root;
  ctx.root_resource = &root;
  ctx.variables["v"] = {genogate::fhirpath::Item::Integer(1)};
  ctx.max_steps = 20000;
  auto r = genogate::fhirpath::Evaluate(*e, ctx);
  if (r.ok()) (void)genogate::fhirpath::ToJson(*r);
  return 0;
}

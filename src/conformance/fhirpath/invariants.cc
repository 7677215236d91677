#include "conformance/fhirpath/invariants.h"

namespace genogate::fhirpath {
namespace {

std::string Str(const fhir::JsonValue& o, const char* key) {
  if (!o.IsObject()) return "";
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string PathExpression(std::string path) {
  size_t p;
  while ((p = path.find("[x]")) != std::string::npos) path.erase(p, 3);
  return path;
}

}  // namespace

std::map<std::string, std::vector<InvariantSite>> BaseResourceInvariants(
    const fhir::PackageSet& packages) {
  std::map<std::string, std::vector<InvariantSite>> out;
  constexpr std::string_view kBase = "http://hl7.org/fhir/StructureDefinition/";
  for (const fhir::ResourceEntry* e :
       packages.EntriesOfType("StructureDefinition")) {
    if (e->kind != "resource" || e->derivation != "specialization" ||
        e->url.compare(0, kBase.size(), kBase) != 0) {
      continue;
    }
    const fhir::Json* sd = packages.Load(*e);
    if (sd == nullptr || !sd->IsObject()) continue;
    auto snap = sd->FindMember("snapshot");
    if (snap == sd->MemberEnd() || !snap->value.IsObject()) continue;
    auto elems = snap->value.FindMember("element");
    if (elems == snap->value.MemberEnd() || !elems->value.IsArray()) continue;
    std::vector<InvariantSite>& sites = out[e->type];
    if (!sites.empty()) continue;  // one definition per type
    for (const fhir::JsonValue& el : elems->value.GetArray()) {
      auto cs = el.FindMember("constraint");
      if (cs == el.MemberEnd() || !cs->value.IsArray()) continue;
      InvariantSite site;
      site.path = PathExpression(Str(el, "path"));
      for (const fhir::JsonValue& c : cs->value.GetArray()) {
        Invariant inv;
        inv.key = Str(c, "key");
        inv.severity = Str(c, "severity");
        inv.human = Str(c, "human");
        inv.expression = Str(c, "expression");
        if (!inv.expression.empty()) site.invariants.push_back(std::move(inv));
      }
      if (!site.invariants.empty()) sites.push_back(std::move(site));
    }
  }
  return out;
}

}  // namespace genogate::fhirpath

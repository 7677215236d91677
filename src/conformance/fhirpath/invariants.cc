#include "conformance/fhirpath/invariants.h"

#include <set>

#include "fhir/schema.h"

namespace genogate::fhirpath {
namespace {

std::string Str(const fhir::JsonValue& o, const char* key) {
  if (!o.IsObject()) return "";
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string StripChoice(std::string path) {
  size_t p;
  while ((p = path.find("[x]")) != std::string::npos) path.erase(p, 3);
  return path;
}

const std::vector<Invariant> kNone;

}  // namespace

BaseConstraints::BaseConstraints(const fhir::PackageSet& packages) {
  constexpr std::string_view kBase = "http://hl7.org/fhir/StructureDefinition/";
  std::set<std::string> done;
  for (const fhir::ResourceEntry* e :
       packages.EntriesOfType("StructureDefinition")) {
    if (e->url.compare(0, kBase.size(), kBase) != 0) continue;
    const bool datatype =
        e->kind == "complex-type" || e->kind == "primitive-type";
    if (e->kind != "resource" && !datatype) continue;
    if (e->derivation == "constraint" && (!datatype || e->type == "Extension"))
      continue;
    // The name the definition's root element is known by in a tree.
    const std::string name = e->url.substr(kBase.size());
    if (!done.insert(name).second) continue;  // one definition per type
    const fhir::Json* sd = packages.Load(*e);
    if (sd == nullptr || !sd->IsObject()) continue;
    auto snap = sd->FindMember("snapshot");
    if (snap == sd->MemberEnd() || !snap->value.IsObject()) continue;
    auto elems = snap->value.FindMember("element");
    if (elems == snap->value.MemberEnd() || !elems->value.IsArray()) continue;
    bool root = true;
    for (const fhir::JsonValue& el : elems->value.GetArray()) {
      std::string context = root ? name : StripChoice(Str(el, "path"));
      const bool is_root = root;
      root = false;
      // A constrained datatype's other elements are the base type's.
      if (!is_root && e->derivation == "constraint") break;
      auto cs = el.FindMember("constraint");
      if (cs == el.MemberEnd() || !cs->value.IsArray()) continue;
      std::vector<Invariant>& list = by_context_[context];
      if (!list.empty()) continue;  // shared element paths: first wins
      for (const fhir::JsonValue& c : cs->value.GetArray()) {
        Invariant inv;
        inv.key = Str(c, "key");
        inv.severity = Str(c, "severity");
        inv.human = Str(c, "human");
        inv.expression = Str(c, "expression");
        inv.context = context;
        if (!inv.expression.empty()) list.push_back(std::move(inv));
      }
      if (list.empty()) by_context_.erase(context);
    }
  }
}

const std::vector<Invariant>& BaseConstraints::At(
    std::string_view context) const {
  auto it = by_context_.find(context);
  return it == by_context_.end() ? kNone : it->second;
}

size_t BaseConstraints::size() const {
  size_t n = 0;
  for (const auto& [context, list] : by_context_) n += list.size();
  return n;
}

std::vector<const Invariant*> BaseConstraints::For(
    const fhir::Node& node) const {
  std::vector<const Invariant*> out;
  auto add = [&](std::string_view context) {
    for (const Invariant& inv : At(context)) {
      bool dup = false;
      for (const Invariant* o : out) dup = dup || o->key == inv.key;
      if (!dup) out.push_back(&inv);
    }
  };
  if (node.def() != nullptr) add(StripChoice(node.def()->path));
  if (node.is_resource()) {
    add(node.resource_type());
  } else if (node.type() != nullptr) {
    add(node.type()->name());
  }
  return out;
}

namespace {

void Walk(const fhir::Node& node, const fhir::Node* resource,
          const fhir::Node* root_resource, std::string& location,
          const BaseConstraints& constraints,
          std::vector<ConstraintSite>* out) {
  if (node.is_resource()) {
    // A contained resource sees its container as %rootResource; any other
    // resource (the root, a Bundle entry, a Parameters resource) is its own.
    root_resource = node.name() == "contained" && resource != nullptr
                        ? root_resource
                        : &node;
    resource = &node;
  }
  std::vector<const Invariant*> invs = constraints.For(node);
  if (!invs.empty() || node.is_resource()) {
    out->push_back(ConstraintSite{&node, resource, root_resource, location,
                                  std::move(invs)});
  }
  const size_t len = location.size();
  const std::vector<fhir::Node>& kids = node.children();
  size_t index = 0;
  for (size_t i = 0; i < kids.size(); ++i) {
    index = i > 0 && kids[i - 1].name() == kids[i].name() ? index + 1 : 0;
    location += '.';
    location += kids[i].name();
    location += '[';
    location += std::to_string(index);
    location += ']';
    Walk(kids[i], resource, root_resource, location, constraints, out);
    location.resize(len);
  }
}

}  // namespace

std::vector<ConstraintSite> ConstraintSites(
    const fhir::Node& root, const BaseConstraints& constraints) {
  std::vector<ConstraintSite> out;
  std::string location =
      root.is_resource() ? root.resource_type() : root.name();
  Walk(root, nullptr, nullptr, location, constraints, &out);
  return out;
}

std::string SiteType(const ConstraintSite& site) {
  return site.node->is_resource() ? site.node->resource_type()
                                  : std::string(site.node->type_name());
}

std::map<const fhir::Node*, const std::string*> ResourceLocations(
    const std::vector<ConstraintSite>& sites) {
  std::map<const fhir::Node*, const std::string*> out;
  for (const ConstraintSite& s : sites) {
    if (s.node->is_resource()) out[s.node] = &s.location;
  }
  return out;
}

namespace {

uint64_t Fnv1a(std::string_view a, std::string_view b, std::string_view c) {
  uint64_t h = 1469598103934665603ull;
  for (std::string_view s : {a, b, c}) {
    for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  return h;
}

}  // namespace

std::vector<const Invariant*> ConstraintSampler::Pick(
    std::string_view file, const ConstraintSite& site) {
  const std::string type = SiteType(site);
  std::vector<const Invariant*> out;
  for (const Invariant* inv : site.invariants) {
    const bool fresh = pairs_.emplace(inv->key, type).second;
    if (!fresh && every_ > 1 &&
        Fnv1a(file, site.location, inv->key) % every_ != 0) {
      continue;
    }
    out.push_back(inv);
  }
  return out;
}

}  // namespace genogate::fhirpath

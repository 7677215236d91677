#include "conformance/terminology/terminology.h"

#include <functional>

#include "fhir/package.h"

namespace genogate::conformance {

namespace {

std::string_view Str(const fhir::JsonValue& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

const fhir::JsonValue* Arr(const fhir::JsonValue& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsArray()) return nullptr;
  return &it->value;
}

std::string StripVersion(std::string_view url) {
  auto bar = url.find('|');
  return std::string(bar == std::string_view::npos ? url : url.substr(0, bar));
}

std::string Key(std::string_view system, std::string_view code) {
  std::string k(system);
  k.push_back('|');
  k.append(code);
  return k;
}

}  // namespace

struct Terminology::CodeSystemIndex {
  bool complete = false;
  bool case_sensitive = true;
  std::unordered_set<std::string> codes;
  // child -> parents
  std::unordered_map<std::string, std::vector<std::string>> parents;
  // parent -> children
  std::unordered_map<std::string, std::vector<std::string>> children;
};

struct Terminology::Expansion {
  std::unordered_set<std::string> keys;   // "system|code"
  std::unordered_set<std::string> codes;  // codes of any system
  std::unordered_set<std::string> open;   // systems we cannot enumerate
  bool unknown = false;                   // could not expand at all
  std::string reason;
};

Terminology::Terminology(const fhir::PackageSet* packages)
    : packages_(packages) {}
Terminology::~Terminology() = default;

bool Terminology::HasValueSet(std::string_view valueset) const {
  const fhir::Json* j = packages_->Find(StripVersion(valueset));
  return j != nullptr && Str(*j, "resourceType") == "ValueSet";
}

const Terminology::CodeSystemIndex* Terminology::FindCodeSystem(
    std::string_view url) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::string key = StripVersion(url);
  auto it = code_systems_.find(key);
  if (it != code_systems_.end()) return it->second.get();
  std::unique_ptr<CodeSystemIndex> cs;
  const fhir::Json* j = packages_->Find(key);
  if (j != nullptr && Str(*j, "resourceType") == "CodeSystem") {
    cs = std::make_unique<CodeSystemIndex>();
    cs->complete = Str(*j, "content") == "complete";
    auto csi = j->FindMember("caseSensitive");
    if (csi != j->MemberEnd() && csi->value.IsBool())
      cs->case_sensitive = csi->value.GetBool();
    std::function<void(const fhir::JsonValue&, const std::string&)> walk =
        [&](const fhir::JsonValue& list, const std::string& parent) {
          for (const auto& c : list.GetArray()) {
            std::string code(Str(c, "code"));
            if (code.empty()) continue;
            cs->codes.insert(code);
            if (!parent.empty()) {
              cs->parents[code].push_back(parent);
              cs->children[parent].push_back(code);
            }
            if (const fhir::JsonValue* props = Arr(c, "property")) {
              for (const auto& p : props->GetArray()) {
                std::string_view pc = Str(p, "code");
                if (pc == "parent" || pc == "subsumedBy") {
                  std::string pv(Str(p, "valueCode"));
                  if (!pv.empty()) {
                    cs->parents[code].push_back(pv);
                    cs->children[pv].push_back(code);
                  }
                }
              }
            }
            if (const fhir::JsonValue* sub = Arr(c, "concept"))
              walk(*sub, code);
          }
        };
    if (const fhir::JsonValue* concepts = Arr(*j, "concept"))
      walk(*concepts, "");
  }
  const CodeSystemIndex* out = cs.get();
  code_systems_.emplace(key, std::move(cs));
  return out;
}

bool Terminology::IsLocalCodeSystem(std::string_view system) const {
  const CodeSystemIndex* cs = FindCodeSystem(system);
  return cs != nullptr && cs->complete;
}

CodeResult Terminology::CheckCodeSystem(std::string_view system,
                                        std::string_view code) const {
  const CodeSystemIndex* cs = FindCodeSystem(system);
  if (cs == nullptr || !cs->complete)
    return {CodeStatus::kUnknown,
            "code system " + std::string(system) + " is not available locally"};
  if (cs->codes.count(std::string(code))) return {CodeStatus::kValid, ""};
  return {CodeStatus::kInvalid, "unknown code '" + std::string(code) +
                                    "' in the code system " +
                                    std::string(system)};
}

std::unique_ptr<Terminology::Expansion> Terminology::BuildExpansion(
    std::string_view url, int depth) const {
  auto ex = std::make_unique<Expansion>();
  const fhir::Json* j = packages_->Find(StripVersion(url));
  if (j == nullptr || Str(*j, "resourceType") != "ValueSet") {
    ex->unknown = true;
    ex->reason = "value set " + std::string(url) + " is not available locally";
    return ex;
  }
  if (depth > 10) {
    ex->unknown = true;
    ex->reason = "value set imports nest too deeply";
    return ex;
  }
  auto add_all_descendants = [&](const CodeSystemIndex& cs,
                                 const std::string& system,
                                 const std::string& root, bool self,
                                 std::unordered_set<std::string>* into) {
    std::vector<std::string> stack{root};
    std::unordered_set<std::string> seen;
    while (!stack.empty()) {
      std::string c = stack.back();
      stack.pop_back();
      if (!seen.insert(c).second) continue;
      if (c != root || self) into->insert(Key(system, c));
      auto it = cs.children.find(c);
      if (it != cs.children.end())
        for (const auto& ch : it->second) stack.push_back(ch);
    }
  };
  // Codes selected by one include/exclude entry; `open` receives systems
  // that cannot be enumerated.
  auto select = [&](const fhir::JsonValue& inc,
                    std::unordered_set<std::string>* keys,
                    std::unordered_set<std::string>* open, bool* fail) -> void {
    std::string system(Str(inc, "system"));
    std::unordered_set<std::string> sys_keys;
    bool have_sys = false;
    bool sys_open = false;
    if (!system.empty()) {
      have_sys = true;
      const fhir::JsonValue* concepts = Arr(inc, "concept");
      const fhir::JsonValue* filters = Arr(inc, "filter");
      const CodeSystemIndex* cs = FindCodeSystem(system);
      bool local = cs != nullptr && cs->complete;
      if (concepts != nullptr) {
        for (const auto& c : concepts->GetArray()) {
          std::string_view code = Str(c, "code");
          if (!code.empty()) sys_keys.insert(Key(system, code));
        }
      } else if (filters != nullptr) {
        if (!local) {
          sys_open = true;
        } else {
          bool first = true;
          for (const auto& f : filters->GetArray()) {
            std::string_view prop = Str(f, "property");
            std::string_view op = Str(f, "op");
            std::string value(Str(f, "value"));
            std::unordered_set<std::string> these;
            if (prop == "concept" && (op == "is-a" || op == "descendent-of")) {
              add_all_descendants(*cs, system, value, op == "is-a", &these);
            } else if (prop == "concept" && op == "=") {
              these.insert(Key(system, value));
            } else {
              sys_open = true;
              break;
            }
            if (first) {
              sys_keys = std::move(these);
              first = false;
            } else {
              std::unordered_set<std::string> both;
              for (const auto& k : sys_keys)
                if (these.count(k)) both.insert(k);
              sys_keys = std::move(both);
            }
          }
        }
      } else if (local) {
        for (const auto& c : cs->codes) sys_keys.insert(Key(system, c));
      } else {
        sys_open = true;
      }
    }
    // Imported value sets: intersection with the system selection.
    if (const fhir::JsonValue* vss = Arr(inc, "valueSet")) {
      for (const auto& v : vss->GetArray()) {
        if (!v.IsString()) continue;
        const Expansion* sub = Expand(v.GetString());
        if (sub == nullptr || sub->unknown) {
          *fail = true;
          return;
        }
        if (!have_sys) {
          sys_keys = sub->keys;
          for (const auto& o : sub->open) open->insert(o);
          have_sys = true;
        } else if (!sys_open) {
          std::unordered_set<std::string> both;
          for (const auto& k : sys_keys)
            if (sub->keys.count(k)) both.insert(k);
          sys_keys = std::move(both);
        }
      }
    }
    if (sys_open) open->insert(system);
    keys->insert(sys_keys.begin(), sys_keys.end());
  };

  bool fail = false;
  auto compose = j->FindMember("compose");
  bool composed = false;
  if (compose != j->MemberEnd() && compose->value.IsObject()) {
    if (const fhir::JsonValue* incs = Arr(compose->value, "include")) {
      composed = true;
      for (const auto& inc : incs->GetArray()) {
        select(inc, &ex->keys, &ex->open, &fail);
        if (fail) break;
      }
    }
    if (!fail) {
      if (const fhir::JsonValue* excs = Arr(compose->value, "exclude")) {
        for (const auto& exc : excs->GetArray()) {
          std::unordered_set<std::string> rm, rm_open;
          select(exc, &rm, &rm_open, &fail);
          if (fail) break;
          for (const auto& k : rm) ex->keys.erase(k);
        }
      }
    }
  }
  if (fail || !composed) {
    // Fall back on a stored expansion.
    auto expansion = j->FindMember("expansion");
    const fhir::JsonValue* contains = expansion != j->MemberEnd()
                                          ? Arr(expansion->value, "contains")
                                          : nullptr;
    if (contains != nullptr) {
      ex->keys.clear();
      ex->open.clear();
      std::function<void(const fhir::JsonValue&)> walk =
          [&](const fhir::JsonValue& list) {
            for (const auto& c : list.GetArray()) {
              std::string_view code = Str(c, "code");
              if (!code.empty()) ex->keys.insert(Key(Str(c, "system"), code));
              if (const fhir::JsonValue* sub = Arr(c, "contains")) walk(*sub);
            }
          };
      walk(*contains);
    } else {
      ex->unknown = true;
      ex->reason = "value set " + std::string(url) +
                   " cannot be expanded locally (it imports a value set that "
                   "is not available)";
    }
  }
  for (const auto& k : ex->keys) ex->codes.insert(k.substr(k.find('|') + 1));
  return ex;
}

const Terminology::Expansion* Terminology::Expand(std::string_view url) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::string key = StripVersion(url);
  auto it = expansions_.find(key);
  if (it != expansions_.end()) return it->second.get();
  // Guard against import cycles: a placeholder that reads as unknown.
  auto placeholder = std::make_unique<Expansion>();
  placeholder->unknown = true;
  placeholder->reason = "value set import cycle";
  expansions_[key] = std::move(placeholder);
  std::unique_ptr<Expansion> ex = BuildExpansion(key, 0);
  const Expansion* out = ex.get();
  expansions_[key] = std::move(ex);
  return out;
}

CodeResult Terminology::CheckCode(std::string_view valueset,
                                  std::string_view system,
                                  std::string_view code) const {
  const Expansion* ex = Expand(valueset);
  if (ex->unknown) return {CodeStatus::kUnknown, ex->reason};
  if (system.empty()) {
    if (ex->codes.count(std::string(code))) return {CodeStatus::kValid, ""};
    if (!ex->open.empty())
      return {CodeStatus::kUnknown,
              "the value set includes code systems that are not available "
              "locally"};
    return {CodeStatus::kInvalid, "code '" + std::string(code) +
                                      "' is not in the value set " +
                                      StripVersion(valueset)};
  }
  if (ex->keys.count(Key(system, code))) return {CodeStatus::kValid, ""};
  if (ex->open.count(std::string(system)))
    return {CodeStatus::kUnknown,
            "codes of " + std::string(system) + " cannot be checked locally"};
  // A code system we know nothing about (not loaded): if the value set
  // draws on systems we cannot enumerate, we cannot be sure.
  if (!ex->open.empty() && !IsLocalCodeSystem(system) &&
      ex->open.count("") == 0) {
    bool foreign = true;
    for (const auto& k : ex->keys)
      if (k.compare(0, system.size() + 1, std::string(system) + "|") == 0)
        foreign = false;
    if (foreign && !ex->open.empty())
      return {CodeStatus::kInvalid, "code system " + std::string(system) +
                                        " is not part of the value set " +
                                        StripVersion(valueset)};
  }
  return {CodeStatus::kInvalid,
          "code '" + std::string(system) + "#" + std::string(code) +
              "' is not in the value set " + StripVersion(valueset)};
}

}  // namespace genogate::conformance

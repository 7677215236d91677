#include "conformance/validator/plan.h"

#include <mutex>
#include <unordered_map>

namespace genogate::conformance::internal {

namespace {

std::string Str(const fhir::JsonValue& v, const char* key) {
  if (!v.IsObject()) return {};
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

// Splits an element id into segments at '.' (not inside a slice name that
// contains '/': reslices keep their owner's name).
std::vector<std::string> SplitId(const std::string& id) {
  std::vector<std::string> out;
  std::string cur;
  bool in_slice = false;
  for (char c : id) {
    if (c == '.' && !in_slice) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    if (c == ':') in_slice = true;
    if (c == '.' && in_slice) {
      // A '.' after a slice name ends the segment unless the slice name
      // itself holds dots (rare); treat it as a separator.
      out.push_back(cur);
      cur.clear();
      in_slice = false;
      continue;
    }
    cur.push_back(c);
  }
  out.push_back(cur);
  return out;
}

std::string Join(const std::vector<std::string>& segs, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out.push_back('.');
    out += segs[i];
  }
  return out;
}

// Splits a discriminator path into steps, keeping function calls whole.
std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  bool quote = false;
  for (char c : path) {
    if (c == '\'') quote = !quote;
    if (!quote && c == '(') ++depth;
    if (!quote && c == ')') --depth;
    if (c == '.' && depth == 0 && !quote) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

const ElemDef* ChildNamed(const ElemDef* e, const std::string& name) {
  for (const ElemDef* c : e->children)
    if (c->name == name) return c;
  return nullptr;
}

const ElemDef* FindTarget(const ElemDef* slice, const std::string& path,
                          std::string* url) {
  if (path == "$this") return slice;
  const ElemDef* cur = slice;
  std::vector<std::string> steps = SplitPath(path);
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string& s = steps[i];
    if (s == "$this" || s.rfind("resolve(", 0) == 0 ||
        s.rfind("ofType(", 0) == 0)
      continue;
    if (s.rfind("extension(", 0) == 0) {
      auto q1 = s.find('\'');
      auto q2 = s.rfind('\'');
      std::string u = q1 != std::string::npos && q2 > q1
                          ? s.substr(q1 + 1, q2 - q1 - 1)
                          : "";
      const ElemDef* ext = ChildNamed(cur, "extension");
      const ElemDef* found = nullptr;
      if (ext != nullptr) {
        for (const ElemDef* sl : ext->slices) {
          for (const TypeRef& t : sl->types)
            for (const std::string& p : t.profiles)
              if (p == u) found = sl;
          const ElemDef* uc = ChildNamed(sl, "url");
          if (!found && uc && uc->fixed && uc->fixed->IsString() &&
              u == uc->fixed->GetString())
            found = sl;
          if (found) break;
        }
      }
      if (!found) return nullptr;
      cur = found;
      continue;
    }
    if (s == "url" && i + 1 == steps.size()) {
      for (const TypeRef& t : cur->types)
        if (t.code == "Extension" && !t.profiles.empty()) *url = t.profiles[0];
    }
    const ElemDef* next = ChildNamed(cur, s);
    if (next == nullptr) return url->empty() ? nullptr : cur;
    if (!next->fixed && !next->pattern && next->slices.size() == 1 &&
        next->is_choice)
      next = next->slices[0];
    cur = next;
  }
  return cur;
}

// The compiled form of a FHIRPath expression, shared by all plans: the
// same invariant (dom-3, ele-1, ...) appears in hundreds of definitions.
// Null with `error` set if it does not compile. Thread-safe.
std::shared_ptr<const fhirpath::Expression> Intern(const std::string& text,
                                                   std::string* error) {
  struct Entry {
    std::shared_ptr<const fhirpath::Expression> expr;
    std::string error;
  };
  static std::mutex* mu = new std::mutex;
  static auto* table = new std::unordered_map<std::string, Entry>;
  {
    std::lock_guard<std::mutex> lock(*mu);
    auto it = table->find(text);
    if (it != table->end()) {
      *error = it->second.error;
      return it->second.expr;
    }
  }
  Entry e;
  Result<fhirpath::Expression> ex = fhirpath::Compile(text);
  if (ex.ok()) {
    e.expr =
        std::make_shared<const fhirpath::Expression>(std::move(ex).value());
  } else {
    e.error = ex.error().message();
  }
  std::lock_guard<std::mutex> lock(*mu);
  auto [it, inserted] = table->emplace(text, std::move(e));
  *error = it->second.error;
  return it->second.expr;
}

// A stable pointer for a constraint key, the same for equal keys: the
// validator checks each key once per element, whichever plans carry it.
// Thread-safe.
const std::string* InternKey(const std::string& key) {
  static std::mutex* mu = new std::mutex;
  static auto* keys =
      new std::unordered_map<std::string, std::unique_ptr<std::string>>;
  std::lock_guard<std::mutex> lock(*mu);
  auto& slot = (*keys)[key];
  if (!slot) slot = std::make_unique<std::string>(key);
  return slot.get();
}

// The steps of a discriminator path made only of element names
// ("code", "coding.system"); empty if it uses anything else (functions,
// type names, $this, indexers).
std::vector<std::string> SimpleSteps(const std::string& path) {
  std::vector<std::string> steps;
  std::string cur;
  for (char c : path) {
    if (c == '.') {
      if (cur.empty()) return {};
      steps.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_';
    if (!ok) return {};
    cur.push_back(c);
  }
  if (cur.empty()) return {};
  steps.push_back(std::move(cur));
  for (const std::string& s : steps) {
    // An upper-case first step is a type test in FHIRPath; keywords are
    // not element names.
    if (!(s[0] >= 'a' && s[0] <= 'z')) return {};
    if (s == "and" || s == "or" || s == "xor" || s == "implies" || s == "is" ||
        s == "as" || s == "in" || s == "contains" || s == "div" || s == "mod" ||
        s == "true" || s == "false")
      return {};
  }
  return steps;
}

constexpr std::string_view kBdl7 =
    "(type = 'history') or entry.where(fullUrl.exists())"
    ".select(fullUrl&resource.meta.versionId).isDistinct()";
constexpr std::string_view kCsd1 =
    "concept.code.combine($this.descendants().concept.code).isDistinct()";

Severity SeverityOf(const std::string& s) {
  if (s == "warning") return Severity::kWarning;
  if (s == "information") return Severity::kInformation;
  return Severity::kError;
}

}  // namespace

Result<std::unique_ptr<Plan>> CompilePlan(const fhir::JsonValue& sd) {
  auto plan = std::make_unique<Plan>();
  plan->url = Str(sd, "url");
  plan->name = Str(sd, "name");
  plan->type = Str(sd, "type");
  plan->kind = Str(sd, "kind");
  plan->derivation = Str(sd, "derivation");
  plan->is_extension = plan->type == "Extension";
  if (const fhir::JsonValue* ctx = Arr(sd, "context")) {
    for (const auto& c : ctx->GetArray())
      plan->contexts.push_back({Str(c, "type"), Str(c, "expression")});
  }
  auto snap = sd.FindMember("snapshot");
  const fhir::JsonValue* elements =
      snap != sd.MemberEnd() ? Arr(snap->value, "element") : nullptr;
  if (elements == nullptr || elements->Empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "StructureDefinition " + plan->url + " has no snapshot");
  }
  std::unordered_map<std::string, ElemDef*> by_id;
  for (const auto& e : elements->GetArray()) {
    auto def = std::make_unique<ElemDef>();
    def->path = Str(e, "path");
    def->id = Str(e, "id");
    def->slice_name = Str(e, "sliceName");
    if (def->id.empty()) {
      def->id = def->path;
      if (!def->slice_name.empty()) def->id += ":" + def->slice_name;
    }
    std::string last = def->path.substr(def->path.rfind('.') + 1);
    if (last.size() > 3 && last.compare(last.size() - 3, 3, "[x]") == 0) {
      def->is_choice = true;
      last.resize(last.size() - 3);
    }
    def->name = last;
    auto mn = e.FindMember("min");
    if (mn != e.MemberEnd() && mn->value.IsUint())
      def->min = mn->value.GetUint();
    std::string mx = Str(e, "max");
    if (!mx.empty() && mx != "*") def->max = std::stoul(mx);
    auto ml = e.FindMember("maxLength");
    if (ml != e.MemberEnd() && ml->value.IsInt())
      def->max_length = ml->value.GetInt();
    if (const fhir::JsonValue* types = Arr(e, "type")) {
      for (const auto& t : types->GetArray()) {
        TypeRef tr;
        tr.code = Str(t, "code");
        if (const fhir::JsonValue* p = Arr(t, "profile"))
          for (const auto& u : p->GetArray())
            if (u.IsString()) tr.profiles.push_back(u.GetString());
        if (const fhir::JsonValue* p = Arr(t, "targetProfile"))
          for (const auto& u : p->GetArray())
            if (u.IsString()) tr.target_profiles.push_back(u.GetString());
        def->types.push_back(std::move(tr));
      }
    }
    for (auto m = e.MemberBegin(); m != e.MemberEnd(); ++m) {
      std::string_view k(m->name.GetString(), m->name.GetStringLength());
      if (k.rfind("fixed", 0) == 0) def->fixed = &m->value;
      if (k.rfind("pattern", 0) == 0) def->pattern = &m->value;
    }
    auto b = e.FindMember("binding");
    if (b != e.MemberEnd() && b->value.IsObject()) {
      def->binding_strength = Str(b->value, "strength");
      def->binding_vs = Str(b->value, "valueSet");
    }
    if (const fhir::JsonValue* cs = Arr(e, "constraint")) {
      for (const auto& c : cs->GetArray()) {
        Constraint k;
        k.key = Str(c, "key");
        k.key_id = InternKey(k.key);
        k.severity = SeverityOf(Str(c, "severity"));
        k.human = Str(c, "human");
        k.expression = Str(c, "expression");
        if (k.key == "ele-1") {
          k.native = Constraint::Native::kEle1;
        } else if (k.key == "ext-1") {
          k.native = Constraint::Native::kExt1;
        } else if (!k.expression.empty()) {
          if (k.key == "bdl-7" && k.expression == kBdl7)
            k.native = Constraint::Native::kBdl7;
          if (k.key == "csd-1" && k.expression == kCsd1)
            k.native = Constraint::Native::kCsd1;
          // Compiled also when native: the fallback for unusual input.
          k.expr = Intern(k.expression, &k.compile_error);
          k.cacheable = k.expression.find("conformsTo") == std::string::npos;
          for (const char* f :
               {"descendants", "htmlChecks", "resolve", "children", "repeat",
                "%resource", "%rootResource", "memberOf"})
            if (k.expression.find(f) != std::string::npos) k.expensive = true;
        } else {
          continue;
        }
        def->constraints.push_back(std::move(k));
      }
    }
    auto sl = e.FindMember("slicing");
    if (sl != e.MemberEnd() && sl->value.IsObject()) {
      Slicing s;
      std::string rules = Str(sl->value, "rules");
      s.rules = rules == "closed"      ? Slicing::Rules::kClosed
                : rules == "openAtEnd" ? Slicing::Rules::kOpenAtEnd
                                       : Slicing::Rules::kOpen;
      auto ord = sl->value.FindMember("ordered");
      s.ordered = ord != sl->value.MemberEnd() && ord->value.IsBool() &&
                  ord->value.GetBool();
      if (const fhir::JsonValue* ds = Arr(sl->value, "discriminator")) {
        for (const auto& d : ds->GetArray()) {
          Discriminator disc;
          std::string type = Str(d, "type");
          disc.kind = type == "pattern"   ? Discriminator::Kind::kPattern
                      : type == "type"    ? Discriminator::Kind::kType
                      : type == "profile" ? Discriminator::Kind::kProfile
                      : type == "exists"  ? Discriminator::Kind::kExists
                                          : Discriminator::Kind::kValue;
          disc.path = Str(d, "path");
          if (disc.path != "$this") {
            std::string error;
            disc.expr = Intern(disc.path, &error);
            disc.steps = SimpleSteps(disc.path);
          }
          s.discriminators.push_back(std::move(disc));
        }
      }
      def->slicing = std::move(s);
    }
    // Primitive regex.
    if (plan->kind == "primitive-type" && def->path == plan->type + ".value") {
      if (const fhir::JsonValue* types = Arr(e, "type")) {
        for (const auto& t : types->GetArray()) {
          if (const fhir::JsonValue* exts = Arr(t, "extension")) {
            for (const auto& x : exts->GetArray()) {
              if (Str(x, "url") ==
                  "http://hl7.org/fhir/StructureDefinition/regex") {
                std::string rx = Str(x, "valueString");
                RE2::Options o;
                o.set_log_errors(false);
                o.set_dot_nl(true);
                auto re = std::make_unique<RE2>(rx, o);
                if (re->ok()) plan->regex = std::move(re);
              }
            }
          }
        }
      }
    }
    ElemDef* raw = def.get();
    plan->elems.push_back(std::move(def));
    std::vector<std::string> segs = SplitId(raw->id);
    std::string& lastseg = segs.back();
    auto colon = lastseg.find(':');
    if (segs.size() == 1 && colon == std::string::npos) {
      if (plan->root == nullptr) plan->root = raw;
    } else if (colon != std::string::npos) {
      // A slice (or re-slice "name:a/b", owned by "name:a").
      std::string owner_last;
      auto slash = lastseg.rfind('/');
      if (slash != std::string::npos && slash > colon) {
        owner_last = lastseg.substr(0, slash);
      } else {
        owner_last = lastseg.substr(0, colon);
      }
      std::string owner_id = Join(segs, segs.size() - 1);
      if (!owner_id.empty()) owner_id.push_back('.');
      owner_id += owner_last;
      auto it = by_id.find(owner_id);
      if (it != by_id.end()) {
        it->second->slices.push_back(raw);
        raw->slice_owner = it->second;
      }
    } else {
      auto it = by_id.find(Join(segs, segs.size() - 1));
      if (it != by_id.end()) it->second->children.push_back(raw);
    }
    by_id[raw->id] = raw;
  }
  if (plan->root == nullptr) {
    return Error(ErrorCode::kInvalidInput,
                 "StructureDefinition " + plan->url + " has no root element");
  }
  for (auto& d : plan->elems) {
    if (!d->slice_name.empty() || d->slice_owner != nullptr ||
        d->children.empty())
      continue;
    plan->by_path.emplace(d->path, d.get());  // the first one wins
  }
  // Discriminator targets for each slice.
  for (auto& d : plan->elems) {
    const ElemDef* owner = d->slice_owner;
    if (owner == nullptr || !owner->slicing) continue;
    for (const Discriminator& disc : owner->slicing->discriminators) {
      std::string url;
      d->disc_targets.push_back(FindTarget(d.get(), disc.path, &url));
      d->disc_urls.push_back(url);
    }
  }
  return plan;
}

}  // namespace genogate::conformance::internal

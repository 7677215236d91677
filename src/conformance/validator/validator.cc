#include "conformance/validator/validator.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "conformance/fhirpath/fhirpath.h"
#include "conformance/terminology/terminology.h"
#include "conformance/validator/internal.h"
#include "conformance/validator/plan.h"
#include "conformance/validator/snapshot.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"

namespace genogate::conformance {

using internal::Constraint;
using internal::Discriminator;
using internal::ElemDef;
using internal::Plan;
using internal::Slicing;
using internal::TypeRef;

namespace {

constexpr std::string_view kSdPrefix =
    "http://hl7.org/fhir/StructureDefinition/";

std::string StripVersion(std::string_view url) {
  auto bar = url.find('|');
  return std::string(bar == std::string_view::npos ? url : url.substr(0, bar));
}

std::string Clip(std::string_view v) {
  if (v.size() <= 60) return std::string(v);
  return std::string(v.substr(0, 57)) + "...";
}

bool JsonMatches(const fhir::Node& n, const fhir::JsonValue& j) {
  if (j.IsObject()) {
    for (auto m = j.MemberBegin(); m != j.MemberEnd(); ++m) {
      std::string_view k(m->name.GetString(), m->name.GetStringLength());
      if (k.empty() || k[0] == '_' || k == "resourceType") continue;
      std::vector<const fhir::Node*> kids;
      for (const fhir::Node& c : n.children()) {
        if (c.name() == k || (c.def() && c.def()->is_choice &&
                              k.size() > c.name().size() && c.json_name() == k))
          kids.push_back(&c);
      }
      auto one = [&](const fhir::JsonValue& v) {
        for (const fhir::Node* c : kids)
          if (JsonMatches(*c, v)) return true;
        return false;
      };
      if (m->value.IsArray()) {
        for (const auto& item : m->value.GetArray())
          if (!one(item)) return false;
      } else if (!one(m->value)) {
        return false;
      }
    }
    return true;
  }
  if (!n.has_value()) return false;
  if (j.IsString()) return n.value() == j.GetString();
  if (j.IsBool()) return n.value() == (j.GetBool() ? "true" : "false");
  if (j.IsNumber()) {
    char* end = nullptr;
    double d = std::strtod(n.value().c_str(), &end);
    return end != n.value().c_str() && d == j.GetDouble();
  }
  return false;
}

// The resource type a reference string names ("Patient/1",
// "http://x/fhir/Patient/1", "Patient?identifier=..."), or "".
std::string TypeFromReference(std::string_view ref,
                              const fhir::Schema& schema) {
  if (ref.empty() || ref[0] == '#' || ref.rfind("urn:", 0) == 0) return {};
  auto q = ref.find('?');
  if (q != std::string_view::npos) {
    std::string_view t = ref.substr(0, q);
    auto slash = t.rfind('/');
    if (slash != std::string_view::npos) t = t.substr(slash + 1);
    return schema.FindResourceType(t) ? std::string(t) : std::string();
  }
  auto h = ref.find("/_history/");
  if (h != std::string_view::npos) ref = ref.substr(0, h);
  auto slash = ref.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return {};
  std::string_view before = ref.substr(0, slash);
  auto s2 = before.rfind('/');
  std::string_view t =
      s2 == std::string_view::npos ? before : before.substr(s2 + 1);
  return schema.FindResourceType(t) ? std::string(t) : std::string();
}

}  // namespace

struct Validator::Impl {
  const fhir::PackageSet* packages;
  const fhir::Schema* schema;
  const Terminology* term;
  mutable std::mutex mu;
  mutable std::unordered_map<std::string, std::unique_ptr<Plan>> plans;
  mutable std::unordered_map<std::string, std::string> plan_errors;
  // Snapshots generated for definitions loaded without one (null: failed).
  mutable std::unordered_map<std::string, std::unique_ptr<fhir::Json>>
      generated;
  mutable std::unordered_map<std::string, std::string> generated_errors;

  // The compiled plan for a StructureDefinition URL; null if unknown or not
  // compilable (`error` says why).
  const Plan* GetPlan(std::string_view url,
                      std::string* error = nullptr) const {
    std::string key = StripVersion(url);
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = plans.find(key);
      if (it != plans.end()) {
        if (!it->second && error) *error = plan_errors[key];
        return it->second.get();
      }
    }
    std::unique_ptr<Plan> plan;
    std::string err;
    const fhir::Json* sd = packages->Find(key, &err);
    if (sd == nullptr) {
      if (err.empty()) err = "not loaded";
    } else if (!sd->IsObject() || !sd->HasMember("resourceType") ||
               std::string_view((*sd)["resourceType"].GetString()) !=
                   "StructureDefinition") {
      err = "not a StructureDefinition";
    } else {
      const fhir::JsonValue* def = sd;
      if (!internal::HasSnapshot(*sd)) def = WithSnapshot(key, &err, 0);
      Result<std::unique_ptr<Plan>> p =
          def != nullptr ? internal::CompilePlan(*def)
                         : Result<std::unique_ptr<Plan>>(
                               Error(ErrorCode::kInvalidInput, err));
      if (p.ok()) {
        plan = std::move(p).value();
      } else {
        err = p.error().message();
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    auto [it, inserted] = plans.emplace(key, std::move(plan));
    if (!it->second) {
      plan_errors[key] = err;
      if (error) *error = err;
    }
    return it->second.get();
  }

  // The StructureDefinition for `url` with a snapshot: as loaded, or with
  // one generated from its differential and its base (itself generated if
  // need be) and kept for the validator's lifetime. Null if unknown or if
  // generation fails (`error` says why).
  const fhir::JsonValue* WithSnapshot(std::string_view url, std::string* error,
                                      int depth) const {
    std::string key = StripVersion(url);
    std::string err;
    const fhir::Json* sd = packages->Find(key, &err);
    if (sd == nullptr || internal::HasSnapshot(*sd)) {
      if (sd == nullptr && error) *error = err;
      return sd;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = generated.find(key);
      if (it != generated.end()) {
        if (!it->second && error) *error = generated_errors[key];
        return it->second.get();
      }
    }
    std::unique_ptr<fhir::Json> out;
    // A chain of bases or types deeper than this is a cycle.
    if (depth > 16) {
      err = "StructureDefinition " + key +
            ": base definitions or types nested too deeply";
    } else {
      std::string base_url;
      if (auto b = sd->FindMember("baseDefinition");
          b != sd->MemberEnd() && b->value.IsString())
        base_url = b->value.GetString();
      std::string base_err;
      const fhir::JsonValue* base =
          base_url.empty() ? nullptr
                           : WithSnapshot(base_url, &base_err, depth + 1);
      if (base == nullptr) {
        err = "StructureDefinition " + key + " has no snapshot, and its base " +
              (base_url.empty()
                   ? std::string("is not named")
                   : base_url + " is not available (" + base_err + ")");
      } else {
        internal::SnapshotSource types = [this, depth](std::string_view u) {
          return WithSnapshot(u, nullptr, depth + 1);
        };
        Result<std::unique_ptr<fhir::Json>> g =
            internal::GenerateSnapshot(*sd, *base, types);
        if (g.ok()) {
          out = std::move(g).value();
        } else {
          err = g.error().message();
        }
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    auto [it, inserted] = generated.emplace(key, std::move(out));
    if (!it->second) {
      if (inserted) generated_errors[key] = err;
      if (error) *error = generated_errors[key];
    }
    return it->second.get();
  }

  const Plan* TypePlan(std::string_view type) const {
    std::string url(kSdPrefix);
    url.append(type);
    return GetPlan(url);
  }

  // SD.type of a profile URL (or the last URL segment).
  std::string ProfileType(std::string_view url) const {
    const fhir::ResourceEntry* e = packages->FindEntry(StripVersion(url));
    if (e && !e->type.empty()) return e->type;
    std::string u = StripVersion(url);
    return u.substr(u.rfind('/') + 1);
  }
};

namespace {

// Hash of a pointer and a second value (murmur3's finalizer: pointers
// share their low and high bits, so they need a full mix before masking).
size_t Mix(const void* a, size_t b) {
  uint64_t x = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(a));
  x ^= (static_cast<uint64_t>(b) * 0x9E3779B97F4A7C15ull) >> 7 |
       (static_cast<uint64_t>(b) << 57);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<size_t>(x);
}

struct PtrPairHash {
  template <typename A, typename B>
  size_t operator()(const std::pair<A*, B*>& p) const {
    return Mix(p.first, reinterpret_cast<uintptr_t>(p.second));
  }
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>()(s);
  }
};

using NodePlan = std::pair<const fhir::Node*, const Plan*>;

// An insert-only set of pointer pairs (the first never null), with open
// addressing: no allocation per element, unlike std::unordered_set, which
// made the validator's bookkeeping cost more than its checks.
// A FHIRPath location ("Observation.component[2].code"), built as text
// only when an issue needs it: a step refers to its parent's Loc, which
// must outlive it (they live on the stack of the walk).
class Loc {
 public:
  // The location of a resource: `text` must outlive the Loc.
  static Loc Root(const std::string& text) {
    Loc l;
    l.root_ = &text;
    return l;
  }
  // `parent` + "." + `name`, and "[index]" when index >= 0.
  static Loc Child(const Loc& parent, std::string_view name, int index) {
    Loc l;
    l.parent_ = &parent;
    l.name_ = name;
    l.index_ = index;
    return l;
  }
  std::string Str() const {
    std::string out;
    Append(&out);
    return out;
  }

 private:
  void Append(std::string* out) const {
    if (root_ != nullptr) {
      out->append(*root_);
      return;
    }
    parent_->Append(out);
    out->push_back('.');
    out->append(name_);
    if (index_ >= 0) {
      out->push_back('[');
      out->append(std::to_string(index_));
      out->push_back(']');
    }
  }
  const std::string* root_ = nullptr;
  const Loc* parent_ = nullptr;
  std::string_view name_;
  int index_ = -1;
};

class PairSet {
 public:
  // Adds (a, b); false if it was there already. `a` must not be null.
  bool Insert(const void* a, const void* b) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    return Put(a, b);
  }

 private:
  struct Slot {
    const void* a = nullptr;
    const void* b = nullptr;
  };
  bool Put(const void* a, const void* b) {
    size_t mask = slots_.size() - 1;
    for (size_t i = Mix(a, reinterpret_cast<uintptr_t>(b)) & mask;;
         i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.a == nullptr) {
        s = {a, b};
        ++size_;
        return true;
      }
      if (s.a == a && s.b == b) return false;
    }
  }
  void Grow() {
    std::vector<Slot> old(slots_.empty() ? 64 : slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old)
      if (s.a != nullptr) Put(s.a, s.b);
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// The depth at which nested profile checks (Conforms) stop and assume
// conformance.
constexpr int kMaxConformsDepth = 4;
constexpr int kNoCall = -1000;

// State shared by one validation and the nested profile checks it starts:
// caches whose entries do not depend on where in the nesting they are
// computed. Not thread-safe: one per Validate call.
struct Shared {
  // Plans by canonical URL or type name, as Impl::GetPlan / TypePlan
  // return them (saves the lock and the URL building).
  std::unordered_map<std::string, const Plan*, StringHash, std::equal_to<>>
      plans;
  std::unordered_map<std::string, const Plan*, StringHash, std::equal_to<>>
      type_plans;
  // Results of FHIRPath invariants. The evaluation depends on the focus,
  // %resource and %rootResource only (not on the plan the invariant came
  // from), so the key is those and the shared compiled expression.
  struct ConstraintKey {
    const fhir::Node* node;
    const fhirpath::Expression* expr;
    const fhir::Node* resource;
    const fhir::Node* container;
    bool operator==(const ConstraintKey&) const = default;
  };
  struct ConstraintKeyHash {
    size_t operator()(const ConstraintKey& k) const {
      return Mix(k.node, Mix(k.expr, Mix(k.resource, Mix(k.container, 0))));
    }
  };
  struct ConstraintResult {
    bool ok = true;
    bool eval_failed = false;
    std::string error;
  };
  std::unordered_map<ConstraintKey, ConstraintResult, ConstraintKeyHash>
      constraints;
  // Conforms results, with how deep below the checking run the nested
  // checks went (`height`, kNoCall if none), so that a result is reused
  // only where the depth limit would not have cut it short.
  struct Conformance {
    bool ok;
    int height;
  };
  std::unordered_map<NodePlan, Conformance, PtrPairHash> conforms;

  // The entries of the root Bundle for resolving references: the entry
  // position by fullUrl and by "type/id" (the first of each), built on first
  // use. `slow` when an id holds a '/' (then the index cannot answer).
  struct EntryIndex {
    std::vector<const fhir::Node*> resources;
    std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>
        full_urls;
    std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>
        type_ids;
    // No default member initialiser: clang cannot use one of a nested class
    // before the enclosing class is complete (optional::emplace below).
    bool slow;
  };
  std::optional<EntryIndex> entries;
  const EntryIndex& Entries(const fhir::Node& bundle) {
    if (entries) return *entries;
    EntryIndex& x = entries.emplace();
    x.slow = false;
    for (const fhir::Node& e : bundle.children()) {
      if (e.name() != "entry") continue;
      const fhir::Node* res = e.Child("resource");
      if (res == nullptr) continue;
      size_t i = x.resources.size();
      x.resources.push_back(res);
      x.full_urls.emplace(std::string(e.ChildValue("fullUrl")), i);
      std::string_view id = res->ChildValue("id");
      if (id.find('/') != std::string_view::npos) x.slow = true;
      x.type_ids.emplace(res->resource_type() + "/" + std::string(id), i);
    }
    return x;
  }
};

class Run : public fhirpath::Services, public internal::IssueSink {
 public:
  Run(const Validator::Impl& impl, const fhir::Node& root,
      const ValidationOptions& options, int depth, Shared* shared)
      : impl_(impl),
        root_(root),
        options_(options),
        depth_(depth),
        shared_(shared) {}

  IssueList issues;

  // ---- fhirpath::Services ----------------------------------------------
  std::optional<bool> MemberOf(const fhirpath::Item& coded,
                               std::string_view valueset) const override {
    if (!coded.is_node()) {
      if (coded.kind() != fhirpath::Item::Kind::kString) return std::nullopt;
      CodeResult r = impl_.term->CheckCode(valueset, "", coded.string());
      if (r.status == CodeStatus::kUnknown) return std::nullopt;
      return r.status == CodeStatus::kValid;
    }
    const fhir::Node& n = *coded.node();
    std::vector<std::pair<std::string_view, std::string_view>> codes;
    std::string_view t = n.type_name();
    if (t == "CodeableConcept") {
      for (const fhir::Node* c : n.Children("coding"))
        codes.emplace_back(c->ChildValue("system"), c->ChildValue("code"));
    } else if (t == "Coding") {
      codes.emplace_back(n.ChildValue("system"), n.ChildValue("code"));
    } else if (n.has_value()) {
      codes.emplace_back(std::string_view(), n.value());
    }
    bool unknown = false;
    for (auto& [s, c] : codes) {
      CodeResult r = impl_.term->CheckCode(valueset, s, c);
      if (r.status == CodeStatus::kValid) return true;
      if (r.status == CodeStatus::kUnknown) unknown = true;
    }
    if (unknown) return std::nullopt;
    return false;
  }

  std::optional<bool> ConformsTo(const fhir::Node& resource,
                                 std::string_view profile) const override {
    const Plan* plan = const_cast<Run*>(this)->GetPlan(profile);
    if (plan == nullptr) return std::nullopt;
    return const_cast<Run*>(this)->Conforms(resource, *plan);
  }

  const fhir::Node* Resolve(std::string_view ref) const override {
    if (!root_.is_resource() || root_.resource_type() != "Bundle")
      return nullptr;
    const Shared::EntryIndex& index = shared_->Entries(root_);
    std::string_view rel = ref;
    if (auto h = rel.find("/_history/"); h != std::string_view::npos)
      rel = rel.substr(0, h);
    if (index.slow) return ResolveSlow(ref);
    // The first entry whose fullUrl is `ref` or whose type/id is `rel` or
    // ends `rel` after a '/'. A type/id holds exactly one '/'.
    size_t best = SIZE_MAX;
    auto take = [&](const auto& map, std::string_view key) {
      auto it = map.find(key);
      if (it != map.end()) best = std::min(best, it->second);
    };
    take(index.full_urls, ref);
    take(index.type_ids, rel);
    auto s1 = rel.rfind('/');
    if (s1 != std::string_view::npos && s1 > 0) {
      auto s2 = rel.rfind('/', s1 - 1);
      if (s2 != std::string_view::npos)
        take(index.type_ids, rel.substr(s2 + 1));
    }
    return best == SIZE_MAX ? nullptr : index.resources[best];
  }

  // Resolve's linear search, for bundles whose ids hold a '/'.
  const fhir::Node* ResolveSlow(std::string_view ref) const {
    std::string rel(ref);
    if (auto h = rel.find("/_history/"); h != std::string::npos) rel.resize(h);
    for (const fhir::Node& e : root_.children()) {
      if (e.name() != "entry") continue;
      const fhir::Node* res = e.Child("resource");
      if (res == nullptr) continue;
      if (e.ChildValue("fullUrl") == ref) return res;
      std::string tid =
          res->resource_type() + "/" + std::string(res->ChildValue("id"));
      if (rel == tid ||
          (rel.size() > tid.size() &&
           rel.compare(rel.size() - tid.size(), tid.size(), tid) == 0 &&
           rel[rel.size() - tid.size() - 1] == '/'))
        return res;
    }
    return nullptr;
  }

  // Impl::GetPlan through the per-validation cache. `error` is set only
  // when the result is null.
  const Plan* GetPlan(std::string_view url, std::string* error = nullptr) {
    auto it = shared_->plans.find(url);
    if (it != shared_->plans.end() && (it->second != nullptr || !error))
      return it->second;
    const Plan* p = impl_.GetPlan(url, error);
    shared_->plans.emplace(std::string(url), p);
    return p;
  }

  // Impl::TypePlan through the per-validation cache.
  const Plan* TypePlan(std::string_view type) {
    auto it = shared_->type_plans.find(type);
    if (it != shared_->type_plans.end()) return it->second;
    const Plan* p = impl_.TypePlan(type);
    shared_->type_plans.emplace(std::string(type), p);
    return p;
  }

  // ---- IssueSink --------------------------------------------------------
  void Report(Severity severity, std::string_view type, std::string_view code,
              std::string detail, const std::string& location,
              const fhir::Node* node) override {
    Add(severity, type, code, std::move(detail), location, node, nullptr);
  }

  void Add(Severity severity, std::string_view type, std::string_view code,
           std::string detail, const std::string& location,
           const fhir::Node* node, const Plan* plan) {
    std::string key;
    key.reserve(code.size() + location.size() + detail.size() + 2);
    key.append(code).append("|").append(location).append("|").append(detail);
    if (!seen_.insert(std::move(key)).second) return;
    Issue i;
    i.severity = severity;
    i.type = std::string(type);
    i.code = std::string(code);
    i.message = std::move(detail);
    if (plan != nullptr) i.message += " (profile " + plan->url + ")";
    i.location = location;
    if (node != nullptr) {
      i.line = node->line();
      i.column = node->column();
    }
    issues.Add(std::move(i));
  }

  // ---- entry points -----------------------------------------------------
  void ValidateRoot(const std::string& loc) {
    ValidateResource(root_, Loc::Root(loc), nullptr, true);
  }

  bool Conforms(const fhir::Node& resource, const Plan& plan) {
    NodePlan key(&resource, &plan);
    auto it = conforms_cache_.find(key);
    if (it != conforms_cache_.end()) return it->second;
    if (depth_ >= kMaxConformsDepth) return true;
    max_call_ = std::max(max_call_, depth_);
    const int sub_depth = depth_ + 1;
    auto g = shared_->conforms.find(key);
    if (g != shared_->conforms.end() &&
        (g->second.height == kNoCall ||
         sub_depth + g->second.height < kMaxConformsDepth)) {
      if (g->second.height != kNoCall)
        max_call_ = std::max(max_call_, sub_depth + g->second.height);
      return g->second.ok;
    }
    if (QuickReject(resource, plan)) {
      shared_->conforms[key] = {false, kNoCall};
      conforms_cache_[key] = false;
      return false;
    }
    conforms_cache_[key] = true;  // cycle guard
    Run sub(impl_, root_, options_, sub_depth, shared_);
    sub.resource_ = &resource;
    sub.container_ = &resource;
    sub.ValidatePlan(resource, plan, Loc::Root(resource.resource_type()),
                     nullptr);
    bool ok = !sub.issues.HasErrors();
    conforms_cache_[key] = ok;
    max_call_ = std::max(max_call_, sub.max_call_);
    shared_->conforms[key] = {
        ok, sub.max_call_ == kNoCall ? kNoCall : sub.max_call_ - sub_depth};
    return ok;
  }

  // True if `resource` certainly does not conform to `plan` because a child
  // of the plan's root breaks its cardinality or fixed/pattern value: the
  // same checks ValidateChildren and ValidateElem make, which would report
  // an error. False means "not decided".
  bool QuickReject(const fhir::Node& resource, const Plan& plan) const {
    if (!plan.type.empty() && plan.type != resource.resource_type() &&
        plan.type != "Resource" && plan.type != "DomainResource")
      return false;  // ValidatePlan does not check this; leave it to it
    for (const ElemDef* def : plan.root->children) {
      size_t n = 0;
      bool mismatch = false;
      for (const fhir::Node& c : resource.children()) {
        if (c.name() != def->name) continue;
        if (c.type() == nullptr && !c.is_resource()) continue;
        ++n;
        if (c.is_resource() || mismatch) continue;
        if (def->fixed != nullptr && !JsonMatches(c, *def->fixed))
          mismatch = true;
        if (def->pattern != nullptr && !JsonMatches(c, *def->pattern))
          mismatch = true;
      }
      if (n < def->min || n > def->max || mismatch) return true;
    }
    return false;
  }

 private:
  void ValidateResource(const fhir::Node& res, const Loc& loc,
                        const ElemDef* holder, bool is_root) {
    const fhir::Node* saved = resource_;
    const fhir::Node* saved_container = container_;
    resource_ = &res;
    if (res.name() != "contained" || container_ == nullptr) container_ = &res;
    const std::string& rt = res.resource_type();
    const Plan* base = TypePlan(rt);
    if (base == nullptr) {
      Add(Severity::kError, "structure", "resource-unknown",
          "Unknown resource type '" + Clip(rt) + "'", loc.Str(), &res, nullptr);
      resource_ = saved;
      container_ = saved_container;
      return;
    }
    ValidatePlan(res, *base, loc, nullptr);
    if (const fhir::Node* meta = res.Child("meta")) {
      for (const fhir::Node* p : meta->Children("profile")) {
        if (!p->has_value()) continue;
        std::string err;
        const Plan* plan = GetPlan(p->value(), &err);
        if (plan == nullptr) {
          Add(Severity::kWarning, "not-found", "profile-unknown",
              "Profile " + Clip(p->value()) +
                  " in meta.profile is not loaded (" + err +
                  "); the resource was checked against its base definition "
                  "only",
              loc.Str() + ".meta.profile", p, nullptr);
          continue;
        }
        ValidateTypedProfile(res, *plan, loc);
      }
    }
    if (is_root) {
      for (const std::string& url : options_.profiles) {
        std::string err;
        const Plan* plan = GetPlan(url, &err);
        if (plan == nullptr) {
          Add(Severity::kError, "not-found", "profile-unknown",
              "Requested profile " + Clip(url) + " is not loaded (" + err + ")",
              loc.Str(), &res, nullptr);
          continue;
        }
        ValidateTypedProfile(res, *plan, loc);
      }
    }
    if (holder != nullptr) {
      for (const TypeRef& t : holder->types)
        for (const std::string& p : t.profiles)
          if (const Plan* plan = GetPlan(p))
            ValidateTypedProfile(res, *plan, loc);
    }
    if (rt == "Bundle") BundleChecks(res, loc.Str());
    if (rt == "Observation" && options_.genomics_checks && depth_ == 0 &&
        internal::IsGenomicVariant(res)) {
      internal::CheckGenomicVariant(res, loc.Str(), this);
    }
    resource_ = saved;
    container_ = saved_container;
  }

  void ValidateTypedProfile(const fhir::Node& res, const Plan& plan,
                            const Loc& loc) {
    if (!plan.type.empty() && plan.type != res.resource_type() &&
        plan.type != "Resource" && plan.type != "DomainResource") {
      Add(Severity::kError, "structure", "profile-type-mismatch",
          "Profile is for " + plan.type + " but the resource is a " +
              res.resource_type(),
          loc.Str(), &res, &plan);
      return;
    }
    ValidatePlan(res, plan, loc, nullptr);
  }

  void ValidatePlan(const fhir::Node& node, const Plan& plan, const Loc& loc,
                    const fhir::Node* parent) {
    if (!done_.Insert(&node, &plan)) return;
    const Plan* saved = plan_;
    plan_ = &plan;
    ValidateElem(node, *plan.root, loc, parent, true);
    plan_ = saved;
  }

  static bool TypeMatches(const fhir::Node& node, const std::string& code) {
    if (code.rfind("http://hl7.org/fhirpath/", 0) == 0) return true;
    if (node.type() == nullptr) return true;
    if (node.type_name() == code) return true;
    return node.type()->IsA(code);
  }

  void ValidateElem(const fhir::Node& node, const ElemDef& def, const Loc& loc,
                    const fhir::Node* parent, bool is_plan_root) {
    const Plan& plan = *plan_;
    // 1. Type.
    const TypeRef* tr = nullptr;
    if (!is_plan_root && !def.types.empty() && node.type() != nullptr) {
      for (const TypeRef& t : def.types) {
        if (TypeMatches(node, t.code) ||
            (node.is_resource() &&
             (t.code == "Resource" || t.code == "DomainResource"))) {
          tr = &t;
          break;
        }
      }
      if (tr == nullptr) {
        std::string allowed;
        for (const TypeRef& t : def.types)
          allowed += (allowed.empty() ? "" : ", ") + t.code;
        Add(Severity::kError, "structure", "type-not-allowed",
            def.path + ": type " + std::string(node.type_name()) +
                " is not allowed here (allowed: " + allowed + ")",
            loc.Str(), &node, &plan);
        return;
      }
    }
    if (tr != nullptr && !node.is_resource()) {
      if (tr->profiles.size() == 1) {
        std::string err;
        const Plan* p = GetPlan(tr->profiles[0], &err);
        if (p != nullptr) {
          ValidatePlan(node, *p, loc, parent);
        } else if (tr->code != "Extension") {
          Add(Severity::kWarning, "not-found", "profile-unknown",
              def.path + ": type profile " + tr->profiles[0] + " is not loaded",
              loc.Str(), &node, &plan);
        }
      } else if (tr->profiles.size() > 1) {
        bool any = false;
        for (const std::string& u : tr->profiles)
          if (const Plan* p = GetPlan(u))
            if (Conforms(node, *p)) any = true;
        if (!any)
          Add(Severity::kError, "structure", "type-profile",
              def.path +
                  ": the element does not conform to any of its "
                  "allowed type profiles",
              loc.Str(), &node, &plan);
      }
      if (!tr->target_profiles.empty() && node.type_name() == "Reference")
        CheckReferenceTarget(node, def, *tr, loc);
    }
    // 2. Fixed and pattern values.
    if (def.fixed != nullptr && !JsonMatches(node, *def.fixed)) {
      Add(Severity::kError, "value", "fixed-value",
          def.path + ": value does not match the fixed value required",
          loc.Str(), &node, &plan);
    }
    if (def.pattern != nullptr && !JsonMatches(node, *def.pattern)) {
      Add(Severity::kError, "value", "pattern-value",
          def.path + ": value does not match the pattern required", loc.Str(),
          &node, &plan);
    }
    if (def.max_length > 0 && node.has_value() &&
        node.value().size() > static_cast<size_t>(def.max_length)) {
      Add(Severity::kError, "value", "max-length",
          def.path + ": value is longer than maxLength " +
              std::to_string(def.max_length),
          loc.Str(), &node, &plan);
    }
    // 3. Binding.
    if (!def.binding_vs.empty() && (def.binding_strength == "required" ||
                                    def.binding_strength == "extensible"))
      CheckBinding(node, def, loc);
    // 4. Invariants.
    for (const Constraint& c : def.constraints) CheckConstraint(node, c, loc);
    // 5. Once per node: primitive format, extension definition, code system.
    if (node.type() != nullptr && checked_.Insert(&node, nullptr)) {
      if (node.type()->is_primitive() && node.has_value())
        CheckPrimitive(node, loc);
      std::string_view tn = node.type_name();
      if (tn == "Extension") CheckExtension(node, parent, loc);
      if (tn == "Coding") CheckCoding(node, loc);
    }
    // 6. Children.
    if (!def.children.empty() && (!def.is_choice || def.types.size() <= 1)) {
      ValidateChildren(node, def.children, loc);
    } else if (!is_plan_root && node.type() != nullptr) {
      if (node.type()->kind() == fhir::TypeInfo::Kind::kBackbone) {
        // contentReference: the referenced backbone's definition.
        auto e = plan.by_path.find(node.type()->name());
        if (e != plan.by_path.end())
          ValidateChildren(node, e->second->children, loc);
      } else if (const Plan* tp = TypePlan(node.type_name())) {
        ValidatePlan(node, *tp, loc, parent);
      }
    }
  }

  struct Placed {
    const fhir::Node* node;
    Loc loc;
  };

  void ValidateChildren(const fhir::Node& node,
                        const std::vector<const ElemDef*>& defs,
                        const Loc& loc) {
    const Plan& plan = *plan_;
    // The typed children ordered by name (document order within a name), so
    // each definition finds its run by binary search; the buffer is reused
    // per nesting level, so there is no hash map and no allocation per
    // element.
    if (kids_depth_ == kids_bufs_.size()) kids_bufs_.emplace_back();
    std::vector<const fhir::Node*>& kids = kids_bufs_[kids_depth_++];
    kids.clear();
    for (const fhir::Node& c : node.children())
      if (c.type() != nullptr || c.is_resource()) kids.push_back(&c);
    auto by_name = [](const fhir::Node* a, const fhir::Node* b) {
      return a->name() < b->name();
    };
    if (kids.size() <= 32) {
      // Insertion sort: same-name siblings are normally adjacent already.
      for (size_t i = 1; i < kids.size(); ++i)
        for (size_t j = i; j > 0 && by_name(kids[j], kids[j - 1]); --j)
          std::swap(kids[j], kids[j - 1]);
    } else {
      // Large nodes (the R4 ImplementationGuide example has 40,000
      // children with interleaved names): n log n.
      std::stable_sort(kids.begin(), kids.end(), by_name);
    }
    const bool primitive =
        node.type() != nullptr && node.type()->is_primitive();
    struct ByName {
      bool operator()(const fhir::Node* a, std::string_view b) const {
        return std::string_view(a->name()) < b;
      }
      bool operator()(std::string_view a, const fhir::Node* b) const {
        return a < std::string_view(b->name());
      }
    };
    for (const ElemDef* def : defs) {
      if (primitive && def->name == "value") continue;  // the node's value
      auto [lo, hi] = std::equal_range(kids.begin(), kids.end(),
                                       std::string_view(def->name), ByName{});
      size_t n = static_cast<size_t>(hi - lo);
      if (n < def->min) {
        Add(Severity::kError, "required", "cardinality-min",
            def->path + ": minimum required = " + std::to_string(def->min) +
                ", but only found " + std::to_string(n),
            loc.Str(), &node, &plan);
      }
      if (n == 0) continue;
      std::vector<Placed> placed;
      placed.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        const fhir::Node* c = lo[static_cast<std::ptrdiff_t>(i)];
        bool array = c->def() ? c->def()->is_array : def->max > 1;
        placed.push_back(
            {c, Loc::Child(loc, c->name(), array ? static_cast<int>(i) : -1)});
      }
      if (n > def->max) {
        Add(Severity::kError, "structure", "cardinality-max",
            def->path + ": maximum allowed = " + std::to_string(def->max) +
                ", but found " + std::to_string(n),
            placed[def->max].loc.Str(), placed[def->max].node, &plan);
      }
      if (def->slicing) Slice(*def, placed, &node, loc);
      for (const Placed& p : placed) {
        if (p.node->is_resource()) {
          ValidateResource(*p.node, p.loc, def, false);
        } else {
          ValidateElem(*p.node, *def, p.loc, &node, false);
        }
      }
    }
    --kids_depth_;
  }

  bool DiscMatch(const ElemDef& slice, size_t k, const Discriminator& d,
                 const fhirpath::Collection& vals) {
    const ElemDef* target =
        k < slice.disc_targets.size() ? slice.disc_targets[k] : nullptr;
    static const std::string kNoUrl;
    const std::string& url =
        k < slice.disc_urls.size() ? slice.disc_urls[k] : kNoUrl;
    switch (d.kind) {
      case Discriminator::Kind::kValue:
      case Discriminator::Kind::kPattern: {
        if (!url.empty()) {
          for (const auto& v : vals)
            if (v.is_node() && v.node()->value() == url) return true;
          return false;
        }
        if (target == nullptr) return false;
        const fhir::JsonValue* want =
            target->fixed ? target->fixed : target->pattern;
        if (want != nullptr) {
          for (const auto& v : vals)
            if (v.is_node() && JsonMatches(*v.node(), *want)) return true;
          return false;
        }
        if (!target->binding_vs.empty() &&
            target->binding_strength == "required") {
          for (const auto& v : vals)
            if (MemberOf(v, target->binding_vs).value_or(false)) return true;
          return false;
        }
        return false;
      }
      case Discriminator::Kind::kType: {
        if (target == nullptr) return false;
        for (const auto& v : vals) {
          if (!v.is_node()) continue;
          for (const TypeRef& t : target->types)
            if (TypeMatches(*v.node(), t.code)) return true;
        }
        return false;
      }
      case Discriminator::Kind::kExists: {
        if (target == nullptr) return false;
        bool exists = !vals.empty();
        if (target->max == 0) return !exists;
        if (target->min > 0) return exists;
        return true;
      }
      case Discriminator::Kind::kProfile: {
        if (target == nullptr) return false;
        // Runs once per node and slice: no copies of the profile lists.
        const bool resolves = d.path.find("resolve()") != std::string::npos;
        auto list =
            [resolves](const TypeRef& t) -> const std::vector<std::string>& {
          return resolves ? t.target_profiles : t.profiles;
        };
        bool any = false;
        for (const TypeRef& t : target->types) any = any || !list(t).empty();
        if (!any) return true;
        for (const auto& v : vals) {
          if (!v.is_node()) continue;
          for (const TypeRef& t : target->types) {
            for (const std::string& p : list(t)) {
              const Plan* pl = GetPlan(p);
              if (pl == nullptr) continue;
              if (!pl->type.empty() && v.node()->is_resource() &&
                  pl->type != v.node()->resource_type() &&
                  pl->type != "Resource")
                continue;
              if (Conforms(*v.node(), *pl)) return true;
            }
          }
        }
        return false;
      }
    }
    return false;
  }

  // FHIRPath navigation along plain element names, as the evaluator does
  // it: the children named `steps[0]` of `n`, their children named
  // `steps[1]`, and so on. Returns false (and the caller evaluates the
  // path) if a child's name is a proper prefix of a step, which FHIRPath
  // could read as a choice element ("valueQuantity").
  static bool WalkSteps(const fhir::Node& n,
                        const std::vector<std::string>& steps,
                        fhirpath::Collection* out) {
    fhirpath::Collection cur{fhirpath::Item::Of(&n)};
    fhirpath::Collection next;
    for (const std::string& step : steps) {
      next.clear();
      for (const fhirpath::Item& it : cur) {
        for (const fhir::Node& c : it.node()->children()) {
          const std::string& name = c.name();
          if (name == step) {
            next.push_back(fhirpath::Item::Of(&c));
          } else if (name.size() < step.size() &&
                     step.compare(0, name.size(), name) == 0) {
            return false;
          }
        }
      }
      cur.swap(next);
      if (cur.empty()) break;
    }
    *out = std::move(cur);
    return true;
  }

  void Slice(const ElemDef& def, const std::vector<Placed>& nodes,
             const fhir::Node* parent, const Loc& parent_loc) {
    const Plan& plan = *plan_;
    const Slicing& sl = *def.slicing;
    if (def.slices.empty()) return;
    std::vector<int> which(nodes.size(), -1);
    for (size_t i = 0; i < nodes.size(); ++i) {
      const fhir::Node& n = *nodes[i].node;
      std::vector<fhirpath::Collection> vals(sl.discriminators.size());
      for (size_t k = 0; k < sl.discriminators.size(); ++k) {
        const Discriminator& d = sl.discriminators[k];
        if (!d.expr) {
          vals[k].push_back(fhirpath::Item::Of(&n));
          continue;
        }
        if (!d.steps.empty() && WalkSteps(n, d.steps, &vals[k])) continue;
        vals[k].clear();
        fhirpath::EvalContext ctx = MakeContext(n);
        Result<fhirpath::Collection> r = fhirpath::Evaluate(*d.expr, ctx);
        if (r.ok()) vals[k] = std::move(r).value();
      }
      for (size_t s = 0; s < def.slices.size(); ++s) {
        const ElemDef& slice = *def.slices[s];
        bool all = !sl.discriminators.empty();
        for (size_t k = 0; k < sl.discriminators.size() && all; ++k)
          all = DiscMatch(slice, k, sl.discriminators[k], vals[k]);
        if (all) {
          which[i] = static_cast<int>(s);
          break;
        }
      }
    }
    // Rules and order.
    int last = -1;
    bool seen_unmatched = false;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (which[i] < 0) {
        if (sl.rules == Slicing::Rules::kClosed) {
          Add(Severity::kError, "structure", "slice-closed",
              def.path +
                  ": element does not match any slice and the slicing is "
                  "closed",
              nodes[i].loc.Str(), nodes[i].node, &plan);
        }
        seen_unmatched = true;
        continue;
      }
      if (seen_unmatched && sl.rules == Slicing::Rules::kOpenAtEnd) {
        Add(Severity::kError, "structure", "slice-open-at-end",
            def.path + ": slice '" + def.slices[which[i]]->slice_name +
                "' comes after an element that matches no slice, but the "
                "slicing is openAtEnd",
            nodes[i].loc.Str(), nodes[i].node, &plan);
      }
      if (sl.ordered && which[i] < last) {
        Add(Severity::kError, "structure", "slice-order",
            def.path + ": slice '" + def.slices[which[i]]->slice_name +
                "' is out of order (the slicing is ordered)",
            nodes[i].loc.Str(), nodes[i].node, &plan);
      }
      last = std::max(last, which[i]);
    }
    for (size_t s = 0; s < def.slices.size(); ++s) {
      const ElemDef& slice = *def.slices[s];
      std::vector<Placed> mine;
      for (size_t i = 0; i < nodes.size(); ++i)
        if (which[i] == static_cast<int>(s)) mine.push_back(nodes[i]);
      if (mine.size() < slice.min) {
        Add(Severity::kError, "required", "slice-min",
            def.path + ": slice '" + slice.slice_name + "' has " +
                std::to_string(mine.size()) + " entries but min is " +
                std::to_string(slice.min),
            parent_loc.Str(), parent, &plan);
      }
      if (mine.size() > slice.max) {
        Add(Severity::kError, "structure", "slice-max",
            def.path + ": slice '" + slice.slice_name + "' has " +
                std::to_string(mine.size()) + " entries but max is " +
                std::to_string(slice.max),
            mine[slice.max].loc.Str(), mine[slice.max].node, &plan);
      }
      if (slice.slicing && !mine.empty())
        Slice(slice, mine, parent, parent_loc);
      for (const Placed& p : mine) {
        if (p.node->is_resource()) {
          for (const TypeRef& t : slice.types)
            for (const std::string& u : t.profiles)
              if (const Plan* pl = GetPlan(u))
                ValidatePlan(*p.node, *pl, p.loc, parent);
        } else {
          ValidateElem(*p.node, slice, p.loc, parent, false);
        }
      }
    }
  }

  fhirpath::EvalContext MakeContext(const fhir::Node& focus) const {
    fhirpath::EvalContext ctx;
    ctx.focus = {fhirpath::Item::Of(&focus)};
    ctx.resource = resource_ ? resource_ : &root_;
    ctx.root_resource = container_ ? container_ : &root_;
    ctx.schema = impl_.schema;
    ctx.services = this;
    ctx.max_steps = 200000;
    return ctx;
  }

  // Evaluates a compiled invariant on `node`. Expensive ones, and those on
  // a resource, are evaluated once per validation for each focus,
  // %resource and %rootResource and shared with the nested checks.
  const Shared::ConstraintResult& EvalConstraint(const fhir::Node& node,
                                                 const Constraint& c) {
    Shared::ConstraintKey key{&node, c.expr.get(),
                              resource_ ? resource_ : &root_,
                              container_ ? container_ : &root_};
    const bool cache = c.cacheable && (c.expensive || node.is_resource());
    if (cache) {
      auto it = shared_->constraints.find(key);
      if (it != shared_->constraints.end()) return it->second;
    }
    fhirpath::EvalContext ctx = MakeContext(node);
    Shared::ConstraintResult res;
    Result<fhirpath::Collection> r = fhirpath::Evaluate(*c.expr, ctx);
    if (!r.ok()) {
      res.eval_failed = true;
      res.error = r.error().message();
    } else {
      Result<std::optional<bool>> b = fhirpath::ToBoolean(*r);
      res.ok = !b.ok() || !b->has_value() || **b;
    }
    if (!cache) {
      uncached_ = std::move(res);
      return uncached_;
    }
    return shared_->constraints.emplace(key, std::move(res)).first->second;
  }

  // A primitive's value if `n` has exactly one child `name` and it has a
  // value; nullopt otherwise (absent, repeated or value-less).
  static std::optional<std::string_view> OneValue(const fhir::Node& n,
                                                  std::string_view name) {
    const fhir::Node* found = nullptr;
    for (const fhir::Node& c : n.children()) {
      if (c.name() != name) continue;
      if (found != nullptr || !c.has_value()) return std::nullopt;
      found = &c;
    }
    if (found == nullptr) return std::nullopt;
    return std::string_view(found->value());
  }

  // bdl-7 on a Bundle: "(type = 'history') or entry.where(fullUrl.exists())
  // .select(fullUrl&resource.meta.versionId).isDistinct()". nullopt when
  // the input is unusual (a missing or repeated type, a fullUrl or
  // versionId without a value, repeated elements): FHIRPath decides then.
  static std::optional<bool> NativeBdl7(const fhir::Node& bundle) {
    std::optional<std::string_view> type = OneValue(bundle, "type");
    if (!type) return std::nullopt;
    if (*type == "history") return true;
    std::unordered_set<std::string> seen;
    for (const fhir::Node& e : bundle.children()) {
      if (e.name() != "entry") continue;
      if (e.Child("fullUrl") == nullptr) continue;
      std::optional<std::string_view> full = OneValue(e, "fullUrl");
      if (!full) return std::nullopt;
      std::string key(*full);
      size_t resources = 0;
      for (const fhir::Node& r : e.children()) {
        if (r.name() != "resource") continue;
        if (++resources > 1) return std::nullopt;
        size_t metas = 0;
        for (const fhir::Node& m : r.children()) {
          if (m.name() != "meta") continue;
          if (++metas > 1) return std::nullopt;
          if (m.Child("versionId") == nullptr) continue;
          std::optional<std::string_view> v = OneValue(m, "versionId");
          if (!v) return std::nullopt;
          key.append(*v);
        }
      }
      if (!seen.insert(std::move(key)).second) return false;
    }
    return true;
  }

  // csd-1 on a CodeSystem: "concept.code.combine($this.descendants()
  // .concept.code).isDistinct()", i.e. the codes of all nodes named
  // "concept" at any depth are distinct. nullopt (FHIRPath decides) when a
  // code has no value.
  static std::optional<bool> NativeCsd1(const fhir::Node& cs) {
    std::unordered_set<std::string_view> seen;
    bool distinct = true;
    bool usual = true;
    auto walk = [&](auto& self, const fhir::Node& n) -> void {
      for (const fhir::Node& c : n.children()) {
        if (c.name() == "concept") {
          for (const fhir::Node& k : c.children()) {
            if (k.name() != "code") continue;
            if (!k.has_value()) {
              usual = false;
              continue;
            }
            if (!seen.insert(k.value()).second) distinct = false;
          }
        }
        self(self, c);
      }
    };
    walk(walk, cs);
    if (!usual) return std::nullopt;
    return distinct;
  }

  void CheckConstraint(const fhir::Node& node, const Constraint& c,
                       const Loc& loc) {
    // Each key once per node. The native checks depend on the node alone,
    // so they are first evaluated and the node marked only when they fail:
    // the same outcome without a set entry for every element.
    bool ok = true;
    switch (c.native) {
      case Constraint::Native::kEle1: {
        size_t non_id = 0;
        for (const fhir::Node& k : node.children())
          if (k.name() != "id") ++non_id;
        ok = node.has_value() || non_id > 0 || node.is_resource();
        if (ok || !evaluated_.Insert(&node, c.key_id)) return;
        break;
      }
      case Constraint::Native::kExt1:
        ok = (node.Child("extension") != nullptr) !=
             (node.Child("value") != nullptr);
        if (ok || !evaluated_.Insert(&node, c.key_id)) return;
        break;
      case Constraint::Native::kBdl7:
      case Constraint::Native::kCsd1: {
        if (!evaluated_.Insert(&node, c.key_id)) return;
        std::optional<bool> r = c.native == Constraint::Native::kBdl7
                                    ? NativeBdl7(node)
                                    : NativeCsd1(node);
        if (r.has_value()) {
          ok = *r;
          break;
        }
        if (!c.expr) return;
        const Shared::ConstraintResult& res = EvalConstraint(node, c);
        if (res.eval_failed) {
          Add(Severity::kInformation, "informational", "constraint-error",
              "Constraint " + c.key + " could not be evaluated: " + res.error,
              loc.Str(), &node, plan_);
          return;
        }
        ok = res.ok;
        break;
      }
      case Constraint::Native::kNone: {
        if (!evaluated_.Insert(&node, c.key_id)) return;
        if (!c.expr) {
          if (uncompiled_.insert(c.key).second) {
            Add(Severity::kInformation, "informational",
                "constraint-not-compiled",
                "Constraint " + c.key +
                    " was not checked: its expression cannot be compiled (" +
                    c.compile_error + ")",
                loc.Str(), &node, plan_);
          }
          return;
        }
        const Shared::ConstraintResult& res = EvalConstraint(node, c);
        if (res.eval_failed) {
          Add(Severity::kInformation, "informational", "constraint-error",
              "Constraint " + c.key + " could not be evaluated: " + res.error,
              loc.Str(), &node, plan_);
          return;
        }
        ok = res.ok;
        break;
      }
    }
    if (!ok) {
      Add(c.severity, "invariant", "invariant",
          "Constraint " + c.key + " failed: " + c.human, loc.Str(), &node,
          plan_);
    }
  }

  void CheckBinding(const fhir::Node& node, const ElemDef& def,
                    const Loc& loc) {
    std::string_view tn = node.type_name();
    bool required = def.binding_strength == "required";
    const std::string vs = StripVersion(def.binding_vs);
    std::vector<std::pair<std::string, std::string>> codes;  // system, code
    std::vector<const fhir::Node*> where;
    if (tn == "code") {
      if (!node.has_value()) return;
      codes.emplace_back("", node.value());
    } else if (tn == "Coding") {
      if (node.ChildValue("code").empty()) return;
      codes.emplace_back(node.ChildValue("system"), node.ChildValue("code"));
    } else if (tn == "CodeableConcept") {
      for (const fhir::Node* c : node.Children("coding")) {
        if (c->ChildValue("code").empty()) continue;
        codes.emplace_back(c->ChildValue("system"), c->ChildValue("code"));
      }
      if (codes.empty()) {
        if (required && node.Child("coding") == nullptr &&
            !node.ChildValue("text").empty()) {
          Add(Severity::kWarning, "code-invalid", "binding-no-code",
              def.path +
                  ": no code provided, and a code is required from "
                  "the value set " +
                  vs,
              loc.Str(), &node, plan_);
        }
        return;
      }
    } else {
      return;
    }
    if (!impl_.term->HasValueSet(vs)) {
      Add(Severity::kInformation, "informational", "valueset-unknown",
          def.path + ": value set " + vs +
              " is not available locally; the code was not checked",
          loc.Str(), &node, plan_);
      return;
    }
    bool unknown = false;
    std::string reason;
    for (const auto& [s, c] : codes) {
      CodeResult r = impl_.term->CheckCode(vs, s, c);
      if (r.status == CodeStatus::kValid) return;
      if (r.status == CodeStatus::kUnknown) {
        unknown = true;
        reason = r.reason;
      } else if (reason.empty()) {
        reason = r.reason;
      }
    }
    if (unknown) {
      Add(Severity::kInformation, "informational", "code-unchecked",
          def.path + ": the code could not be checked against the value set " +
              vs + " (" + reason + ")",
          loc.Str(), &node, plan_);
      return;
    }
    std::string shown;
    for (const auto& [s, c] : codes)
      shown +=
          (shown.empty() ? "" : ", ") + (s.empty() ? "" : s + "#") + Clip(c);
    if (required) {
      Add(Severity::kError, "code-invalid", "binding-required",
          def.path + ": the code " + shown +
              " is not in the required value set " + vs,
          loc.Str(), &node, plan_);
    } else {
      Add(Severity::kWarning, "code-invalid", "binding-extensible",
          def.path + ": the code " + shown +
              " is not in the extensible value set " + vs,
          loc.Str(), &node, plan_);
    }
  }

  void CheckCoding(const fhir::Node& node, const Loc& loc) {
    std::string_view system = node.ChildValue("system");
    std::string_view code = node.ChildValue("code");
    if (system.empty() || code.empty()) return;
    CodeResult r = impl_.term->CheckCodeSystem(system, code);
    if (r.status == CodeStatus::kInvalid) {
      Add(Severity::kError, "code-invalid", "code-unknown",
          "Coding: " + r.reason, loc.Str() + ".code", node.Child("code"),
          nullptr);
    }
  }

  void CheckPrimitive(const fhir::Node& node, const Loc& loc) {
    std::string_view tn = node.type_name();
    if (tn == "xhtml") return;
    // Resource.id is a System.String in R4's definitions but an id in
    // substance.
    if (node.name() == "id" && node.def() != nullptr) {
      const std::string& p = node.def()->path;
      auto dot = p.find('.');
      if (dot != std::string::npos &&
          p.compare(dot, std::string::npos, ".id") == 0 &&
          impl_.schema->FindResourceType(std::string_view(p).substr(0, dot)))
        tn = "id";
    }
    const Plan* tp = TypePlan(tn);
    std::string problem;
    if (tp != nullptr && tp->regex != nullptr &&
        !RE2::FullMatch(node.value(), *tp->regex)) {
      problem = "does not match the format of " + std::string(tn);
    } else {
      problem = internal::CheckPrimitiveValue(tn, node.value());
    }
    if (!problem.empty()) {
      Add(Severity::kError, "value", "primitive-format",
          "The value '" + Clip(node.value()) + "' is not a valid " +
              std::string(tn) + ": " + problem,
          loc.Str(), &node, nullptr);
    }
  }

  bool ContextAllows(const Plan& ext, const fhir::Node* parent) {
    if (ext.contexts.empty() || parent == nullptr) return true;
    for (const Plan::Context& c : ext.contexts) {
      if (c.type == "fhirpath") return true;
      if (c.type == "extension") {
        if (parent->type_name() == "Extension" &&
            parent->ChildValue("url") == c.expression)
          return true;
        continue;
      }
      const std::string& e = c.expression;
      // "Element" admits every element and, as the HL7 validator reads it,
      // resources too.
      if (e == "Element" || e == "Base") return true;
      if (e.find(':') != std::string::npos) return true;
      if (parent->is_resource() && parent->resource_type() == e) return true;
      if (parent->def() && parent->def()->path == e) return true;
      for (const fhir::TypeInfo* t = parent->type(); t; t = t->base())
        if (t->name() == e) return true;
      // "Observation.component.value[x]" style paths on a choice.
      if (parent->def() && parent->def()->is_choice && e == parent->def()->path)
        return true;
    }
    return false;
  }

  void CheckExtension(const fhir::Node& node, const fhir::Node* parent,
                      const Loc& loc) {
    std::string_view url = node.ChildValue("url");
    if (url.empty()) return;
    if (url.find("://") == std::string_view::npos && url.rfind("urn:", 0) != 0)
      return;  // a sub-extension of a complex extension
    std::string err;
    const Plan* ext = GetPlan(url, &err);
    bool modifier = node.name() == "modifierExtension";
    if (ext == nullptr || !ext->is_extension) {
      Add(modifier ? Severity::kError : Severity::kWarning, "extension",
          "extension-unknown",
          std::string(modifier ? "Modifier extension" : "Extension") + " " +
              Clip(url) + " is unknown (" +
              (ext ? std::string("not an extension definition") : err) +
              "); its content was not checked",
          loc.Str(), &node, nullptr);
      return;
    }
    if (!ContextAllows(*ext, parent)) {
      std::string ctxs;
      for (const auto& c : ext->contexts)
        ctxs += (ctxs.empty() ? "" : ", ") + c.expression;
      // The R4 core extensions' contexts disagree with the spec's own
      // resources (e.g. structuredefinition-fhir-type on
      // ElementDefinition.type), so for core extensions this is a warning.
      bool core = url.rfind(kSdPrefix, 0) == 0;
      Add(core ? Severity::kWarning : Severity::kError, "extension",
          "extension-context",
          "Extension " + Clip(url) + " is not allowed here (contexts: " + ctxs +
              ")",
          loc.Str(), &node, nullptr);
    }
    ValidatePlan(node, *ext, loc, parent);
  }

  void CheckReferenceTarget(const fhir::Node& node, const ElemDef& def,
                            const TypeRef& tr, const Loc& loc) {
    std::string_view ref = node.ChildValue("reference");
    const fhir::Node* target = nullptr;
    std::string type;
    if (!ref.empty()) {
      target = ResolveRef(node);
      if (target != nullptr) {
        type = target->resource_type();
      } else {
        type = TypeFromReference(ref, *impl_.schema);
      }
    }
    if (type.empty()) {
      std::string_view t = node.ChildValue("type");
      if (!t.empty()) type = std::string(t);
    }
    if (type.empty()) return;
    bool allowed = false;
    std::vector<const Plan*> constraints;
    std::string list;
    for (const std::string& tp : tr.target_profiles) {
      std::string t = impl_.ProfileType(tp);
      list += (list.empty() ? "" : ", ") + t;
      if (t == "Resource" || t == type) {
        allowed = true;
        const Plan* p = GetPlan(tp);
        if (p != nullptr && p->derivation == "constraint")
          constraints.push_back(p);
        else if (p != nullptr || t == "Resource")
          constraints.push_back(nullptr);
      }
    }
    if (!allowed) {
      Add(Severity::kError, "structure", "reference-target",
          def.path + ": the reference points to a " + type +
              ", which is not an allowed target (" + list + ")",
          loc.Str(), &node, plan_);
      return;
    }
    if (target != nullptr && !constraints.empty()) {
      for (const Plan* p : constraints)
        if (p == nullptr || Conforms(*target, *p)) return;
      std::string names;
      for (const Plan* p : constraints)
        names += (names.empty() ? "" : ", ") + p->url;
      Add(Severity::kError, "structure", "reference-target-profile",
          def.path + ": the referenced " + type +
              " does not conform to any allowed target profile (" + names + ")",
          loc.Str(), &node, plan_);
    }
  }

  const fhir::Node* ResolveRef(const fhir::Node& reference) {
    static const std::shared_ptr<const fhirpath::Expression> kExpr = [] {
      Result<fhirpath::Expression> e = fhirpath::Compile("resolve()");
      return e.ok() ? std::make_shared<const fhirpath::Expression>(
                          std::move(e).value())
                    : nullptr;
    }();
    if (!kExpr) return nullptr;
    fhirpath::EvalContext ctx = MakeContext(reference);
    Result<fhirpath::Collection> r = fhirpath::Evaluate(*kExpr, ctx);
    if (!r.ok() || r->empty() || !(*r)[0].is_node()) return nullptr;
    return (*r)[0].node();
  }

  struct PlacedRef {
    const fhir::Node* node;
    std::string loc;
  };

  void CollectReferences(const fhir::Node& n, const std::string& loc,
                         std::vector<PlacedRef>* out) {
    std::unordered_map<std::string_view, size_t> idx;
    for (const fhir::Node& c : n.children()) {
      if (c.is_resource()) continue;  // contained: own scope
      size_t i = idx[c.name()]++;
      bool array = c.def() && c.def()->is_array;
      std::string cl = loc + "." + c.name();
      if (array) cl += "[" + std::to_string(i) + "]";
      if (c.type_name() == "Reference") out->push_back({&c, cl});
      if (!c.is_primitive()) CollectReferences(c, cl, out);
    }
  }

  void BundleChecks(const fhir::Node& bundle, const std::string& loc) {
    std::string_view type = bundle.ChildValue("type");
    std::vector<const fhir::Node*> entries = bundle.Children("entry");
    std::unordered_map<std::string, size_t> full_urls;  // with versionId
    std::unordered_set<std::string> plain_urls;
    std::unordered_set<std::string> type_ids;
    for (size_t i = 0; i < entries.size(); ++i) {
      const fhir::Node* e = entries[i];
      std::string eloc = loc + ".entry[" + std::to_string(i) + "]";
      std::string_view fu = e->ChildValue("fullUrl");
      const fhir::Node* res = e->Child("resource");
      if (res != nullptr && !res->ChildValue("id").empty())
        type_ids.insert(res->resource_type() + "/" +
                        std::string(res->ChildValue("id")));
      if (fu.empty()) continue;
      std::string key(fu);
      if (res != nullptr) {
        if (const fhir::Node* m = res->Child("meta"))
          key += "|" + std::string(m->ChildValue("versionId"));
      }
      plain_urls.insert(std::string(fu));
      auto [it, inserted] = full_urls.emplace(key, i);
      if (!inserted && type != "searchset") {
        Add(Severity::kError, "invalid", "bundle-fullurl-duplicate",
            "Bundle: entry " + std::to_string(i) + " has the same fullUrl " +
                Clip(fu) + " as entry " + std::to_string(it->second),
            eloc + ".fullUrl", e->Child("fullUrl"), nullptr);
      }
    }
    bool document = type == "document";
    bool transaction = type == "transaction";
    if (!document && !transaction) return;
    for (size_t i = 0; i < entries.size(); ++i) {
      const fhir::Node* res = entries[i]->Child("resource");
      if (res == nullptr) continue;
      std::vector<PlacedRef> refs;
      CollectReferences(
          *res, loc + ".entry[" + std::to_string(i) + "].resource", &refs);
      for (const PlacedRef& p : refs) {
        std::string_view ref = p.node->ChildValue("reference");
        if (ref.empty() || ref[0] == '#') continue;
        if (ref.find('?') != std::string_view::npos) {
          if (!transaction) {
            Add(Severity::kError, "invalid", "reference-conditional",
                "Conditional reference " + Clip(ref) +
                    " is only allowed in a transaction bundle",
                p.loc, p.node, nullptr);
          }
          continue;
        }
        bool urn = ref.rfind("urn:", 0) == 0;
        bool absolute = ref.find("://") != std::string_view::npos;
        if (!urn && absolute) {
          continue;  // in the bundle, or on a server outside it
        }
        if (plain_urls.count(std::string(ref))) continue;
        if (!urn) {
          std::string r(ref);
          if (auto h = r.find("/_history/"); h != std::string::npos)
            r.resize(h);
          if (type_ids.count(r)) continue;
          bool found = false;
          for (const std::string& fu : plain_urls) {
            if (fu.size() > r.size() &&
                fu.compare(fu.size() - r.size(), r.size(), r) == 0 &&
                fu[fu.size() - r.size() - 1] == '/')
              found = true;
          }
          if (found) continue;
          if (transaction) continue;  // may be on the server
          Add(Severity::kWarning, "not-found", "reference-unresolved",
              "Reference " + Clip(ref) +
                  " cannot be resolved inside the document bundle",
              p.loc, p.node, nullptr);
          continue;
        }
        Add(Severity::kError, "not-found", "reference-unresolved",
            "Reference " + Clip(ref) + " cannot be resolved inside the " +
                std::string(type) + " bundle (no entry has this fullUrl)",
            p.loc, p.node, nullptr);
      }
    }
  }

  const Validator::Impl& impl_;
  const fhir::Node& root_;
  const ValidationOptions& options_;
  const int depth_;
  const fhir::Node* resource_ = nullptr;
  const fhir::Node* container_ = nullptr;
  const Plan* plan_ = nullptr;
  Shared* const shared_;
  Shared::ConstraintResult uncached_;
  // The deepest run below this one (or this one) that started a nested
  // profile check; kNoCall if none.
  int max_call_ = kNoCall;
  std::unordered_set<std::string> seen_;
  // ValidateChildren's name-ordered children, one buffer per nesting level
  // (a deque: a buffer must not move while an outer level uses it).
  std::deque<std::vector<const fhir::Node*>> kids_bufs_;
  size_t kids_depth_ = 0;
  PairSet done_;       // (node, plan) validated
  PairSet evaluated_;  // (node, Constraint::key_id) checked
  PairSet checked_;    // (node, null): the once-per-node checks done
  std::unordered_set<std::string> uncompiled_;
  std::unordered_map<NodePlan, bool, PtrPairHash> conforms_cache_;
};

}  // namespace

Validator::Validator(const fhir::PackageSet* packages,
                     const fhir::Schema* schema)
    : impl_(std::make_unique<Impl>()),
      terminology_(std::make_unique<Terminology>(packages)),
      schema_(schema) {
  impl_->packages = packages;
  impl_->schema = schema;
  impl_->term = terminology_.get();
}

Validator::~Validator() = default;

IssueList Validator::Validate(const fhir::Node& resource,
                              const ValidationOptions& options) const {
  Shared shared;
  Run run(*impl_, resource, options, 0, &shared);
  std::string loc = resource.resource_type().empty() ? resource.name()
                                                     : resource.resource_type();
  run.ValidateRoot(loc);
  return std::move(run.issues);
}

Result<IssueList> Validator::ValidateText(
    std::string_view text, const ValidationOptions& options) const {
  Result<fhir::Document> doc = fhir::ParseResource(text, *schema_);
  if (!doc.ok()) return doc.error();
  IssueList out = std::move(doc->issues);
  if (!doc->root.is_resource()) return out;
  out.Append(Validate(doc->root, options));
  return out;
}

bool Validator::HasProfile(std::string_view url) const {
  return impl_->GetPlan(url) != nullptr;
}

std::optional<bool> Validator::ConformsTo(const fhir::Node& resource,
                                          std::string_view profile) const {
  const Plan* plan = impl_->GetPlan(profile);
  if (plan == nullptr) return std::nullopt;
  ValidationOptions o;
  o.genomics_checks = false;
  Shared shared;
  Run run(*impl_, resource, o, 0, &shared);
  return run.Conforms(resource, *plan);
}

std::string FindProfilesDir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv("GENOGATE_PROFILES_DIR");
      env != nullptr && *env != '\0') {
    if (fs::is_directory(env, ec)) return env;
  }
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    for (const fs::path& cand :
         {dir / ".." / "profiles",
          dir / ".." / "share" / "genogate" / "profiles"}) {
      if (fs::is_directory(cand / "loinc", ec))
        return fs::weakly_canonical(cand, ec).string();
    }
  }
  if (fs::is_directory("/usr/share/genogate/profiles", ec))
    return "/usr/share/genogate/profiles";
  return {};
}

std::vector<std::string> BundledResourceDirs() {
  std::string dir = FindProfilesDir();
  if (dir.empty()) return {};
  std::error_code ec;
  std::string loinc = dir + "/loinc";
  if (!std::filesystem::is_directory(loinc, ec)) return {};
  return {loinc};
}

}  // namespace genogate::conformance

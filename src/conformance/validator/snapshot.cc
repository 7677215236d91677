#include "conformance/validator/snapshot.h"

#include <cctype>
#include <string>
#include <unordered_map>
#include <vector>

namespace genogate::conformance::internal {

namespace {

constexpr std::string_view kSdPrefix =
    "http://hl7.org/fhir/StructureDefinition/";
// Nesting of data types unfolded under one element, and of slices inside
// slices: far beyond real profiles, a guard against cycles.
constexpr int kMaxDepth = 32;

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

// The member `key` of `v` (an object), or null. Looked up through the
// const interface: clang finds rapidjson's non-const iterator comparisons
// ambiguous in C++20.
fhir::JsonValue* Member(fhir::JsonValue& v, std::string_view key) {
  const fhir::JsonValue& c = v;
  if (!c.IsObject()) return nullptr;
  for (auto m = c.MemberBegin(); m != c.MemberEnd(); ++m) {
    if (std::string_view(m->name.GetString(), m->name.GetStringLength()) == key)
      return const_cast<fhir::JsonValue*>(&m->value);
  }
  return nullptr;
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

bool IsFixedOrPattern(std::string_view k) {
  return (StartsWith(k, "fixed") && k.size() > 5) ||
         (StartsWith(k, "pattern") && k.size() > 7);
}

// The element id of a differential element: its id, else its path with the
// slice name on the last segment.
std::string ElementId(const fhir::JsonValue& e) {
  std::string id = Str(e, "id");
  if (!id.empty()) return id;
  id = Str(e, "path");
  std::string slice = Str(e, "sliceName");
  if (!slice.empty()) id += ":" + slice;
  return id;
}

// Splits an element id at the dots that separate elements (a dot inside a
// slice name would be ambiguous; real profiles do not use one).
std::vector<std::string> Segments(const std::string& id) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t dot = id.find('.', start);
    out.push_back(id.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

struct Elem {
  std::string id;
  std::string path;
  fhir::JsonValue v;
};

class Generator {
 public:
  Generator(fhir::Json* out, const SnapshotSource& types)
      : alloc_(out->GetAllocator()), types_(types) {}

  Status Init(const fhir::JsonValue& base) {
    const fhir::JsonValue* snap = nullptr;
    auto s = base.IsObject() ? base.FindMember("snapshot") : base.MemberEnd();
    if (base.IsObject() && s != base.MemberEnd())
      snap = Arr(s->value, "element");
    if (snap == nullptr || snap->Empty()) {
      return Error(ErrorCode::kInvalidInput,
                   "base " + Str(base, "url") + " has no snapshot");
    }
    for (const auto& e : snap->GetArray()) {
      Elem el;
      el.v.CopyFrom(e, alloc_);
      el.path = Str(e, "path");
      el.id = ElementId(e);
      base_ids_.push_back(el.id);
      elems_.push_back(std::move(el));
    }
    base_ = snap;
    return Status::Ok();
  }

  Status Apply(const fhir::JsonValue& diff) {
    std::string id = ElementId(diff);
    if (id.empty()) {
      return Error(ErrorCode::kInvalidInput,
                   "a differential element has neither id nor path");
    }
    std::string hint;
    std::string err;
    int i = Ensure(id, &hint, &err);
    if (i < 0) {
      return Error(ErrorCode::kInvalidInput,
                   "differential element " + id + ": " + err);
    }
    Merge(&elems_[i].v, diff);
    if (!hint.empty() && !diff.HasMember("type")) RestrictType(i, hint);
    if (diff.HasMember("type")) AddTypeProfileConstraints(i);
    return Status::Ok();
  }

  fhir::JsonValue TakeElements() {
    fhir::JsonValue arr(rapidjson::kArrayType);
    arr.Reserve(static_cast<rapidjson::SizeType>(elems_.size()), alloc_);
    for (Elem& e : elems_) arr.PushBack(e.v, alloc_);
    return arr;
  }

 private:
  int Find(const std::string& id) const {
    for (size_t i = 0; i < elems_.size(); ++i)
      if (elems_[i].id == id) return static_cast<int>(i);
    return -1;
  }

  // One past the last element of `i`'s subtree: its descendants, and its
  // slices (and re-slices) with theirs.
  size_t SubtreeEnd(size_t i, bool with_slices) const {
    const std::string& id = elems_[i].id;
    size_t j = i + 1;
    while (j < elems_.size()) {
      const std::string& o = elems_[j].id;
      if (!StartsWith(o, id) || o.size() == id.size()) break;
      char c = o[id.size()];
      if (c != '.' && !(with_slices && (c == ':' || c == '/'))) break;
      ++j;
    }
    return j;
  }

  bool HasChildren(size_t i) const {
    return i + 1 < elems_.size() &&
           StartsWith(elems_[i + 1].id, elems_[i].id + ".");
  }

  void SetString(fhir::JsonValue* v, const char* key, const std::string& s) {
    fhir::JsonValue val(s.data(), static_cast<rapidjson::SizeType>(s.size()),
                        alloc_);
    if (fhir::JsonValue* old = Member(*v, key)) {
      *old = val;
    } else {
      v->AddMember(fhir::JsonValue(key, alloc_), val, alloc_);
    }
  }

  // Index of element `id`, creating it from the base's slices, data types
  // or choice names when the snapshot so far lacks it. `hint` receives the
  // type a typed choice name ("valueQuantity") selects.
  int Ensure(const std::string& id, std::string* hint, std::string* err) {
    if (int i = Find(id); i >= 0) return i;
    std::vector<std::string> segs = Segments(id);
    if (elems_.empty() || segs[0] != elems_[0].id) {
      *err = "does not start with " +
             (elems_.empty() ? std::string("the base type") : elems_[0].id);
      return -1;
    }
    int i = 0;
    for (size_t k = 1; k < segs.size(); ++k) {
      hint->clear();
      i = Child(i, segs[k], hint, err, 0);
      if (i < 0) return -1;
    }
    return i;
  }

  // The child `seg` ("name", "name:slice", "name:slice/reslice") of
  // element `pi`.
  int Child(int pi, const std::string& seg, std::string* hint, std::string* err,
            int depth) {
    if (depth > kMaxDepth) {
      *err = "slices nested too deeply";
      return -1;
    }
    std::string cid = elems_[pi].id + "." + seg;
    if (int i = Find(cid); i >= 0) return i;
    size_t colon = seg.find(':');
    if (colon != std::string::npos) {
      size_t slash = seg.rfind('/');
      bool reslice = slash != std::string::npos && slash > colon;
      std::string owner_seg = seg.substr(0, reslice ? slash : colon);
      std::string owner_hint;
      int oi = Child(pi, owner_seg, &owner_hint, err, depth + 1);
      if (oi < 0) return -1;
      std::string new_id = elems_[oi].id + seg.substr(reslice ? slash : colon);
      if (int i = Find(new_id); i >= 0) return i;
      return AddSlice(oi, new_id, seg.substr(colon + 1));
    }
    if (!HasChildren(pi)) {
      Status s = Unfold(pi, depth);
      if (!s.ok()) {
        *err = s.error().message();
        return -1;
      }
      if (int i = Find(cid); i >= 0) return i;
    }
    // A choice element by its typed name: value[x] for valueQuantity.
    std::string prefix = elems_[pi].id + ".";
    for (size_t j = pi + 1; j < elems_.size(); ++j) {
      const std::string& o = elems_[j].id;
      if (!StartsWith(o, prefix)) break;
      std::string_view rest = std::string_view(o).substr(prefix.size());
      if (rest.find_first_of(".:") != std::string_view::npos) continue;
      if (rest.size() < 4 || rest.substr(rest.size() - 3) != "[x]") continue;
      std::string_view base = rest.substr(0, rest.size() - 3);
      if (!StartsWith(seg, base) || seg.size() == base.size()) continue;
      std::string type = TypeOfChoiceName(j, seg.substr(base.size()));
      if (type.empty()) continue;
      *hint = type;
      return static_cast<int>(j);
    }
    *err = "no element " + cid + " in the base";
    return -1;
  }

  // The type code of choice element `i` that `suffix` ("Quantity",
  // "String") names, or "".
  std::string TypeOfChoiceName(size_t i, const std::string& suffix) const {
    if (const fhir::JsonValue* ts = Arr(elems_[i].v, "type")) {
      for (const auto& t : ts->GetArray()) {
        std::string code = Str(t, "code");
        if (code.empty() || code.size() != suffix.size()) continue;
        if (std::toupper(static_cast<unsigned char>(code[0])) == suffix[0] &&
            code.compare(1, std::string::npos, suffix, 1) == 0)
          return code;
      }
    }
    return {};
  }

  // An element whose one type has one profile also carries the profile's
  // own invariants (SimpleQuantity's sqty-1 on a value[x] of that type).
  void AddTypeProfileConstraints(size_t i) {
    const fhir::JsonValue* ts = Arr(elems_[i].v, "type");
    if (ts == nullptr || ts->Size() != 1) return;
    const fhir::JsonValue* ps = Arr((*ts)[0], "profile");
    if (ps == nullptr || ps->Size() != 1 || !(*ps)[0].IsString()) return;
    const fhir::JsonValue* sd = types_((*ps)[0].GetString());
    if (sd == nullptr || !sd->IsObject()) return;
    auto s = sd->FindMember("snapshot");
    if (s == sd->MemberEnd()) return;
    const fhir::JsonValue* snap = Arr(s->value, "element");
    if (snap == nullptr || snap->Empty()) return;
    const fhir::JsonValue* cs = Arr((*snap)[0], "constraint");
    if (cs == nullptr) return;
    fhir::JsonValue& e = elems_[i].v;
    if (!Arr(e, "constraint")) {
      e.RemoveMember("constraint");
      e.AddMember("constraint", fhir::JsonValue(rapidjson::kArrayType), alloc_);
    }
    fhir::JsonValue& have = e["constraint"];
    for (const auto& c : cs->GetArray()) {
      std::string key = Str(c, "key");
      bool present = false;
      for (const auto& old : have.GetArray())
        if (Str(old, "key") == key) present = true;
      if (present) continue;
      fhir::JsonValue v;
      v.CopyFrom(c, alloc_);
      have.PushBack(v, alloc_);
    }
  }

  // Keeps only type `code` on element `i`.
  void RestrictType(size_t i, const std::string& code) {
    fhir::JsonValue* types = Member(elems_[i].v, "type");
    if (types == nullptr || !types->IsArray()) return;
    fhir::JsonValue kept(rapidjson::kArrayType);
    for (auto& t : types->GetArray())
      if (Str(t, "code") == code) kept.PushBack(t, alloc_);
    if (!kept.Empty()) *types = kept;
  }

  // A new slice `new_id` of element `oi`: a copy of the element and its
  // descendants (not its slices) as the base has them (as the snapshot so
  // far has them if the base does not), after the owner's last slice.
  int AddSlice(int oi, const std::string& new_id,
               const std::string& slice_name) {
    size_t end = SubtreeEnd(oi, true);
    const std::string owner_id = elems_[oi].id;
    std::vector<Elem> copy;
    auto add = [&](const std::string& id, const std::string& path,
                   const fhir::JsonValue& v) {
      Elem e;
      e.id = new_id + id.substr(owner_id.size());
      e.path = path;
      e.v.CopyFrom(v, alloc_);
      SetString(&e.v, "id", e.id);
      copy.push_back(std::move(e));
    };
    size_t bi = 0;
    while (bi < base_ids_.size() && base_ids_[bi] != owner_id) ++bi;
    if (bi < base_ids_.size()) {
      for (size_t j = bi; j < base_ids_.size(); ++j) {
        const std::string& o = base_ids_[j];
        if (j > bi && !(StartsWith(o, owner_id) && o.size() > owner_id.size() &&
                        o[owner_id.size()] == '.'))
          break;
        const fhir::JsonValue& src =
            (*base_)[static_cast<rapidjson::SizeType>(j)];
        add(o, Str(src, "path"), src);
      }
    } else {
      size_t kids_end = SubtreeEnd(oi, false);
      for (size_t j = oi; j < kids_end; ++j)
        add(elems_[j].id, elems_[j].path, elems_[j].v);
    }
    fhir::JsonValue& root = copy[0].v;
    root.RemoveMember("slicing");
    SetString(&root, "sliceName", slice_name);
    // A slice's own minimum is its own business, not the sliced element's.
    if (fhir::JsonValue* mn = Member(root, "min")) mn->SetUint(0);
    // A type slice of a choice ("valueQuantity") has that one type.
    std::string owner_last =
        elems_[oi].path.substr(elems_[oi].path.rfind('.') == std::string::npos
                                   ? 0
                                   : elems_[oi].path.rfind('.') + 1);
    if (owner_last.size() > 3 &&
        owner_last.compare(owner_last.size() - 3, 3, "[x]") == 0) {
      std::string base = owner_last.substr(0, owner_last.size() - 3);
      if (StartsWith(slice_name, base) && slice_name.size() > base.size()) {
        std::string type = TypeOfChoiceName(oi, slice_name.substr(base.size()));
        elems_.insert(elems_.begin() + static_cast<std::ptrdiff_t>(end),
                      std::make_move_iterator(copy.begin()),
                      std::make_move_iterator(copy.end()));
        if (!type.empty()) RestrictType(end, type);
        return static_cast<int>(end);
      }
    }
    elems_.insert(elems_.begin() + static_cast<std::ptrdiff_t>(end),
                  std::make_move_iterator(copy.begin()),
                  std::make_move_iterator(copy.end()));
    return static_cast<int>(end);
  }

  // Puts the children of element `pi` under it, from its content
  // reference or the snapshot of its (one) type or type profile.
  Status Unfold(int pi, int depth) {
    if (depth > kMaxDepth) {
      return Error(ErrorCode::kInvalidInput, "data types nested too deeply");
    }
    const Elem& parent = elems_[pi];
    std::string content_ref = Str(parent.v, "contentReference");
    std::vector<Elem> kids;
    if (!content_ref.empty()) {
      // "#Questionnaire.item": copy that element's children.
      std::string target = content_ref.substr(content_ref.find('#') + 1);
      int ti = -1;
      for (size_t j = 0; j < elems_.size(); ++j)
        if (elems_[j].path == target && elems_[j].id == target) {
          ti = static_cast<int>(j);
          break;
        }
      if (ti < 0) {
        return Error(ErrorCode::kInvalidInput,
                     "content reference " + content_ref + " not found");
      }
      size_t end = SubtreeEnd(ti, false);
      for (size_t j = ti + 1; j < end; ++j) {
        Elem e;
        e.id = parent.id + elems_[j].id.substr(target.size());
        e.path = parent.path + elems_[j].path.substr(target.size());
        e.v.CopyFrom(elems_[j].v, alloc_);
        SetString(&e.v, "id", e.id);
        SetString(&e.v, "path", e.path);
        kids.push_back(std::move(e));
      }
    } else {
      const fhir::JsonValue* ts = Arr(parent.v, "type");
      if (ts == nullptr || ts->Size() != 1) {
        return Error(ErrorCode::kInvalidInput,
                     "element " + parent.id +
                         " has no single type to take its children from");
      }
      const fhir::JsonValue& t = (*ts)[0];
      std::string url;
      if (const fhir::JsonValue* p = Arr(t, "profile");
          p != nullptr && p->Size() == 1 && (*p)[0].IsString())
        url = (*p)[0].GetString();
      const fhir::JsonValue* sd = url.empty() ? nullptr : types_(url);
      if (sd == nullptr) {
        url = std::string(kSdPrefix) + Str(t, "code");
        sd = types_(url);
      }
      const fhir::JsonValue* snap = nullptr;
      if (sd != nullptr && sd->IsObject()) {
        auto s = sd->FindMember("snapshot");
        if (s != sd->MemberEnd()) snap = Arr(s->value, "element");
      }
      if (snap == nullptr || snap->Empty()) {
        return Error(ErrorCode::kInvalidInput,
                     "no snapshot for " + url + ", the type of " + parent.id);
      }
      std::string root_id = ElementId((*snap)[0]);
      std::string root_path = Str((*snap)[0], "path");
      for (rapidjson::SizeType j = 1; j < snap->Size(); ++j) {
        const fhir::JsonValue& src = (*snap)[j];
        std::string sid = ElementId(src);
        std::string spath = Str(src, "path");
        if (!StartsWith(sid, root_id) || !StartsWith(spath, root_path))
          continue;
        Elem e;
        e.id = parent.id + sid.substr(root_id.size());
        e.path = parent.path + spath.substr(root_path.size());
        e.v.CopyFrom(src, alloc_);
        SetString(&e.v, "id", e.id);
        SetString(&e.v, "path", e.path);
        kids.push_back(std::move(e));
      }
    }
    elems_.insert(elems_.begin() + pi + 1,
                  std::make_move_iterator(kids.begin()),
                  std::make_move_iterator(kids.end()));
    return Status::Ok();
  }

  // Applies the differential element's constraints to a snapshot element.
  void Merge(fhir::JsonValue* e, const fhir::JsonValue& d) {
    for (auto m = d.MemberBegin(); m != d.MemberEnd(); ++m) {
      std::string_view k(m->name.GetString(), m->name.GetStringLength());
      if (k == "id" || k == "path") continue;
      if (IsFixedOrPattern(k)) {
        std::vector<std::string> drop;
        const fhir::JsonValue& ce = *e;
        for (auto it = ce.MemberBegin(); it != ce.MemberEnd(); ++it) {
          std::string ek(it->name.GetString(), it->name.GetStringLength());
          if (IsFixedOrPattern(ek)) drop.push_back(ek);
        }
        for (const std::string& name : drop) e->RemoveMember(name.c_str());
      }
      if (k == "constraint" && m->value.IsArray()) {
        fhir::JsonValue* have = Member(*e, "constraint");
        if (have == nullptr || !have->IsArray()) {
          e->RemoveMember("constraint");
          e->AddMember("constraint", fhir::JsonValue(rapidjson::kArrayType),
                       alloc_);
          have = Member(*e, "constraint");
        }
        for (const auto& c : m->value.GetArray()) {
          std::string key = Str(c, "key");
          bool replaced = false;
          for (auto& old : have->GetArray()) {
            if (!key.empty() && Str(old, "key") == key) {
              old.CopyFrom(c, alloc_);
              replaced = true;
              break;
            }
          }
          if (!replaced) {
            fhir::JsonValue v;
            v.CopyFrom(c, alloc_);
            have->PushBack(v, alloc_);
          }
        }
        continue;
      }
      if (k == "slicing" && m->value.IsObject()) {
        fhir::JsonValue* have = Member(*e, "slicing");
        if (have != nullptr && have->IsObject()) {
          // Merged member by member: a differential may change only the
          // rules and keep the base's discriminators.
          for (auto sm = m->value.MemberBegin(); sm != m->value.MemberEnd();
               ++sm) {
            fhir::JsonValue v;
            v.CopyFrom(sm->value, alloc_);
            std::string_view name(sm->name.GetString(),
                                  sm->name.GetStringLength());
            if (fhir::JsonValue* old = Member(*have, name)) {
              *old = v;
            } else {
              have->AddMember(fhir::JsonValue(sm->name, alloc_), v, alloc_);
            }
          }
          continue;
        }
      }
      fhir::JsonValue v;
      v.CopyFrom(m->value, alloc_);
      if (fhir::JsonValue* old = Member(*e, k)) {
        *old = v;
      } else {
        e->AddMember(fhir::JsonValue(m->name, alloc_), v, alloc_);
      }
    }
  }

  fhir::Json::AllocatorType& alloc_;
  const SnapshotSource& types_;
  std::vector<Elem> elems_;
  // The base's snapshot as it was, and its element ids: new slices copy the
  // sliced element from here, so constraints this differential puts on the
  // unsliced element (or slices of its children) do not spread into them.
  const fhir::JsonValue* base_ = nullptr;
  std::vector<std::string> base_ids_;
};

}  // namespace

bool HasSnapshot(const fhir::JsonValue& sd) {
  if (!sd.IsObject()) return false;
  auto s = sd.FindMember("snapshot");
  if (s == sd.MemberEnd()) return false;
  const fhir::JsonValue* e = Arr(s->value, "element");
  return e != nullptr && !e->Empty();
}

Result<std::unique_ptr<fhir::Json>> GenerateSnapshot(
    const fhir::JsonValue& sd, const fhir::JsonValue& base,
    const SnapshotSource& types) {
  std::string url = Str(sd, "url");
  const fhir::JsonValue* diff = nullptr;
  if (sd.IsObject()) {
    auto d = sd.FindMember("differential");
    if (d != sd.MemberEnd()) diff = Arr(d->value, "element");
  }
  if (diff == nullptr) {
    return Error(ErrorCode::kInvalidInput,
                 "StructureDefinition " + url + " has no differential");
  }
  auto out = std::make_unique<fhir::Json>();
  out->CopyFrom(sd, out->GetAllocator());
  out->RemoveMember("snapshot");
  Generator g(out.get(), types);
  Status s = g.Init(base);
  if (!s.ok()) {
    return Error(ErrorCode::kInvalidInput,
                 "StructureDefinition " + url + ": " + s.error().message());
  }
  for (const auto& e : diff->GetArray()) {
    s = g.Apply(e);
    if (!s.ok()) {
      return Error(ErrorCode::kInvalidInput,
                   "StructureDefinition " + url + ": " + s.error().message());
    }
  }
  fhir::JsonValue snapshot(rapidjson::kObjectType);
  snapshot.AddMember("element", g.TakeElements(), out->GetAllocator());
  out->AddMember("snapshot", snapshot, out->GetAllocator());
  return out;
}

}  // namespace genogate::conformance::internal

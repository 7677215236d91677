#include "fhir/internal/typing.h"

#include <string>

#include "fhir/codec.h"
#include "fhir/schema.h"

namespace genogate::fhir::internal {
namespace {

class Typer {
 public:
  Typer(const Schema& schema, Origin origin, IssueList& issues)
      : schema_(schema), origin_(origin), issues_(issues) {}

  void Root(Node& n) {
    path_.Push(n.is_resource() ? std::string_view(n.resource_type()) : "$root",
               -1);
    Resource(n);
    path_.Pop();
  }

  void Resource(Node& n) {
    if (!n.is_resource()) {
      Report(n, "structure", "missing-resource-type",
             "a resource must have a resourceType");
      return;
    }
    const TypeInfo* t = schema_.FindResourceType(n.resource_type());
    if (!t) {
      Report(n, "structure", "unknown-resource-type",
             "unknown resource type '" + n.resource_type() + "'");
      return;
    }
    n.set_type(t);
    Children(n, t);
  }

 private:
  void Report(const Node& n, const char* type, const char* code,
              std::string msg, Severity sev = Severity::kError) {
    Issue i;
    i.severity = sev;
    i.type = type;
    i.code = code;
    i.message = std::move(msg);
    i.location = path_.str();
    i.line = n.line();
    i.column = n.column();
    issues_.Add(std::move(i));
  }

  void Children(Node& parent, const TypeInfo* type) {
    std::vector<Node>& kids = parent.mutable_children();
    // Index within a run of equal names, for locations.
    std::string_view run_name;
    int run_index = 0;
    for (Node& c : kids) {
      if (c.name() == run_name) {
        ++run_index;
      } else {
        run_name = c.name();
        run_index = 0;
      }
      const TypeInfo* chosen = nullptr;
      const ElementInfo* ei =
          type ? type->FindByJsonName(c.name(), &chosen) : nullptr;
      if (!ei) {
        path_.Push(c.name(), c.array_hint() ? run_index : -1);
        Report(c, "structure", "unknown-element",
               "unknown element '" + c.name() + "'" +
                   (type ? " in " + type->name() : std::string()));
        path_.Pop();
        continue;
      }
      const std::string& json_name = c.name();
      path_.Push(ei->name, ei->is_array ? run_index : -1);
      c.set_def(ei);
      if (ei->is_choice) c.set_name(ei->name);
      if (origin_ == Origin::kJson && c.array_hint() != ei->is_array) {
        Report(c, "structure",
               ei->is_array ? "expected-array" : "unexpected-array",
               ei->is_array ? "'" + json_name + "' must be a JSON array"
                            : "'" + json_name + "' must not be a JSON array");
      }
      const TypeInfo* t =
          chosen ? chosen : (ei->types.empty() ? nullptr : ei->types[0]);
      if (c.is_resource() && !ei->holds_resource) {
        // A data element named resourceType (ExampleScenario.instance), which
        // the JSON reader took for a resource marker.
        Node rt("resourceType", nullptr);
        rt.set_value(c.resource_type(), JsonKind::kString);
        rt.set_position(c.line(), c.column());
        std::vector<Node>& ck = c.mutable_children();
        ck.insert(ck.begin(), std::move(rt));
        c.set_resource(false);
        c.set_resource_type("");
      }
      if (ei->holds_resource) {
        ResourceElement(c);
      } else if (t && t->is_primitive()) {
        Primitive(c, t, json_name);
      } else if (t) {
        c.set_type(t);
        if (c.has_value()) {
          Report(c, "structure", "expected-object",
                 "'" + json_name + "' is a " + t->name() +
                     " and must be an object");
        }
        Children(c, t);
      }
      path_.Pop();
    }
  }

  void ResourceElement(Node& c) {
    if (origin_ == Origin::kXml) {
      // <contained><Patient>...</Patient></contained>: hoist the resource.
      if (c.children().size() != 1 || c.has_value()) {
        Report(c, "structure", "resource-container",
               "'" + c.name() + "' must hold exactly one resource element");
        return;
      }
      Node inner = std::move(c.mutable_children()[0]);
      c.mutable_children() = std::move(inner.mutable_children());
      c.set_resource(true);
      c.set_resource_type(inner.name());
    }
    Resource(c);
  }

  void Primitive(Node& c, const TypeInfo* t, const std::string& json_name) {
    c.set_type(t);
    JsonKind want = t->json_kind();
    if (c.has_value()) {
      if (origin_ == Origin::kXml) {
        std::string v = c.value();
        bool ok = true;
        if (want == JsonKind::kNumber) ok = IsJsonNumber(v);
        if (want == JsonKind::kBool) ok = v == "true" || v == "false";
        if (!ok) {
          Report(c, "value", "invalid-primitive",
                 "'" + v + "' is not a valid " + t->name());
        } else {
          c.set_value(std::move(v), want);
        }
      } else if (c.json_kind() != want) {
        static const char* const kNames[] = {"a string", "a number",
                                             "a boolean"};
        Report(c, "structure", "wrong-json-type",
               "'" + json_name + "' (" + t->name() + ") must be " +
                   kNames[static_cast<int>(want)] + " in JSON, not " +
                   kNames[static_cast<int>(c.json_kind())]);
      }
    }
    // A primitive may carry only id and extension (`_name` in JSON).
    for (const Node& k : c.children()) {
      if (k.name() != "id" && k.name() != "extension") {
        Report(c, "structure", "expected-primitive",
               "'" + json_name + "' is a " + t->name() +
                   " and must be a primitive value, not an object");
        return;
      }
    }
    if (!c.has_value() && c.children().empty()) {
      Report(c, "structure", "empty-primitive",
             "'" + json_name + "' has neither a value nor extensions");
    }
    Children(c, t);
  }

  const Schema& schema_;
  Origin origin_;
  IssueList& issues_;
  PathBuilder path_;
};

}  // namespace

void TypeResourceTree(Node& root, const Schema& schema, Origin origin,
                      IssueList& issues) {
  Typer t(schema, origin, issues);
  t.Root(root);
}

}  // namespace genogate::fhir::internal

namespace genogate::fhir {

bool IsJsonNumber(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  return i == n;
}

}  // namespace genogate::fhir

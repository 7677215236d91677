// Element model -> FHIR JSON. Children with the same JSON name are written
// together (an array when the definition repeats), primitives' id and
// extensions go to the `_name` sibling, resources start with resourceType.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/internal/typing.h"
#include "fhir/schema.h"

namespace genogate::fhir {
namespace {

bool IsArray(const Node& n) {
  return n.def() ? n.def()->is_array : n.array_hint();
}

template <typename Writer>
class JsonOut {
 public:
  explicit JsonOut(Writer& w) : w_(w) {}
  const std::string& error() const { return error_; }

  bool Object(const Node& n) {
    w_.StartObject();
    if (n.is_resource()) {
      w_.Key("resourceType");
      String(n.resource_type());
    }
    if (!Members(n)) return false;
    w_.EndObject();
    return true;
  }

 private:
  void String(std::string_view s) {
    w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
  void Key(std::string_view s) {
    w_.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }

  bool Value(const Node& n) {
    switch (n.json_kind()) {
      case JsonKind::kString:
        String(n.value());
        return true;
      case JsonKind::kNumber:
        if (!IsJsonNumber(n.value())) {
          error_ =
              "'" + n.value() + "' in " + n.name() + " is not a JSON number";
          return false;
        }
        w_.RawValue(n.value().data(), n.value().size(), rapidjson::kNumberType);
        return true;
      case JsonKind::kBool:
        if (n.value() == "true") {
          w_.Bool(true);
        } else if (n.value() == "false") {
          w_.Bool(false);
        } else {
          error_ = "'" + n.value() + "' in " + n.name() + " is not a boolean";
          return false;
        }
        return true;
    }
    return false;
  }

  // A primitive's `_name` object: its id and extensions.
  bool Underscore(const Node& n) {
    w_.StartObject();
    if (!Members(n)) return false;
    w_.EndObject();
    return true;
  }

  bool Members(const Node& n) {
    const std::vector<Node>& kids = n.children();
    std::vector<std::string> done;
    std::vector<const Node*> run;
    for (size_t i = 0; i < kids.size(); ++i) {
      std::string name = kids[i].json_name();
      bool seen = false;
      for (const std::string& d : done) {
        if (d == name) {
          seen = true;
          break;
        }
      }
      if (seen) continue;
      run.clear();
      for (size_t j = i; j < kids.size(); ++j) {
        if (j == i ||
            (kids[j].name() == kids[i].name() && kids[j].json_name() == name)) {
          run.push_back(&kids[j]);
        }
      }
      done.push_back(name);
      if (!Property(name, run)) return false;
    }
    return true;
  }

  bool Property(const std::string& name, const std::vector<const Node*>& run) {
    const Node& first = *run[0];
    bool array = IsArray(first) || run.size() > 1;
    bool primitive = first.is_primitive() && !first.is_resource();
    if (!primitive) {
      Key(name);
      if (array) w_.StartArray();
      for (const Node* n : run) {
        if (!Object(*n)) return false;
      }
      if (array) w_.EndArray();
      return true;
    }
    bool any_value = false, any_ext = false;
    for (const Node* n : run) {
      any_value |= n->has_value();
      any_ext |= !n->children().empty();
    }
    if (any_value) {
      Key(name);
      if (array) w_.StartArray();
      for (const Node* n : run) {
        if (n->has_value()) {
          if (!Value(*n)) return false;
        } else {
          w_.Null();
        }
      }
      if (array) w_.EndArray();
    }
    if (any_ext) {
      Key("_" + name);
      if (array) w_.StartArray();
      for (const Node* n : run) {
        if (n->children().empty()) {
          w_.Null();
        } else if (!Underscore(*n)) {
          return false;
        }
      }
      if (array) w_.EndArray();
    }
    return true;
  }

  Writer& w_;
  std::string error_;
};

template <typename Writer>
Result<std::string> WriteWith(const Node& resource,
                              rapidjson::StringBuffer& buf, Writer& w) {
  JsonOut<Writer> out(w);
  if (!out.Object(resource))
    return Error(ErrorCode::kInvalidInput, out.error());
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Result<std::string> WriteJson(const Node& resource,
                              const WriteOptions& options) {
  rapidjson::StringBuffer buf;
  if (options.pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    return WriteWith(resource, buf, w);
  }
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  return WriteWith(resource, buf, w);
}

}  // namespace genogate::fhir

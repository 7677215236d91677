#include "conformance/capability_statement.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
#include <set>

#include "fhir/package.h"

namespace genogate::conformance {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void Field(JsonWriter& w, std::string_view key, std::string_view value) {
  Str(w, key);
  Str(w, value);
}

void Operation(JsonWriter& w, const CapabilityOperation& op) {
  w.StartObject();
  Field(w, "name", op.name);
  Field(w, "definition", op.definition);
  w.EndObject();
}

}  // namespace

Result<std::string> CapabilityStatementJson(const fhir::PackageSet& packages,
                                            const CapabilityOptions& options) {
  if (options.date.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "a CapabilityStatement needs a date");
  }
  // Resource type -> its profiles from the listed packages.
  std::map<std::string, std::set<std::string>> profiles;
  for (const std::string& t : options.accepted_types) profiles[t];
  for (const fhir::ResourceEntry* e :
       packages.EntriesOfType("StructureDefinition")) {
    if (e->derivation != "constraint" || e->kind != "resource") continue;
    const std::string& package = packages.packages()[e->package].name;
    if (std::find(options.profile_packages.begin(),
                  options.profile_packages.end(),
                  package) == options.profile_packages.end()) {
      continue;
    }
    profiles[e->type].insert(e->url);
  }

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Field(w, "resourceType", "CapabilityStatement");
  Field(w, "status", "active");
  Field(w, "date", options.date);
  Field(w, "kind", "instance");
  Str(w, "software");
  w.StartObject();
  Field(w, "name", options.software_name);
  if (!options.software_version.empty()) {
    Field(w, "version", options.software_version);
  }
  w.EndObject();
  Str(w, "implementation");
  w.StartObject();
  Field(w, "description", options.description);
  if (!options.url.empty()) Field(w, "url", options.url);
  w.EndObject();
  Field(w, "fhirVersion", "4.0.1");
  Str(w, "format");
  w.StartArray();
  for (const std::string& f : options.formats) Str(w, f);
  w.EndArray();
  Str(w, "rest");
  w.StartArray();
  w.StartObject();
  Field(w, "mode", "server");
  Str(w, "resource");
  w.StartArray();
  for (const auto& [type, urls] : profiles) {
    w.StartObject();
    Field(w, "type", type);
    if (!urls.empty()) {
      Str(w, "supportedProfile");
      w.StartArray();
      for (const std::string& u : urls) Str(w, u);
      w.EndArray();
    }
    bool any = false;
    for (const CapabilityOperation& op : options.operations) {
      if (!op.type_level) continue;
      if (!any) {
        Str(w, "operation");
        w.StartArray();
        any = true;
      }
      Operation(w, op);
    }
    if (any) w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  if (options.transaction) {
    Str(w, "interaction");
    w.StartArray();
    w.StartObject();
    Field(w, "code", "transaction");
    w.EndObject();
    w.EndArray();
  }
  if (!options.operations.empty()) {
    Str(w, "operation");
    w.StartArray();
    for (const CapabilityOperation& op : options.operations) Operation(w, op);
    w.EndArray();
  }
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace genogate::conformance

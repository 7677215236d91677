#include "mappers/lab_profile.h"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <set>
#include <utility>

#include "base/file.h"
#include "mappers/vcf/bed.h"

namespace genogate::mappers {
namespace {

// Thrown inside this file only, caught by ParseLabProfile.
struct ProfileError {
  int line;
  std::string key;
  std::string message;
  ErrorCode code = ErrorCode::kInvalidInput;
};

[[noreturn]] void Fail(const YAML::Node& node, std::string key,
                       std::string message,
                       ErrorCode code = ErrorCode::kInvalidInput) {
  throw ProfileError{node.Mark().line + 1, std::move(key), std::move(message),
                     code};
}

std::string Scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) Fail(node, key, "expected a string");
  return node.Scalar();
}

bool Bool(const YAML::Node& node, const std::string& key) {
  const std::string s = Scalar(node, key);
  if (s == "true") return true;
  if (s == "false") return false;
  Fail(node, key, "expected true or false, not \"" + s + "\"");
}

std::string OneOf(const YAML::Node& node, const std::string& key,
                  const std::set<std::string>& allowed) {
  std::string s = Scalar(node, key);
  if (allowed.count(s)) return s;
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Fail(node, key, "\"" + s + "\" is not one of " + list);
}

void CheckKeys(const YAML::Node& map, const std::string& where,
               const std::set<std::string>& allowed) {
  if (!map.IsMap()) Fail(map, where, "expected a mapping");
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string k = Scalar(it->first, where);
    if (!allowed.count(k)) {
      Fail(it->first, where.empty() ? k : where + "." + k, "unknown key");
    }
  }
}

// patient / accession / specimen: {system, from}.
void ReadIdentifier(const YAML::Node& node, const std::string& key,
                    bool may_come_from_sample, IdentifierValue* id,
                    bool* from_sample) {
  CheckKeys(node, key,
            may_come_from_sample ? std::set<std::string>{"system", "from"}
                                 : std::set<std::string>{"system"});
  if (node["system"]) {
    id->system = Scalar(node["system"], key + ".system");
    if (id->system.empty()) Fail(node["system"], key + ".system", "is empty");
    if (id->system.find('|') != std::string::npos) {
      Fail(node["system"], key + ".system", "must not contain '|'");
    }
  }
  if (node["from"]) {
    *from_sample = OneOf(node["from"], key + ".from",
                         {"submission", "sample-name"}) == "sample-name";
  }
}

vcf::RegionSet ReadBed(const YAML::Node& node, const std::string& key,
                       const std::string& base_dir) {
  std::string path = Scalar(node, key);
  if (path.empty()) Fail(node, key, "is empty");
  if (path[0] != '/' && !base_dir.empty()) path = base_dir + "/" + path;
  vcf::VcfError where;
  Result<vcf::RegionSet> bed = vcf::RegionSet::ReadFile(path, &where);
  if (bed.ok()) return std::move(bed).value();
  const ErrorCode code = bed.error().code();
  if (code == ErrorCode::kNotFound || code == ErrorCode::kIo) {
    Fail(node, key, bed.error().message(), code);
  }
  Fail(node, key,
       path + ": " + (where.line ? "line " + std::to_string(where.line) : "") +
           (where.column ? ", column " + std::to_string(where.column) : "") +
           (where.line ? ": " : "") + where.reason);
}

}  // namespace

Result<LabProfile> ParseLabProfile(std::string_view text,
                                   const std::string& name,
                                   const std::string& base_dir) {
  LabProfile profile;
  profile.name = name;
  ConvertOptions& o = profile.options;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsDefined() || root.IsNull()) return profile;  // empty file
    CheckKeys(
        root, "",
        {"lab", "build", "source_class", "sample", "pass_only", "keep_going",
         "regions", "studied", "patient", "accession", "specimen"});
    if (root["lab"]) {
      o.lab = Scalar(root["lab"], "lab");
      if (o.lab.empty()) Fail(root["lab"], "lab", "is empty");
    }
    if (root["build"]) {
      o.build = OneOf(root["build"], "build", {"GRCh37", "GRCh38"});
    }
    if (root["source_class"]) {
      o.source_class = OneOf(root["source_class"], "source_class",
                             {"germline", "somatic", "mixed"});
    }
    if (root["sample"]) o.sample = Scalar(root["sample"], "sample");
    if (root["pass_only"]) o.pass_only = Bool(root["pass_only"], "pass_only");
    if (root["keep_going"]) {
      o.keep_going = Bool(root["keep_going"], "keep_going");
    }
    if (root["patient"]) {
      ReadIdentifier(root["patient"], "patient", true, &o.patient,
                     &o.patient_from_sample);
    }
    if (root["accession"]) {
      bool unused = false;
      ReadIdentifier(root["accession"], "accession", false, &o.accession,
                     &unused);
    }
    if (root["specimen"]) {
      ReadIdentifier(root["specimen"], "specimen", true, &o.specimen,
                     &o.specimen_from_sample);
    }
    if (root["regions"])
      o.regions = ReadBed(root["regions"], "regions", base_dir);
    if (root["studied"])
      o.studied = ReadBed(root["studied"], "studied", base_dir);
    return profile;
  } catch (const ProfileError& e) {
    return Error(e.code, name + ":" + std::to_string(e.line) + ": " +
                             (e.key.empty() ? "" : e.key + ": ") + e.message);
  } catch (const YAML::Exception& e) {
    return Error(ErrorCode::kInvalidInput,
                 name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInvalidInput, name + ": " + e.what());
  }
}

Result<LabProfile> LoadLabProfile(const std::string& path) {
  Result<std::string> text = ReadFile(path, size_t{1} << 20);
  if (!text.ok()) return text.error().WithContext(path);
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  return ParseLabProfile(*text, path, dir);
}

void ApplyLabProfile(const LabProfile& profile, ConvertOptions* options) {
  const ConvertOptions& p = profile.options;
  ConvertOptions& o = *options;
  if (o.build.empty()) o.build = p.build;
  if (o.sample.empty()) o.sample = p.sample;
  if (o.source_class.empty()) o.source_class = p.source_class;
  if (o.lab.empty()) o.lab = p.lab;
  if (!o.regions) o.regions = p.regions;
  if (!o.studied) o.studied = p.studied;
  o.pass_only = o.pass_only || p.pass_only;
  o.keep_going = o.keep_going || p.keep_going;
  auto identifier = [](const IdentifierValue& from, bool from_sample,
                       IdentifierValue* to, bool* to_from_sample) {
    if (to->system.empty()) to->system = from.system;
    if (to->value.empty()) {
      if (!from.value.empty()) to->value = from.value;
      if (to_from_sample) *to_from_sample = *to_from_sample || from_sample;
    }
  };
  identifier(p.patient, p.patient_from_sample, &o.patient,
             &o.patient_from_sample);
  identifier(p.accession, false, &o.accession, nullptr);
  identifier(p.specimen, p.specimen_from_sample, &o.specimen,
             &o.specimen_from_sample);
}

}  // namespace genogate::mappers

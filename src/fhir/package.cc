#include "fhir/package.h"

#include <libxml/xmlreader.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "base/file.h"
#include "default_packages.inc"
#include "fhir/codec.h"
#include "fhir/resource_files.h"
#include "fhir/schema.h"

namespace genogate::fhir {
namespace {

// Our own index beside the resources. Not the FHIR ".index.json": that
// format lacks fields we need (derivation) and a package may ship its own.
constexpr char kIndexFile[] = ".genogate-index.json";
constexpr int kIndexVersion = 1;
constexpr size_t kMaxDefinitionBytes = size_t{64} << 20;

std::string GetString(const JsonValue& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// A fingerprint of the directory's resource files (names, sizes, mtimes),
// so an index is rebuilt when files are added, removed or changed.
int64_t Fingerprint(const std::string& dir,
                    const std::vector<std::string>& files) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  };
  for (const std::string& f : files) {
    mix(f.data(), f.size());
    struct stat st;
    if (::stat((dir + "/" + f).c_str(), &st) == 0) {
      int64_t v[2] = {static_cast<int64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec)};
      mix(v, sizeof(v));
    }
  }
  return static_cast<int64_t>(h & 0x7fffffffffffffffull);
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads the interesting top-level fields of one FHIR XML resource: the
// root element's name and the `value` of its id, url, version, kind, type
// and derivation children. False if it is not FHIR XML or has a DOCTYPE.
bool ScanXml(const std::string& text, ResourceEntry* entry) {
  xmlTextReaderPtr r = xmlReaderForMemory(
      text.data(), static_cast<int>(text.size()), nullptr, nullptr,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (r == nullptr) return false;
  static constexpr char kFhirNs[] = "http://hl7.org/fhir";
  bool ok = false;
  int ret = xmlTextReaderRead(r);
  while (ret == 1) {
    int type = xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
      ok = false;
      break;
    }
    if (type != XML_READER_TYPE_ELEMENT) {
      ret = xmlTextReaderRead(r);
      continue;
    }
    int depth = xmlTextReaderDepth(r);
    const xmlChar* ns = xmlTextReaderConstNamespaceUri(r);
    const char* name =
        reinterpret_cast<const char*>(xmlTextReaderConstLocalName(r));
    if (ns == nullptr ||
        std::string_view(reinterpret_cast<const char*>(ns)) != kFhirNs ||
        name == nullptr) {
      break;
    }
    if (depth == 0) {
      entry->resource_type = name;
      ok = true;
      ret = xmlTextReaderRead(r);
      continue;
    }
    std::string_view n(name);
    std::string* field = n == "id"           ? &entry->id
                         : n == "url"        ? &entry->url
                         : n == "version"    ? &entry->version
                         : n == "kind"       ? &entry->kind
                         : n == "type"       ? &entry->type
                         : n == "derivation" ? &entry->derivation
                                             : nullptr;
    if (field != nullptr) {
      xmlChar* v = xmlTextReaderGetAttribute(r, BAD_CAST "value");
      if (v != nullptr) {
        *field = reinterpret_cast<const char*>(v);
        xmlFree(v);
      }
    }
    // The children of top-level elements are of no interest.
    ret = xmlTextReaderNext(r);
  }
  if (ret < 0) ok = false;
  xmlFreeTextReader(r);
  return ok && !entry->resource_type.empty();
}

// Reads the interesting top-level fields of one resource file.
bool ScanFile(const std::string& path, ResourceEntry* entry) {
  Result<std::string> text = ReadFile(path, kMaxDefinitionBytes);
  if (!text.ok()) return false;
  if (EndsWith(path, ".xml")) return ScanXml(*text, entry);
  Json doc;
  doc.Parse(text->data(), text->size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  entry->resource_type = GetString(doc, "resourceType");
  if (entry->resource_type.empty()) return false;
  entry->id = GetString(doc, "id");
  entry->url = GetString(doc, "url");
  entry->version = GetString(doc, "version");
  entry->kind = GetString(doc, "kind");
  entry->type = GetString(doc, "type");
  entry->derivation = GetString(doc, "derivation");
  return true;
}

}  // namespace

PackageSet::~PackageSet() = default;

Result<std::unique_ptr<PackageSet>> PackageSet::Open(
    const std::vector<std::string>& dirs) {
  std::unique_ptr<PackageSet> set(new PackageSet());
  for (const std::string& dir : dirs) {
    Status s = set->AddDirectory(dir);
    if (!s.ok()) return s.error();
  }
  return set;
}

std::vector<std::string> PackageSet::DefaultDirs(const std::string& cache_dir) {
  std::vector<std::string> candidates;
  if (!cache_dir.empty()) {
    candidates.push_back(cache_dir);
  } else {
    if (const char* env = std::getenv("GENOGATE_PACKAGE_CACHE"); env && *env) {
      candidates.push_back(env);
    }
    if (const char* home = std::getenv("HOME"); home && *home) {
      candidates.push_back(std::string(home) + "/.cache/genogate/packages");
    }
    candidates.push_back("/usr/share/genogate/packages");
  }
  // The pinned packages, from profiles/fhir-packages.lock at build time.
  static const char* const kPinned[] = {GENOGATE_DEFAULT_PACKAGES};
  for (const std::string& cache : candidates) {
    std::vector<std::string> out;
    for (const char* p : kPinned) {
      std::string dir = cache + "/" + p + "/package";
      if (IsDirectory(dir)) out.push_back(dir);
    }
    if (out.size() == std::size(kPinned)) return out;
  }
  // Not found: return the first candidate's paths so Open names them.
  std::vector<std::string> out;
  for (const char* p : kPinned) {
    out.push_back(candidates.front() + "/" + p + "/package");
  }
  return out;
}

Status PackageSet::AddDirectory(const std::string& input_dir) {
  std::string dir = input_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!IsDirectory(dir)) {
    return Error(ErrorCode::kNotFound,
                 "FHIR package directory " + dir +
                     " does not exist (run scripts/fetch-packages.sh, or pass "
                     "an existing --package directory)");
  }
  if (IsRegularFile(dir + "/package/package.json")) dir += "/package";

  PackageInfo info;
  info.dir = dir;
  if (Result<std::string> pj = ReadFile(dir + "/package.json", 1 << 20);
      pj.ok()) {
    Json doc;
    doc.Parse(pj->data(), pj->size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return Error(ErrorCode::kInvalidInput,
                   dir + "/package.json is not valid JSON");
    }
    info.name = GetString(doc, "name");
    info.version = GetString(doc, "version");
    info.canonical = GetString(doc, "canonical");
  } else {
    info.name = dir;  // a plain folder of conformance resources
  }
  size_t package_index = packages_.size();
  packages_.push_back(info);

  // Use the stored index when it matches the directory; else scan and store.
  const std::string index_path = dir + "/" + kIndexFile;
  const std::vector<std::string> files =
      ListResourceFiles(dir, {".json", ".xml"});
  const int64_t fingerprint = Fingerprint(dir, files);
  std::vector<ResourceEntry> found;
  bool have_index = false;
  if (Result<std::string> idx = ReadFile(index_path, 256 << 20); idx.ok()) {
    Json doc;
    doc.Parse(idx->data(), idx->size());
    if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("version") &&
        doc["version"].IsInt() && doc["version"].GetInt() == kIndexVersion &&
        doc.HasMember("fingerprint") && doc["fingerprint"].IsInt64() &&
        doc["fingerprint"].GetInt64() == fingerprint &&
        doc.HasMember("files") && doc["files"].IsArray()) {
      for (const JsonValue& f : doc["files"].GetArray()) {
        ResourceEntry e;
        e.file = dir + "/" + GetString(f, "filename");
        e.resource_type = GetString(f, "resourceType");
        e.id = GetString(f, "id");
        e.url = GetString(f, "url");
        e.version = GetString(f, "version");
        e.kind = GetString(f, "kind");
        e.type = GetString(f, "type");
        e.derivation = GetString(f, "derivation");
        found.push_back(std::move(e));
      }
      have_index = true;
    }
  }
  if (!have_index) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("version");
    w.Int(kIndexVersion);
    w.Key("fingerprint");
    w.Int64(fingerprint);
    w.Key("files");
    w.StartArray();
    for (const std::string& name : files) {
      ResourceEntry e;
      if (!ScanFile(dir + "/" + name, &e)) continue;
      e.file = dir + "/" + name;
      w.StartObject();
      auto field = [&w](const char* k, const std::string& v) {
        if (v.empty()) return;
        w.Key(k);
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      };
      field("filename", name);
      field("resourceType", e.resource_type);
      field("id", e.id);
      field("url", e.url);
      field("version", e.version);
      field("kind", e.kind);
      field("type", e.type);
      field("derivation", e.derivation);
      w.EndObject();
      found.push_back(std::move(e));
    }
    w.EndArray();
    w.EndObject();
    // Best effort: a read-only package folder is scanned at every start.
    (void)WriteFileAtomic(index_path,
                          std::string_view(buf.GetString(), buf.GetSize()));
  }
  for (ResourceEntry& e : found) {
    e.package = package_index;
    size_t idx = entries_.size();
    if (!e.url.empty()) by_url_[e.url].push_back(idx);
    entries_.push_back(std::move(e));
  }
  return Status::Ok();
}

const ResourceEntry* PackageSet::FindEntry(std::string_view canonical) const {
  std::string_view url = canonical;
  std::string_view version;
  if (size_t bar = canonical.find('|'); bar != std::string_view::npos) {
    url = canonical.substr(0, bar);
    version = canonical.substr(bar + 1);
  }
  auto it = by_url_.find(std::string(url));
  if (it == by_url_.end()) return nullptr;
  const ResourceEntry* best = nullptr;
  for (size_t idx : it->second) {
    const ResourceEntry& e = entries_[idx];
    if (!version.empty()) {
      if (e.version == version) best = &e;  // later packages win
      continue;
    }
    // Latest loaded wins among equal versions; otherwise the last one
    // loaded (a user's package overrides the defaults).
    best = &e;
  }
  return best;
}

const Json* PackageSet::Find(std::string_view canonical,
                             std::string* error) const {
  const ResourceEntry* e = FindEntry(canonical);
  if (!e) {
    if (error)
      *error = "no conformance resource with URL " + std::string(canonical);
    return nullptr;
  }
  return Load(*e, error);
}

const Json* PackageSet::Load(const ResourceEntry& entry,
                             std::string* error) const {
  size_t idx = static_cast<size_t>(&entry - entries_.data());
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = loaded_.find(idx);
    if (it != loaded_.end()) return it->second.get();
  }
  // Parse outside the lock; a concurrent duplicate parse is harmless.
  Result<std::string> text = ReadFile(entry.file, kMaxDefinitionBytes);
  if (!text.ok()) {
    if (error) *error = text.error().message();
    return nullptr;
  }
  if (EndsWith(entry.file, ".xml")) {
    // FHIR XML needs the type definitions to tell arrays and value types;
    // the resource becomes FHIR JSON like every other.
    std::call_once(xml_schema_once_,
                   [this] { xml_schema_ = std::make_unique<Schema>(this); });
    Result<Document> xml = ParseXml(*text, *xml_schema_);
    if (!xml.ok()) {
      if (error) *error = entry.file + ": " + xml.error().message();
      return nullptr;
    }
    for (const Issue& i : xml->issues.issues()) {
      if (i.severity != Severity::kError && i.severity != Severity::kFatal)
        continue;
      if (error) *error = entry.file + ": " + i.location + ": " + i.message;
      return nullptr;
    }
    Result<std::string> json = WriteJson(xml->root);
    if (!json.ok()) {
      if (error) *error = entry.file + ": " + json.error().message();
      return nullptr;
    }
    text = std::move(json);
  }
  auto doc = std::make_unique<Json>();
  doc->Parse<rapidjson::kParseFullPrecisionFlag>(text->data(), text->size());
  if (doc->HasParseError()) {
    if (error) {
      *error = entry.file + ": " +
               rapidjson::GetParseError_En(doc->GetParseError()) +
               " at offset " + std::to_string(doc->GetErrorOffset());
    }
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = loaded_.emplace(idx, std::move(doc));
  return it->second.get();
}

std::vector<const ResourceEntry*> PackageSet::EntriesOfType(
    std::string_view type) const {
  std::vector<const ResourceEntry*> out;
  for (const ResourceEntry& e : entries_) {
    if (e.resource_type == type) out.push_back(&e);
  }
  return out;
}

}  // namespace genogate::fhir

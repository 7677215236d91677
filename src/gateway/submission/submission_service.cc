#include "gateway/submission/submission_service.h"

#include <dirent.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "fhir/codec.h"
#include "fhir/schema.h"
#include "mappers/convert.h"

namespace genogate::gateway {
namespace {

using fhir::JsonKind;
using fhir::Node;

constexpr size_t kMaxReportKeyBytes = 1024;
constexpr size_t kMaxIdempotencyKeyBytes = 256;

std::string Hex(const unsigned char* d, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 15]);
  }
  return out;
}

// SHA-256 of the parts, each preceded by its length (unambiguous).
std::string Digest(const std::vector<std::string_view>& parts) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (std::string_view p : parts) {
    std::string len = std::to_string(p.size()) + ":";
    EVP_DigestUpdate(ctx, len.data(), len.size());
    EVP_DigestUpdate(ctx, p.data(), p.size());
  }
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, d, &n);
  EVP_MD_CTX_free(ctx);
  return Hex(d, n);
}

Issue MakeIssue(std::string type, std::string message, std::string code,
                std::string location = {}) {
  Issue i;
  i.type = std::move(type);
  i.message = std::move(message);
  i.code = std::move(code);
  i.location = std::move(location);
  return i;
}

bool IsBedName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A typed, empty transaction Bundle (as mappers::BuildReportBundle).
Result<Node> EmptyTransactionBundle(const fhir::Schema& schema) {
  const fhir::TypeInfo* bundle_type = schema.FindResourceType("Bundle");
  if (!bundle_type) {
    return Error(ErrorCode::kInternal, "FHIR definitions lack Bundle");
  }
  Node bundle("Bundle", bundle_type);
  bundle.set_resource(true);
  bundle.set_resource_type("Bundle");
  const fhir::TypeInfo* chosen = nullptr;
  const fhir::ElementInfo* ei = bundle_type->FindByJsonName("type", &chosen);
  if (!ei || ei->types.empty()) {
    return Error(ErrorCode::kInternal, "FHIR definitions lack Bundle.type");
  }
  Node type(ei->name, ei->types[0]);
  type.set_def(ei);
  type.set_value("transaction", JsonKind::kString);
  bundle.AddChild(std::move(type));
  return bundle;
}

// "fhir|system|value" of the first identifier of each DiagnosticReport in
// the Bundle, else of the Bundle itself.
std::vector<std::string> FhirReportKeys(const Node& bundle) {
  std::vector<std::string> keys;
  auto key_of = [](const Node& resource) -> std::string {
    const Node* id = resource.Child("identifier");
    if (!id || id->ChildValue("value").empty()) return "";
    return "fhir|" + std::string(id->ChildValue("system")) + "|" +
           std::string(id->ChildValue("value"));
  };
  for (const Node* entry : bundle.Children("entry")) {
    const Node* resource = entry->Child("resource");
    if (!resource || resource->resource_type() != "DiagnosticReport") continue;
    std::string k = key_of(*resource);
    if (!k.empty()) keys.push_back(std::move(k));
  }
  if (keys.empty()) {
    std::string k = key_of(bundle);
    if (!k.empty()) keys.push_back(std::move(k));
  }
  return keys;
}

// OK unless a DiagnosticReport's performer is an Organization (in the
// Bundle, by fullUrl or "Organization/<id>", or a logical reference by
// identifier) with identifiers none of whose values is `lab`: a lab
// submits only under its own identifier (SubmissionRequest::lab).
Status CheckPerformerLab(const Node& bundle, std::string_view lab) {
  auto names_lab = [lab](std::vector<const Node*> ids) {
    if (ids.empty()) return true;  // no identifier: nothing to compare
    for (const Node* id : ids) {
      if (id->ChildValue("value") == lab) return true;
    }
    return false;
  };
  std::vector<const Node*> entries = bundle.Children("entry");
  auto find_org = [&entries](std::string_view ref) -> const Node* {
    for (const Node* e : entries) {
      const Node* r = e->Child("resource");
      if (r == nullptr || r->resource_type() != "Organization") continue;
      if (e->ChildValue("fullUrl") == ref) return r;
      std::string_view id = r->ChildValue("id");
      if (!id.empty() && ref == "Organization/" + std::string(id)) return r;
    }
    return nullptr;
  };
  for (const Node* e : entries) {
    const Node* r = e->Child("resource");
    if (r == nullptr || r->resource_type() != "DiagnosticReport") continue;
    for (const Node* performer : r->Children("performer")) {
      bool named_other = false;
      if (const Node* id = performer->Child("identifier")) {
        named_other = !names_lab({id});
      }
      std::string_view ref = performer->ChildValue("reference");
      if (const Node* org = ref.empty() ? nullptr : find_org(ref)) {
        named_other = named_other || !names_lab(org->Children("identifier"));
      }
      if (named_other) {
        return Error(ErrorCode::kPermissionDenied,
                     "the Bundle names another organisation as the "
                     "performing lab: a lab submits only under its own lab "
                     "id");
      }
    }
  }
  return Status::Ok();
}

// One ordering key for the queue from the reports' keys.
std::string QueueReportKey(std::vector<std::string> keys,
                           std::string_view submission_id) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  if (keys.empty()) return "submission|" + std::string(submission_id);
  if (keys.size() == 1 && keys[0].size() <= kMaxReportKeyBytes) return keys[0];
  std::vector<std::string_view> parts(keys.begin(), keys.end());
  return (keys.size() == 1 ? "report|" : "reports|") + Digest(parts);
}

// Values that identify the patient in a Bundle (Patient resources' names,
// identifiers, birth date, telecom, address) for redaction from messages.
void CollectPhi(const Node& node, bool in_patient,
                std::vector<std::string>* out) {
  const bool patient =
      in_patient || (node.is_resource() && node.resource_type() == "Patient");
  if (patient && node.has_value() && node.value().size() >= 3) {
    std::string_view n = node.name();
    if (n == "family" || n == "given" || n == "text" || n == "value" ||
        n == "birthDate" || n == "line" || n == "city" || n == "postalCode") {
      out->push_back(node.value());
    }
  }
  for (const Node& c : node.children()) {
    // Bundle.entry.resource of another type is not the patient.
    CollectPhi(c, patient && !c.is_resource(), out);
  }
}

void Redact(const std::vector<std::string>& phi, IssueList* issues) {
  for (Issue& issue : issues->mutable_issues()) {
    for (const std::string& value : phi) {
      if (value.size() < 3) continue;
      for (std::string* text : {&issue.message, &issue.location}) {
        size_t pos = 0;
        while ((pos = text->find(value, pos)) != std::string::npos) {
          text->replace(pos, value.size(), "[redacted]");
          pos += 10;
        }
      }
    }
  }
}

std::string RequestDigest(const SubmissionRequest& r) {
  const SubmissionParams& p = r.params;
  std::string version = p.version ? std::to_string(*p.version) : "";
  return Digest({SubmissionFormatName(r.format), p.patient, p.accession,
                 p.build, p.source_class, p.lab, p.specimen, p.sample,
                 p.pass_only ? "1" : "0", p.regions, p.studied, version,
                 r.body});
}

bool ParseBool(std::string_view v, bool* out) {
  if (v.empty() || v == "true" || v == "1") {
    *out = true;
  } else if (v == "false" || v == "0") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

std::string Summary(const SubmissionRecord& record,
                    const std::vector<EndpointStatus>& endpoints) {
  if (!record.HasStage("queued")) return "accepted";
  bool any_dead = false, any_retry = false, all_final = true,
       any_delivered = false;
  for (const EndpointStatus& e : endpoints) {
    if (!e.job) {
      all_final = false;
      continue;
    }
    switch (e.job->state) {
      case JobState::kDeadLettered:
        any_dead = true;
        all_final = false;
        break;
      case JobState::kRetrying:
        any_retry = true;
        all_final = false;
        break;
      case JobState::kDelivered:
        any_delivered = true;
        break;
      case JobState::kSuperseded:
      case JobState::kDiscarded:
        break;
      case JobState::kQueued:
      case JobState::kDelivering:
        all_final = false;
        break;
    }
  }
  if (any_dead) return "dead-lettered";
  if (any_retry) return "retrying";
  if (all_final && !endpoints.empty()) {
    return any_delivered ? "delivered" : "superseded";
  }
  return "queued";
}

// The first identifier of the first Patient entry of `bundle`.
bool PatientOf(const Node& bundle, std::string* system, std::string* value) {
  for (const Node* entry : bundle.Children("entry")) {
    const Node* r = entry->Child("resource");
    if (r == nullptr || r->resource_type() != "Patient") continue;
    for (const Node* id : r->Children("identifier")) {
      std::string_view v = id->ChildValue("value");
      if (v.empty()) continue;
      *system = std::string(id->ChildValue("system"));
      *value = std::string(v);
      return true;
    }
  }
  return false;
}

// The lab a submission is made for: the authenticated caller's lab, else
// the `lab` parameter, else the lab of the first mapped report key
// ("urn:genogate:lab:<lab>|..."), else "".
std::string OwnerLab(const SubmissionRequest& request,
                     const std::vector<std::string>& report_keys) {
  if (!request.audit.lab.empty()) return request.audit.lab;
  if (!request.params.lab.empty()) return request.params.lab;
  constexpr std::string_view kLabSystem = "urn:genogate:lab:";
  for (const std::string& key : report_keys) {
    std::string_view k = key;
    if (k.substr(0, kLabSystem.size()) != kLabSystem) continue;
    k.remove_prefix(kLabSystem.size());
    return std::string(k.substr(0, k.find('|')));
  }
  return "";
}

AuditOutcome OutcomeFor(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kConflict:
      return AuditOutcome::kMinorFailure;
    default:
      return AuditOutcome::kSeriousFailure;
  }
}

}  // namespace

void RedactPatientData(const fhir::Node& resource,
                       const std::vector<std::string>& extra,
                       IssueList* issues) {
  std::vector<std::string> phi = extra;
  CollectPhi(resource, false, &phi);
  // Longest first, so that a value containing another is replaced whole.
  std::sort(phi.begin(), phi.end(),
            [](const std::string& a, const std::string& b) {
              return a.size() > b.size();
            });
  Redact(phi, issues);
}

std::string_view SubmissionFormatName(SubmissionFormat format) {
  switch (format) {
    case SubmissionFormat::kVcf:
      return "vcf";
    case SubmissionFormat::kHl7v2:
      return "hl7v2";
    case SubmissionFormat::kLabJson:
      return "labjson";
    case SubmissionFormat::kFhirJson:
      return "fhir-json";
    case SubmissionFormat::kFhirXml:
      return "fhir-xml";
  }
  return "vcf";
}

std::optional<SubmissionFormat> ParseSubmissionFormat(std::string_view name) {
  for (SubmissionFormat f :
       {SubmissionFormat::kVcf, SubmissionFormat::kHl7v2,
        SubmissionFormat::kLabJson, SubmissionFormat::kFhirJson,
        SubmissionFormat::kFhirXml}) {
    if (SubmissionFormatName(f) == name) return f;
  }
  return std::nullopt;
}

bool SubmissionParams::AnyMappingParameter() const {
  return !patient.empty() || !accession.empty() || !build.empty() ||
         !source_class.empty() || !lab.empty() || !specimen.empty() ||
         !sample.empty() || pass_only || !regions.empty() || !studied.empty();
}

Result<SubmissionParams> ParseSubmissionParams(
    const std::vector<std::pair<std::string, std::string>>& query) {
  SubmissionParams p;
  std::set<std::string, std::less<>> seen;
  for (const auto& param : query) {
    // Named references, not a structured binding: clang 14 cannot capture
    // those in the lambda below.
    const std::string& name = param.first;
    const std::string& value = param.second;
    if (!name.empty() && name[0] == '_') continue;
    auto bad = [&](std::string_view why) {
      return Error(ErrorCode::kInvalidInput,
                   "parameter '" + name + "': " + std::string(why));
    };
    if (!seen.insert(name).second) return bad("given more than once");
    std::string* text = nullptr;
    if (name == "patient") {
      text = &p.patient;
    } else if (name == "accession") {
      text = &p.accession;
    } else if (name == "lab") {
      text = &p.lab;
    } else if (name == "specimen") {
      text = &p.specimen;
    } else if (name == "sample") {
      text = &p.sample;
    } else if (name == "regions" || name == "studied") {
      if (!IsBedName(value)) {
        return bad("names a BED file of the gateway ([A-Za-z0-9._-])");
      }
      text = name == "regions" ? &p.regions : &p.studied;
    } else if (name == "build") {
      if (value != "GRCh37" && value != "GRCh38") {
        return bad("must be GRCh37 or GRCh38");
      }
      text = &p.build;
    } else if (name == "source-class") {
      if (value != "germline" && value != "somatic" && value != "mixed") {
        return bad("must be germline, somatic or mixed");
      }
      text = &p.source_class;
    } else if (name == "pass-only") {
      if (!ParseBool(value, &p.pass_only)) return bad("must be true or false");
      continue;
    } else if (name == "version") {
      int64_t v = -1;
      auto [ptr, ec] =
          std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || ptr != value.data() + value.size() || v < 0) {
        return bad("must be a non-negative integer");
      }
      p.version = v;
      continue;
    } else {
      return Error(ErrorCode::kInvalidInput,
                   "unknown parameter '" + name +
                       "' (known: patient, accession, build, source-class, "
                       "lab, specimen, sample, pass-only, regions, studied, "
                       "version)");
    }
    if (value.empty()) return bad("is empty");
    if (value.size() > 1024) return bad("is longer than 1024 bytes");
    *text = value;
  }
  return p;
}

struct DefaultSubmissionService::Mapped {
  Node bundle;
  IssueList issues;
  std::vector<std::string> report_keys;
  std::vector<mappers::hl7v2::Problem> hl7v2_problems;
  bool hl7v2_rejected = false;
  uint64_t entries = 0;
  uint64_t variants = 0;
  Timestamp mapped{};
  Timestamp validated{};
  bool rejected() const { return issues.HasErrors(); }
};

DefaultSubmissionService::DefaultSubmissionService(
    SubmissionServiceOptions options, const conformance::Validator* validator,
    DeliveryQueue* queue, SubmissionStore* store, const Clock* clock,
    IdGenerator* ids)
    : options_(std::move(options)),
      validator_(validator),
      queue_(queue),
      store_(store),
      clock_(clock ? clock : SystemClock::Get()),
      ids_(ids) {
  if (!ids_) {
    own_ids_ = std::make_unique<RandomIdGenerator>();
    ids_ = own_ids_.get();
  }
}

DefaultSubmissionService::~DefaultSubmissionService() = default;

Result<std::unique_ptr<DefaultSubmissionService>>
DefaultSubmissionService::Create(SubmissionServiceOptions options,
                                 const conformance::Validator* validator,
                                 DeliveryQueue* queue, SubmissionStore* store,
                                 const Clock* clock, IdGenerator* ids) {
  if (!validator || !queue || !store) {
    return Error(ErrorCode::kInvalidInput,
                 "the submission service needs a validator, a queue and a "
                 "store");
  }
  if (options.endpoints.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "the submission service needs at least one endpoint");
  }
  for (const std::string& e : options.endpoints) {
    if (Status s = ValidateEndpointName(e); !s.ok()) return s.error();
  }
  std::unique_ptr<DefaultSubmissionService> service(
      new DefaultSubmissionService(std::move(options), validator, queue, store,
                                   clock, ids));
  const std::string& dir = service->options_.regions_dir;
  if (!dir.empty()) {
    DIR* d = opendir(dir.c_str());
    if (!d) {
      return Error(ErrorCode::kNotFound,
                   "cannot open the regions directory " + dir);
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.ends_with(".bed") && IsBedName(n)) {
        names.push_back(n);
      }
    }
    closedir(d);
    for (const std::string& n : names) {
      mappers::vcf::VcfError where;
      std::string path = dir + "/" + n;
      Result<mappers::vcf::RegionSet> bed =
          mappers::vcf::RegionSet::ReadFile(path, &where);
      if (!bed.ok()) {
        if (bed.error().code() == ErrorCode::kInvalidInput) {
          return Error(ErrorCode::kInvalidInput,
                       path + ": " + mappers::DescribeVcfError(where));
        }
        return bed.error();
      }
      service->regions_.emplace(n.substr(0, n.size() - 4),
                                std::move(bed).value());
    }
  }
  return service;
}

Result<DefaultSubmissionService::Mapped> DefaultSubmissionService::Map(
    const SubmissionRequest& request) const {
  const fhir::Schema& schema = validator_->schema();
  const SubmissionParams& p = request.params;
  Mapped m;
  const bool fhir_input = request.format == SubmissionFormat::kFhirJson ||
                          request.format == SubmissionFormat::kFhirXml;
  if (fhir_input) {
    if (p.AnyMappingParameter()) {
      return Error(ErrorCode::kInvalidInput,
                   "mapping parameters (patient, accession, ...) do not apply "
                   "to a FHIR Bundle");
    }
    if (request.body.size() > options_.max_message_bytes) {
      m.issues.Add(MakeIssue("too-long",
                             "the Bundle is larger than the limit of " +
                                 std::to_string(options_.max_message_bytes) +
                                 " bytes",
                             "input-too-large"));
      return m;
    }
    fhir::ParseOptions po;
    po.max_bytes = options_.max_message_bytes;
    Result<fhir::Document> doc =
        request.format == SubmissionFormat::kFhirJson
            ? fhir::ParseJson(request.body, &schema, po)
            : fhir::ParseXml(request.body, schema, po);
    if (!doc.ok()) {
      m.issues.Add(MakeIssue(
          doc.error().code() == ErrorCode::kLimitExceeded ? "too-long"
                                                          : "structure",
          doc.error().message(),
          request.format == SubmissionFormat::kFhirJson ? "json-syntax"
                                                        : "xml-syntax"));
      return m;
    }
    m.issues = std::move(doc->issues);
    m.bundle = std::move(doc->root);
    if (m.bundle.resource_type() != "Bundle" ||
        m.bundle.ChildValue("type") != "transaction") {
      m.issues.Add(MakeIssue("invalid",
                             "a submission must be a Bundle of type "
                             "transaction",
                             "submission-not-transaction",
                             m.bundle.resource_type() == "Bundle"
                                 ? "Bundle.type"
                                 : m.bundle.resource_type()));
      return m;
    }
    m.entries = m.bundle.Children("entry").size();
    m.report_keys = FhirReportKeys(m.bundle);
  } else {
    mappers::ConvertOptions o;
    o.format = request.format == SubmissionFormat::kVcf
                   ? mappers::InputFormat::kVcf
               : request.format == SubmissionFormat::kHl7v2
                   ? mappers::InputFormat::kHl7v2
                   : mappers::InputFormat::kLabJson;
    o.build = p.build;
    o.sample = p.sample;
    o.pass_only = p.pass_only;
    o.source_class = p.source_class;
    if (!p.patient.empty()) o.patient = mappers::ParseIdentifierText(p.patient);
    if (!p.accession.empty()) {
      o.accession = mappers::ParseIdentifierText(p.accession);
    }
    o.lab = p.lab;
    if (!p.specimen.empty()) {
      o.specimen = mappers::ParseIdentifierText(p.specimen);
    }
    o.max_message_bytes = options_.max_message_bytes;
    for (const auto& [name, target] : {std::pair{&p.regions, &o.regions},
                                       std::pair{&p.studied, &o.studied}}) {
      if (name->empty()) continue;
      auto it = regions_.find(*name);
      if (it == regions_.end()) {
        return Error(ErrorCode::kInvalidInput,
                     "no BED file named '" + *name + "' on the gateway");
      }
      *target = it->second;
    }
    if (o.format != mappers::InputFormat::kVcf &&
        (o.regions || o.studied || !o.sample.empty() || o.pass_only)) {
      return Error(ErrorCode::kInvalidInput,
                   "sample, pass-only, regions and studied apply to VCF only");
    }
    Result<Node> bundle = EmptyTransactionBundle(schema);
    if (!bundle.ok()) return bundle.error();
    m.bundle = std::move(bundle).value();
    Result<mappers::ConvertReport> r = mappers::ConvertBytes(
        request.body, o, schema, [&m](Node entry) -> Status {
          m.bundle.AddChild(std::move(entry));
          return Status::Ok();
        });
    if (!r.ok()) return r.error();
    m.issues = std::move(r->issues);
    m.hl7v2_problems = std::move(r->hl7v2_problems);
    m.hl7v2_rejected = r->hl7v2_rejected;
    m.report_keys = std::move(r->report_keys);
    m.entries = r->entries;
    m.variants = r->variants;
    if (!r->ok()) return m;
  }
  m.mapped = clock_->Now();
  conformance::ValidationOptions vo;
  vo.profiles = options_.profiles;
  m.issues.Append(validator_->Validate(m.bundle, vo));
  m.validated = clock_->Now();
  return m;
}

// Messages go back to the caller and may end up in logs: never with the
// patient's name or identifiers in them.
void DefaultSubmissionService::Scrub(const SubmissionRequest& request,
                                     const fhir::Node& bundle,
                                     IssueList* issues) {
  std::vector<std::string> extra;
  const SubmissionParams& p = request.params;
  for (const std::string* id : {&p.patient, &p.accession, &p.specimen}) {
    extra.push_back(mappers::ParseIdentifierText(*id).value);
  }
  RedactPatientData(bundle, extra, issues);
}

Result<ConvertResult> DefaultSubmissionService::Convert(
    const SubmissionRequest& request) {
  Result<Mapped> m = Map(request);
  if (!m.ok()) return m.error();
  Scrub(request, m->bundle, &m->issues);
  ConvertResult out;
  out.issues = std::move(m->issues);
  out.report_keys = std::move(m->report_keys);
  if (!out.issues.HasErrors()) out.bundle = std::move(m->bundle);
  return out;
}

Status DefaultSubmissionService::Enqueue(const SubmissionRecord& record,
                                         const std::string& report_key,
                                         const std::string& payload,
                                         const std::string& lab) const {
  for (const std::string& endpoint : record.endpoints) {
    Job job;
    job.id = record.id;
    job.report_key = report_key;
    job.report_version = record.report_version;
    job.payload = payload;
    job.metadata["format"] = record.format;
    job.metadata["content-type"] = "application/fhir+json";
    // The Provenance author at delivery (provenance.h); not PHI.
    if (!lab.empty()) job.metadata["lab"] = lab;
    Result<EnqueueResult> r = queue_->Enqueue(endpoint, std::move(job));
    if (!r.ok()) return r.error();
  }
  return Status::Ok();
}

Result<SubmitResult> DefaultSubmissionService::Submit(
    SubmissionRequest request) {
  AuditRecord audit = request.audit;
  audit.caller = request.caller;
  if (audit.lab.empty()) audit.lab = request.params.lab;
  if (!request.params.patient.empty()) {
    mappers::IdentifierValue p =
        mappers::ParseIdentifierText(request.params.patient);
    audit.patient_system = p.system;
    audit.patient_value = p.value;
  }
  audit.details.emplace_back("format",
                             std::string(SubmissionFormatName(request.format)));
  Result<SubmitResult> r = SubmitUnaudited(std::move(request), &audit);
  if (options_.audit == nullptr) return r;
  audit.when = clock_->Now();
  if (!r.ok()) {
    audit.action = AuditAction::kSubmission;
    audit.outcome = OutcomeFor(r.error());
    audit.outcome_text =
        "not accepted: " + std::string(ErrorCodeName(r.error().code()));
  } else if (r->accepted) {
    audit.action = AuditAction::kSubmission;
    audit.outcome = AuditOutcome::kSuccess;
    audit.outcome_text =
        r->duplicate ? "accepted earlier (duplicate)" : "accepted and queued";
    audit.submission_id = r->id;
    for (const std::string& e : r->endpoints) {
      audit.details.emplace_back("endpoint", e);
    }
  } else {
    audit.action = AuditAction::kValidationFailure;
    audit.outcome = AuditOutcome::kMinorFailure;
    size_t errors = 0;
    for (const Issue& i : r->issues.issues()) {
      if (i.severity == Severity::kError || i.severity == Severity::kFatal) {
        ++errors;
      }
    }
    audit.outcome_text = "rejected: " + std::to_string(errors) + " error(s)";
  }
  if (Status s = options_.audit->Record(audit); !s.ok() && r.ok()) {
    return Error(ErrorCode::kUnavailable,
                 "the audit event could not be stored; send again (with the "
                 "same Idempotency-Key)");
  }
  return r;
}

Result<SubmitResult> DefaultSubmissionService::SubmitUnaudited(
    SubmissionRequest request, AuditRecord* audit) {
  const Timestamp accepted = clock_->Now();
  if (request.idempotency_key.size() > kMaxIdempotencyKeyBytes) {
    return Error(ErrorCode::kInvalidInput,
                 "the Idempotency-Key is longer than 256 bytes");
  }
  Result<Mapped> m = Map(request);
  if (!m.ok()) return m.error();
  PatientOf(m->bundle, &audit->patient_system, &audit->patient_value);
  const std::string lab = OwnerLab(request, m->report_keys);
  audit->lab = lab;
  Scrub(request, m->bundle, &m->issues);
  SubmitResult out;
  out.hl7v2_problems = std::move(m->hl7v2_problems);
  out.hl7v2_rejected = m->hl7v2_rejected;
  if (m->rejected()) {
    out.issues = std::move(m->issues);
    return out;
  }
  if (!request.lab.empty() && (request.format == SubmissionFormat::kFhirJson ||
                               request.format == SubmissionFormat::kFhirXml)) {
    if (Status s = CheckPerformerLab(m->bundle, request.lab); !s.ok()) {
      return s.error();
    }
  }
  Result<std::string> payload = fhir::WriteJson(m->bundle);
  if (!payload.ok()) {
    return Error(ErrorCode::kInternal,
                 "cannot write the Bundle: " + payload.error().message());
  }

  RoutingInput routing{request.format, request.caller, m->report_keys};
  std::vector<std::string> endpoints =
      options_.route ? options_.route(routing) : options_.endpoints;
  if (endpoints.empty()) {
    return Error(ErrorCode::kInvalidInput, "no endpoint is routed");
  }
  for (const std::string& e : endpoints) {
    if (std::find(options_.endpoints.begin(), options_.endpoints.end(), e) ==
        options_.endpoints.end()) {
      return Error(ErrorCode::kInternal, "routing named an unknown endpoint");
    }
  }

  SubmissionRecord record;
  record.id = ids_->NewId();
  record.format = std::string(SubmissionFormatName(request.format));
  record.caller = request.caller;
  record.lab = request.lab;
  record.report_version =
      request.params.version ? *request.params.version : ToUnixMillis(accepted);
  record.endpoints = std::move(endpoints);
  record.entries = m->entries;
  record.variants = m->variants;
  record.request_digest = RequestDigest(request);
  record.stages = {{"accepted", accepted},
                   {"mapped", m->mapped},
                   {"validated", m->validated}};
  std::string idempotency_digest;
  if (!request.idempotency_key.empty()) {
    idempotency_digest = Digest({request.caller, request.idempotency_key});
  }
  Result<CreateRecordResult> created =
      store_->Create(record, idempotency_digest, options_.status_ttl,
                     options_.idempotency_ttl);
  if (!created.ok()) return created.error();
  if (!created->created) {
    if (created->record.request_digest != record.request_digest) {
      return Error(ErrorCode::kConflict,
                   "the Idempotency-Key was used for a different request");
    }
    out.duplicate = true;
    record = std::move(created->record);
  }
  // A lab's reports are ordered only against its own (another lab sending
  // the same accession never supersedes them).
  if (!request.lab.empty()) {
    for (std::string& k : m->report_keys) k = "lab:" + request.lab + "|" + k;
  }
  const std::string report_key = QueueReportKey(m->report_keys, record.id);
  if (!record.HasStage("queued")) {
    if (Status s = Enqueue(record, report_key, *payload, lab); !s.ok()) {
      return s.error();
    }
    if (Status s = store_->AddStage(record.id, "queued", clock_->Now());
        !s.ok()) {
      return s.error();
    }
  }
  out.accepted = true;
  out.id = record.id;
  out.endpoints = record.endpoints;
  out.issues = std::move(m->issues);
  return out;
}

Result<SubmissionStatus> DefaultSubmissionService::GetStatus(
    std::string_view id) {
  if (!ValidateSubmissionId(id).ok()) {
    return Error(ErrorCode::kNotFound, "no such submission");
  }
  Result<SubmissionRecord> record = store_->Get(id);
  if (!record.ok()) return record.error();
  Result<std::vector<JobStatus>> jobs = queue_->GetStatuses(id);
  if (!jobs.ok()) return jobs.error();
  SubmissionStatus out;
  out.record = std::move(record).value();
  for (const std::string& e : out.record.endpoints) {
    EndpointStatus es;
    es.endpoint = e;
    es.job_id = out.record.id;
    for (JobStatus& j : *jobs) {
      if (j.endpoint == e) es.job = j;
    }
    out.endpoints.push_back(std::move(es));
  }
  out.state = Summary(out.record, out.endpoints);
  return out;
}

}  // namespace genogate::gateway

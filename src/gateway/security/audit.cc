#include "gateway/security/audit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace genogate::gateway {
namespace {

constexpr char kDcm[] = "http://dicom.nema.org/resources/ontology/DCM";
constexpr char kPseudonymSystem[] = "urn:genogate:pseudonym:hmac-sha256";

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void Key(Writer& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void Coding(Writer& w, std::string_view system, std::string_view code,
            std::string_view display) {
  w.StartObject();
  Key(w, "system");
  Str(w, system);
  Key(w, "code");
  Str(w, code);
  if (!display.empty()) {
    Key(w, "display");
    Str(w, display);
  }
  w.EndObject();
}

void IdentifierRef(Writer& w, std::string_view system, std::string_view value,
                   std::string_view display) {
  w.StartObject();
  Key(w, "identifier");
  w.StartObject();
  Key(w, "system");
  Str(w, system);
  Key(w, "value");
  Str(w, value);
  w.EndObject();
  if (!display.empty()) {
    Key(w, "display");
    Str(w, display);
  }
  w.EndObject();
}

// The IP address of "ip:port", "[v6]:port" or a bare address.
std::string AddressOnly(std::string_view a) {
  if (!a.empty() && a.front() == '[') {
    size_t close = a.find(']');
    return std::string(a.substr(1, close == std::string_view::npos
                                       ? std::string_view::npos
                                       : close - 1));
  }
  size_t colon = a.find(':');
  if (colon != std::string_view::npos &&
      a.find(':', colon + 1) == std::string_view::npos) {
    return std::string(a.substr(0, colon));
  }
  return std::string(a);  // bare IPv4 or IPv6
}

void Entity(Writer& w, std::string_view what_system, std::string_view what,
            std::string_view entity_type, std::string_view role,
            std::string_view role_display, std::string_view description,
            const std::vector<std::pair<std::string, std::string>>* details) {
  w.StartObject();
  if (!what.empty()) {
    Key(w, "what");
    IdentifierRef(w, what_system, what, "");
  }
  Key(w, "type");
  Coding(w, "http://terminology.hl7.org/CodeSystem/audit-entity-type",
         entity_type,
         entity_type == "1"   ? "Person"
         : entity_type == "2" ? "System Object"
                              : "Other");
  Key(w, "role");
  Coding(w, "http://terminology.hl7.org/CodeSystem/object-role", role,
         role_display);
  if (!description.empty()) {
    Key(w, "description");
    Str(w, description);
  }
  if (details != nullptr && !details->empty()) {
    Key(w, "detail");
    w.StartArray();
    for (const auto& [k, v] : *details) {
      w.StartObject();
      Key(w, "type");
      Str(w, k);
      Key(w, "valueString");
      Str(w, v);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

std::string_view AuditActionName(AuditAction a) {
  switch (a) {
    case AuditAction::kSubmission:
      return "submission";
    case AuditAction::kValidationFailure:
      return "validation-failure";
    case AuditAction::kDelivery:
      return "delivery";
    case AuditAction::kPull:
      return "pull";
    case AuditAction::kReplay:
      return "replay";
    case AuditAction::kAdmin:
      return "admin";
  }
  return "admin";
}

Result<Pseudonymizer> Pseudonymizer::Create(std::string key) {
  if (key.size() < 32) {
    OPENSSL_cleanse(key.data(), key.size());
    return Error(ErrorCode::kInvalidInput,
                 "the audit pseudonym key needs at least 32 bytes");
  }
  return Pseudonymizer(std::move(key));
}

Pseudonymizer::~Pseudonymizer() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}
Pseudonymizer::Pseudonymizer(Pseudonymizer&& o) noexcept
    : key_(std::move(o.key_)) {
  o.key_.clear();
}
Pseudonymizer& Pseudonymizer::operator=(Pseudonymizer&& o) noexcept {
  if (this != &o) {
    if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
    key_ = std::move(o.key_);
    o.key_.clear();
  }
  return *this;
}

std::string Pseudonymizer::Pseudonym(std::string_view system,
                                     std::string_view value) const {
  // Length-prefixed, so that no two (system, value) pairs give the same
  // message ("s|" + "v" vs "s" + "|v").
  std::string msg = std::to_string(system.size());
  msg.append(":").append(system).append(value);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac,
       &len);
  OPENSSL_cleanse(msg.data(), msg.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

std::string FormatInstant(Timestamp t) {
  int64_t ms = ToUnixMillis(t);
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string BuildAuditEventJson(const AuditRecord& r,
                                const Pseudonymizer& pseudonymizer,
                                std::string_view event_id) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Key(w, "resourceType");
  Str(w, "AuditEvent");
  if (!event_id.empty()) {
    Key(w, "id");
    Str(w, event_id);
  }
  Key(w, "type");
  std::string_view action_code = "E";
  switch (r.action) {
    case AuditAction::kSubmission:
    case AuditAction::kValidationFailure:
      Coding(w, kDcm, "110107", "Import");
      action_code = "C";
      break;
    case AuditAction::kDelivery:
      Coding(w, kDcm, "110106", "Export");
      action_code = "R";
      break;
    case AuditAction::kPull:
      Coding(w, kDcm, "110112", "Query");
      break;
    case AuditAction::kReplay:
    case AuditAction::kAdmin:
      Coding(w, "http://terminology.hl7.org/CodeSystem/audit-event-type",
             "rest", "RESTful Operation");
      break;
  }
  Key(w, "subtype");
  w.StartArray();
  Coding(w, "urn:genogate:audit-action", AuditActionName(r.action), "");
  w.EndArray();
  Key(w, "action");
  Str(w, action_code);
  Key(w, "recorded");
  Str(w, FormatInstant(r.when));
  Key(w, "outcome");
  Str(w, std::to_string(static_cast<int>(r.outcome)));
  if (!r.outcome_text.empty()) {
    Key(w, "outcomeDesc");
    Str(w, r.outcome_text);
  }

  Key(w, "agent");
  w.StartArray();
  w.StartObject();
  Key(w, "who");
  if (r.caller.empty()) {
    IdentifierRef(w, "urn:genogate", "genogate", "genogate");
  } else {
    IdentifierRef(w, "urn:genogate:caller", r.caller, "");
  }
  if (!r.roles.empty()) {
    Key(w, "role");
    w.StartArray();
    for (const std::string& role : r.roles) {
      w.StartObject();
      Key(w, "coding");
      w.StartArray();
      Coding(w, "urn:genogate:role", role, "");
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  if (!r.request_id.empty()) {
    Key(w, "altId");
    Str(w, r.request_id);
  }
  Key(w, "requestor");
  w.Bool(true);
  std::string address = AddressOnly(r.source_address);
  if (!address.empty()) {
    Key(w, "network");
    w.StartObject();
    Key(w, "address");
    Str(w, address);
    Key(w, "type");
    Str(w, "2");
    w.EndObject();
  }
  w.EndObject();
  w.EndArray();

  Key(w, "source");
  w.StartObject();
  Key(w, "site");
  Str(w, "genogate");
  Key(w, "observer");
  IdentifierRef(w, "urn:genogate", "genogate", "genogate");
  Key(w, "type");
  w.StartArray();
  Coding(w, "http://terminology.hl7.org/CodeSystem/security-source-type", "4",
         "Application Server");
  w.EndArray();
  w.EndObject();

  std::vector<std::pair<std::string, std::string>> details;
  if (!r.lab.empty()) details.emplace_back("lab", r.lab);
  for (const auto& d : r.details) details.push_back(d);
  bool any_entity = !r.submission_id.empty() || !r.patient_value.empty() ||
                    !r.endpoint.empty() || !r.operation.empty() ||
                    !details.empty();
  if (any_entity) {
    Key(w, "entity");
    w.StartArray();
    if (!r.submission_id.empty() || !r.operation.empty() || !details.empty()) {
      Entity(w, "urn:genogate:submission", r.submission_id, "2", "20", "Job",
             r.operation, &details);
    }
    if (!r.patient_value.empty()) {
      Entity(w, kPseudonymSystem,
             pseudonymizer.Pseudonym(r.patient_system, r.patient_value), "1",
             "1", "Patient", "", nullptr);
    }
    if (!r.endpoint.empty()) {
      bool pull = r.action == AuditAction::kPull;
      Entity(w, "urn:genogate:endpoint", r.endpoint, "2", pull ? "17" : "16",
             pull ? "Data Repository" : "Data Destination", "", nullptr);
    }
    w.EndArray();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

bool FindPatientIdentifier(std::string_view fhir_json, std::string* system,
                           std::string* value) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(fhir_json.data(), fhir_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  const rapidjson::Value& root = doc;  // const iterators (clang, C++20)
  auto from_patient = [&](const rapidjson::Value& r) {
    if (!r.IsObject()) return false;
    auto type = r.FindMember("resourceType");
    if (type == r.MemberEnd() || !type->value.IsString() ||
        std::string_view(type->value.GetString()) != "Patient") {
      return false;
    }
    auto ids = r.FindMember("identifier");
    if (ids == r.MemberEnd() || !ids->value.IsArray()) return false;
    for (const rapidjson::Value& id : ids->value.GetArray()) {
      if (!id.IsObject()) continue;
      auto v = id.FindMember("value");
      if (v == id.MemberEnd() || !v->value.IsString() ||
          v->value.GetStringLength() == 0) {
        continue;
      }
      auto sys = id.FindMember("system");
      *system = sys != id.MemberEnd() && sys->value.IsString()
                    ? sys->value.GetString()
                    : "";
      *value = std::string(v->value.GetString(), v->value.GetStringLength());
      return true;
    }
    return false;
  };
  if (from_patient(root)) return true;
  auto entries = root.FindMember("entry");
  if (entries == root.MemberEnd() || !entries->value.IsArray()) return false;
  for (const rapidjson::Value& e : entries->value.GetArray()) {
    if (!e.IsObject()) continue;
    auto r = e.FindMember("resource");
    if (r != e.MemberEnd() && from_patient(r->value)) return true;
  }
  return false;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
        HexValue(s[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

bool IsIdentifierParam(std::string_view name) {
  constexpr std::string_view kId = "identifier";
  if (name == kId) return true;
  if (name.size() <= kId.size()) return false;
  char before = name[name.size() - kId.size() - 1];
  return name.substr(name.size() - kId.size()) == kId &&
         (before == '.' || before == ':');
}

}  // namespace

void DescribeSearch(std::string_view query, AuditRecord* record) {
  size_t q = query.find('?');
  std::string op = "GET " + std::string(query.substr(0, q));
  bool first = true;
  bool have_patient = false;
  std::string_view rest =
      q == std::string_view::npos ? std::string_view() : query.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view()
                                         : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name = PercentDecoded(pair.substr(0, eq));
    op += first ? "?" : "&";
    op += name;
    first = false;
    if (!have_patient && eq != std::string_view::npos &&
        IsIdentifierParam(name)) {
      std::string value = PercentDecoded(pair.substr(eq + 1));
      size_t bar = value.find('|');
      if (bar == std::string::npos) {
        record->patient_system.clear();
        record->patient_value = value;
      } else {
        record->patient_system = value.substr(0, bar);
        record->patient_value = value.substr(bar + 1);
      }
      have_patient = !record->patient_value.empty();
    }
  }
  record->operation = std::move(op);
}

Status MemoryAuditSink::Record(const AuditRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  records_.push_back(record);
  return Status::Ok();
}

std::vector<AuditRecord> MemoryAuditSink::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(AuditLogOptions options,
                                                 Pseudonymizer pseudonymizer) {
  Result<std::unique_ptr<RedisClient>> client =
      RedisClient::Connect(options.redis);
  if (!client.ok()) return client.error().WithContext("audit log");
  return std::unique_ptr<AuditLog>(new AuditLog(
      std::move(options), std::move(pseudonymizer), std::move(client).value()));
}

AuditLog::AuditLog(AuditLogOptions options, Pseudonymizer pseudonymizer,
                   std::unique_ptr<RedisClient> client)
    : options_(std::move(options)),
      pseudonymizer_(std::move(pseudonymizer)),
      client_(std::move(client)) {}

AuditLog::~AuditLog() = default;

Status AuditLog::Record(const AuditRecord& record) {
  RandomIdGenerator ids;
  std::string json = BuildAuditEventJson(record, pseudonymizer_, ids.NewId());
  Status s = Append(json, record.when);
  if (!s.ok()) {
    failures_.fetch_add(1);
    if (failure_hook_) failure_hook_(record, s.error());
  }
  return s;
}

Status AuditLog::Append(const std::string& json, Timestamp when) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t ms = std::max<int64_t>(ToUnixMillis(when), 1);
  Result<RedisReply> r = client_->Command(
      {"XADD", options_.stream_key, std::to_string(ms) + "-*", "e", json});
  if (!r.ok() && r.error().code() == ErrorCode::kInternal) {
    // "ID specified in XADD is equal or smaller than the target stream top
    // item": a later entry exists (another replica's clock is ahead).
    r = client_->Command({"XADD", options_.stream_key, "*", "e", json});
  }
  if (!r.ok()) return r.error().WithContext("audit log");
  return Status::Ok();
}

Result<size_t> AuditLog::ReadRange(
    Timestamp from, Timestamp to, size_t limit,
    const std::function<bool(std::string_view json)>& sink) {
  limit = std::min(limit, options_.max_read);
  std::string start = std::to_string(std::max<int64_t>(ToUnixMillis(from), 0));
  const std::string end =
      std::to_string(std::max<int64_t>(ToUnixMillis(to), 0)) + "-" +
      "18446744073709551615";
  size_t n = 0;
  constexpr size_t kPage = 500;
  while (n < limit) {
    size_t want = std::min(kPage, limit - n);
    Result<RedisReply> r = [&] {
      std::lock_guard<std::mutex> lock(mu_);
      return client_->Command({"XRANGE", options_.stream_key, start, end,
                               "COUNT", std::to_string(want)});
    }();
    if (!r.ok()) return r.error().WithContext("audit log");
    if (!r->is_array() || r->elements.empty()) break;
    for (const RedisReply& entry : r->elements) {
      if (!entry.is_array() || entry.elements.size() != 2) {
        return Error(ErrorCode::kInternal,
                     "audit log: unexpected XRANGE reply");
      }
      start = "(" + entry.elements[0].str;
      const RedisReply& fields = entry.elements[1];
      for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
        if (fields.elements[i].str != "e") continue;
        ++n;
        if (!sink(fields.elements[i + 1].str)) return n;
      }
      if (n >= limit) break;
    }
    if (r->elements.size() < want) break;
  }
  return n;
}

Result<std::string> AuditLog::ReadNdjson(Timestamp from, Timestamp to,
                                         size_t limit) {
  std::string out;
  Result<size_t> n = ReadRange(from, to, limit, [&](std::string_view json) {
    out.append(json);
    out.push_back('\n');
    return true;
  });
  if (!n.ok()) return n.error();
  return out;
}

}  // namespace genogate::gateway

#include "gateway/http/fhir_client.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <ctime>

namespace genogate::gateway {
namespace {

constexpr char kFhirJson[] = "application/fhir+json";

std::string Where(const Url& url) {
  return url.host + ":" + std::to_string(url.port);
}

const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string_view StringOf(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsString()) return {};
  return std::string_view(v->GetString(), v->GetStringLength());
}

std::string Compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool IsOperationOutcome(std::string_view json, rapidjson::Document* doc) {
  doc->Parse(json.data(), json.size());
  return !doc->HasParseError() &&
         StringOf(Member(*doc, "resourceType")) == "OperationOutcome";
}

// "Patient/1/_history/2" or "http://x/fhir/Patient/1" -> "Patient/1".
std::string ResourceIdOf(std::string_view location, std::string_view base) {
  if (!base.empty() && location.substr(0, base.size()) == base &&
      location.size() > base.size() && location[base.size()] == '/') {
    location.remove_prefix(base.size() + 1);
  }
  size_t h = location.find("/_history");
  if (h != std::string_view::npos) location = location.substr(0, h);
  return std::string(location);
}

bool IsUnreservedOrKept(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '=' || c == '&' || c == ',' || c == ':' || c == '/' ||
         c == '%' || c == '$' || c == '*' || c == '@' || c == '!' || c == '(' ||
         c == ')' || c == ';';
}

std::string EncodeComponent(std::string_view s) {
  std::string out;
  static const char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                 c == '~';
    if (plain) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out += {'%', kHex[b >> 4], kHex[b & 15]};
    }
  }
  return out;
}

}  // namespace

std::string EncodeQuery(std::string_view query) {
  std::string out;
  static const char kHex[] = "0123456789ABCDEF";
  for (char c : query) {
    if (IsUnreservedOrKept(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out += {'%', kHex[b >> 4], kHex[b & 15]};
    }
  }
  return out;
}

std::optional<Error> ErrorForHttpStatus(int status, std::string_view what,
                                        std::string_view outcome_codes) {
  if (status >= 200 && status < 300) return std::nullopt;
  std::string msg = std::string(what) + ": HTTP " + std::to_string(status);
  if (!outcome_codes.empty()) msg += " (" + std::string(outcome_codes) + ")";
  ErrorCode code;
  if (status >= 300 && status < 400) {
    code = ErrorCode::kFailedPrecondition;
    msg += "; redirects are not followed, check the endpoint's base URL";
  } else if (status == 401) {
    code = ErrorCode::kUnauthenticated;
  } else if (status == 403) {
    code = ErrorCode::kPermissionDenied;
  } else if (status == 408 || status == 429 || status >= 500) {
    code = ErrorCode::kUnavailable;
  } else if (status == 404 || status == 410) {
    code = ErrorCode::kNotFound;
  } else if (status == 409 || status == 412) {
    code = ErrorCode::kConflict;
  } else {
    code = ErrorCode::kInvalidInput;
  }
  return Error(code, std::move(msg));
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         Timestamp now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (value.size() > 9) return std::chrono::seconds(999'999'999);
    return std::chrono::seconds(std::stol(std::string(value)));
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::string text(value);
  char month[4] = {};
  char zone[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  size_t comma = text.find(", ");
  if (comma == std::string::npos) return std::nullopt;
  if (std::sscanf(text.c_str() + comma + 2, "%2d %3s %4d %2d:%2d:%2d %3s", &day,
                  month, &year, &hh, &mm, &ss, zone) != 7 ||
      std::string_view(zone) != "GMT") {
    return std::nullopt;
  }
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::string_view(month) == kMonths[i]) mon = i;
  }
  if (mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  time_t t = timegm(&tm);
  auto when = std::chrono::system_clock::from_time_t(t);
  if (when <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

std::string OperationOutcomeCodes(std::string_view json) {
  rapidjson::Document doc;
  if (!IsOperationOutcome(json, &doc)) return {};
  const rapidjson::Value* issues = Member(doc, "issue");
  if (issues == nullptr || !issues->IsArray()) return {};
  std::string out;
  for (const auto& issue : issues->GetArray()) {
    if (!out.empty()) out += ", ";
    out += std::string(StringOf(Member(issue, "severity"))) + "/" +
           std::string(StringOf(Member(issue, "code")));
  }
  return out;
}

std::string OperationOutcomeText(std::string_view json) {
  rapidjson::Document doc;
  if (!IsOperationOutcome(json, &doc)) return {};
  const rapidjson::Value* issues = Member(doc, "issue");
  if (issues == nullptr || !issues->IsArray()) return {};
  std::string out;
  for (const auto& issue : issues->GetArray()) {
    out += std::string(StringOf(Member(issue, "severity"))) + " " +
           std::string(StringOf(Member(issue, "code")));
    std::string_view text = StringOf(Member(issue, "diagnostics"));
    if (text.empty()) {
      const rapidjson::Value* details = Member(issue, "details");
      if (details != nullptr) text = StringOf(Member(*details, "text"));
    }
    if (!text.empty()) out += ": " + std::string(text);
    const rapidjson::Value* expr = Member(issue, "expression");
    if (expr != nullptr && expr->IsArray() && !expr->Empty()) {
      out += " (" + std::string(StringOf(&(*expr)[0])) + ")";
    }
    out += "\n";
  }
  return out;
}

Result<FhirClient> FhirClient::Create(HttpClient* http,
                                      FhirClientOptions options) {
  if (http == nullptr) {
    return Error(ErrorCode::kInvalidInput, "FhirClient needs an HttpClient");
  }
  std::string base = options.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  Result<Url> url = ParseUrl(base);
  if (!url.ok()) return url.error().WithContext("FHIR base URL");
  if (url->target.find('?') != std::string::npos) {
    return Error(ErrorCode::kInvalidInput,
                 "FHIR base URL must not have a query");
  }
  if (url->target == "/") url->target.clear();
  options.base_url = base;
  return FhirClient(http, std::move(options), std::move(url).value());
}

std::string FhirClient::BaseString() const { return base_.ToString(); }

TransactionOutcome FhirClient::PostTransaction(
    std::string_view bundle_json) const {
  TransactionOutcome out;
  const std::string what = "POST transaction to " + Where(base_);
  HttpRequest req;
  req.method = "POST";
  req.url = BaseString();
  if (req.url.empty() || req.url.back() != '/') req.url.push_back('/');
  req.headers = {{"Content-Type", std::string(kFhirJson) + "; charset=utf-8"},
                 {"Accept", kFhirJson}};
  if (options_.auth != nullptr) {
    Result<std::string> a = options_.auth->Authorization();
    if (!a.ok()) {
      out.error = a.error();
      return out;
    }
    if (!a->empty()) req.headers.emplace_back("Authorization", *a);
  }
  req.body = std::string(bundle_json);
  Result<HttpResponse> res = http_->Send(req);
  if (!res.ok()) {
    out.error = res.error().WithContext(what);
    return out;
  }
  out.http_status = res->status;
  rapidjson::Document doc;
  doc.Parse(res->body.data(), res->body.size());
  bool json = !doc.HasParseError() && doc.IsObject();
  std::string_view type = json ? StringOf(Member(doc, "resourceType")) : "";
  if (res->status >= 200 && res->status < 300) {
    if (type == "Bundle") {
      const rapidjson::Value* entries = Member(doc, "entry");
      if (entries != nullptr && entries->IsArray()) {
        for (const auto& e : entries->GetArray()) {
          const rapidjson::Value* r = Member(e, "response");
          std::string_view loc =
              r == nullptr ? "" : StringOf(Member(*r, "location"));
          if (!loc.empty()) {
            out.resource_ids.push_back(ResourceIdOf(loc, BaseString()));
          }
        }
      }
    }
    return out;
  }
  if (type == "OperationOutcome") out.operation_outcome_json = res->body;
  out.error =
      ErrorForHttpStatus(res->status, what, OperationOutcomeCodes(res->body));
  if (res->status == 408 || res->status == 429 || res->status >= 500) {
    std::string_view ra = res->Header("Retry-After");
    if (!ra.empty()) {
      const Clock* clock = options_.clock ? options_.clock : SystemClock::Get();
      out.retry_after = ParseRetryAfter(ra, clock->Now());
    }
  }
  return out;
}

Result<HttpResponse> FhirClient::Get(const std::string& url) const {
  HttpRequest req;
  req.method = "GET";
  req.url = url;
  req.headers = {{"Accept", kFhirJson}};
  if (options_.auth != nullptr) {
    Result<std::string> a = options_.auth->Authorization();
    if (!a.ok()) return a.error();
    if (!a->empty()) req.headers.emplace_back("Authorization", *a);
  }
  return http_->Send(req);
}

Status FhirClient::Search(
    std::string_view type, std::string_view query,
    const std::function<Status(std::string_view)>& on_resource) const {
  for (char c : type) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
      return Error(ErrorCode::kInvalidInput, "bad resource type");
    }
  }
  if (type.empty()) return Error(ErrorCode::kInvalidInput, "no resource type");
  std::string url = BaseString() + "/" + std::string(type);
  if (!query.empty()) url += "?" + EncodeQuery(query);
  const std::string what =
      "search " + std::string(type) + " at " + Where(base_);
  size_t bytes = 0;
  for (int page = 1;; ++page) {
    if (page > options_.max_pages) {
      return Error(ErrorCode::kLimitExceeded,
                   what + ": more than " + std::to_string(options_.max_pages) +
                       " pages");
    }
    Result<HttpResponse> res = Get(url);
    if (!res.ok()) return res.error().WithContext(what);
    if (auto e = ErrorForHttpStatus(res->status, what,
                                    OperationOutcomeCodes(res->body))) {
      return *e;
    }
    bytes += res->body.size();
    if (bytes > options_.max_search_bytes) {
      return Error(ErrorCode::kLimitExceeded,
                   what + ": more than " +
                       std::to_string(options_.max_search_bytes) + " bytes");
    }
    rapidjson::Document doc;
    doc.Parse(res->body.data(), res->body.size());
    if (doc.HasParseError() ||
        StringOf(Member(doc, "resourceType")) != "Bundle") {
      return Error(ErrorCode::kUnavailable,
                   what + ": the answer is not a JSON Bundle");
    }
    const rapidjson::Value* entries = Member(doc, "entry");
    if (entries != nullptr && entries->IsArray()) {
      for (const auto& e : entries->GetArray()) {
        const rapidjson::Value* r = Member(e, "resource");
        if (r == nullptr) continue;
        Status s = on_resource(Compact(*r));
        if (!s.ok()) return s;
      }
    }
    std::string next;
    const rapidjson::Value* links = Member(doc, "link");
    if (links != nullptr && links->IsArray()) {
      for (const auto& l : links->GetArray()) {
        if (StringOf(Member(l, "relation")) == "next") {
          next = std::string(StringOf(Member(l, "url")));
        }
      }
    }
    if (next.empty()) return Status::Ok();
    Result<Url> next_url = ParseUrl(next);
    if (!next_url.ok() || next_url->Origin() != base_.Origin()) {
      return Error(ErrorCode::kFailedPrecondition,
                   what + ": the next page link points to another server");
    }
    url = next_url->ToString();
  }
}

Result<std::string> FhirClient::Read(std::string_view type,
                                     std::string_view id) const {
  const std::string what = "read " + std::string(type) + " at " + Where(base_);
  Result<HttpResponse> res = Get(BaseString() + "/" + EncodeComponent(type) +
                                 "/" + EncodeComponent(id));
  if (!res.ok()) return res.error().WithContext(what);
  if (auto e = ErrorForHttpStatus(res->status, what,
                                  OperationOutcomeCodes(res->body))) {
    return *e;
  }
  return std::move(res->body);
}

Result<std::string> FhirClient::Metadata() const {
  const std::string what = "GET metadata from " + Where(base_);
  Result<HttpResponse> res = Get(BaseString() + "/metadata");
  if (!res.ok()) return res.error().WithContext(what);
  if (auto e = ErrorForHttpStatus(res->status, what,
                                  OperationOutcomeCodes(res->body))) {
    return *e;
  }
  rapidjson::Document doc;
  doc.Parse(res->body.data(), res->body.size());
  if (doc.HasParseError() ||
      StringOf(Member(doc, "resourceType")) != "CapabilityStatement") {
    return Error(ErrorCode::kFailedPrecondition,
                 what + ": the answer is not a CapabilityStatement");
  }
  std::string_view version = StringOf(Member(doc, "fhirVersion"));
  if (version.substr(0, 4) != "4.0.") {
    return Error(ErrorCode::kFailedPrecondition,
                 what + ": the server speaks FHIR " + std::string(version) +
                     ", not R4 (4.0.x)");
  }
  return std::move(res->body);
}

Result<std::vector<std::string>> FhirClient::FindPatientsByIdentifier(
    std::string_view system, std::string_view value) const {
  std::vector<std::string> ids;
  std::string query = "identifier=" + EncodeComponent(system) + "|" +
                      EncodeComponent(value) + "&_elements=id";
  Status s = Search("Patient", query, [&](std::string_view json) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    std::string_view id = StringOf(Member(doc, "id"));
    if (StringOf(Member(doc, "resourceType")) == "Patient" && !id.empty()) {
      ids.push_back("Patient/" + std::string(id));
    }
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  return ids;
}

}  // namespace genogate::gateway

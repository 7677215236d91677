#include "gateway/api/internal/api_util.h"

#include <ctime>
#include <vector>

#include "base/ascii.h"
#include "fhir/operation_outcome.h"
#include "fhir/schema.h"

namespace genogate::gateway::api {
namespace {

// JSON / XML for a media type or _format value; nullopt if neither.
std::optional<fhir::Format> FormatOf(std::string_view value) {
  std::string v = AsciiLower(TrimBlanks(value));
  // In a query, '+' was decoded to a space: "application/fhir json".
  for (char& c : v) {
    if (c == ' ') c = '+';
  }
  if (v == "json" || v == "application/fhir+json" || v == "application/json" ||
      v == "application/json+fhir") {
    return fhir::Format::kJson;
  }
  if (v == "xml" || v == "application/fhir+xml" || v == "application/xml" ||
      v == "text/xml" || v == "application/xml+fhir") {
    return fhir::Format::kXml;
  }
  return std::nullopt;
}

}  // namespace

Result<fhir::Format> Negotiate(const HttpRequest& request) {
  if (std::optional<std::string_view> f = request.Query("_format")) {
    std::optional<fhir::Format> format = FormatOf(*f);
    if (!format) {
      return Error(ErrorCode::kInvalidInput,
                   "_format must be json, xml, application/fhir+json or "
                   "application/fhir+xml");
    }
    return *format;
  }
  std::string_view accept = request.Header("Accept");
  std::optional<fhir::Format> best;
  double best_q = -1;
  bool any_type = false;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view()
                                             : accept.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view type = TrimBlanks(item.substr(0, semi));
    double q = 1.0;
    while (semi != std::string_view::npos) {
      item.remove_prefix(semi + 1);
      semi = item.find(';');
      std::string_view param = TrimBlanks(item.substr(0, semi));
      if (param.starts_with("q=")) {
        q = std::atof(std::string(param.substr(2)).c_str());
      }
    }
    if (!type.empty()) any_type = true;
    std::optional<fhir::Format> format = FormatOf(type);
    if (!format && (type == "*/*" || type == "application/*")) {
      format = fhir::Format::kJson;
    }
    if (format && q > 0 && q > best_q) {
      best = format;
      best_q = q;
    }
  }
  // An Accept that lists types, none of them JSON or XML (or all with
  // q=0): 406.
  if (!best && any_type) {
    return Error(ErrorCode::kInvalidInput, std::string(kNotAcceptable));
  }
  return best.value_or(fhir::Format::kJson);
}

fhir::Format NegotiateOrJson(const HttpRequest& request) {
  Result<fhir::Format> f = Negotiate(request);
  return f.ok() ? *f : fhir::Format::kJson;
}

std::string MediaType(const HttpRequest& request) {
  std::string_view ct = request.Header("Content-Type");
  return AsciiLower(TrimBlanks(ct.substr(0, ct.find(';'))));
}

std::string_view FhirContentType(fhir::Format format) {
  return format == fhir::Format::kXml ? "application/fhir+xml; charset=utf-8"
                                      : "application/fhir+json; charset=utf-8";
}

HttpResponse FhirResourceResponse(int status, const std::string& json,
                                  fhir::Format format,
                                  const fhir::Schema& schema) {
  HttpResponse r;
  r.status = status;
  if (format == fhir::Format::kJson) {
    r.body = json;
  } else {
    Result<fhir::Document> doc = fhir::ParseJson(json, &schema);
    Result<std::string> xml =
        doc.ok() ? fhir::WriteXml(doc->root) : Result<std::string>(doc.error());
    if (!xml.ok()) {
      return ErrorResponse(500, "exception", "cannot write the answer as XML",
                           "xml-output", fhir::Format::kJson, schema);
    }
    r.body = std::move(xml).value();
  }
  r.SetHeader("Content-Type", std::string(FhirContentType(format)));
  return r;
}

HttpResponse OutcomeResponse(int status, const IssueList& issues,
                             fhir::Format format, const fhir::Schema& schema) {
  HttpResponse r;
  r.status = status;
  r.body = fhir::OperationOutcomeJson(issues);
  if (format == fhir::Format::kXml) {
    Result<fhir::Node> node = fhir::OperationOutcomeNode(issues, schema);
    Result<std::string> xml =
        node.ok() ? fhir::WriteXml(*node) : Result<std::string>(node.error());
    if (xml.ok()) {
      r.body = std::move(xml).value();
    } else {
      format = fhir::Format::kJson;
    }
  }
  r.SetHeader("Content-Type", std::string(FhirContentType(format)));
  return r;
}

HttpResponse ErrorResponse(int status, std::string_view issue_type,
                           std::string message, std::string_view code,
                           fhir::Format format, const fhir::Schema& schema) {
  IssueList issues;
  Issue i;
  i.severity = status >= 500 ? Severity::kFatal : Severity::kError;
  i.type = std::string(issue_type);
  i.message = std::move(message);
  i.code = std::string(code);
  issues.Add(std::move(i));
  return OutcomeResponse(status, issues, format, schema);
}

HttpResponse ErrorFor(const Error& error, fhir::Format format,
                      const fhir::Schema& schema, const ApiOptions& options) {
  if (error.code() == ErrorCode::kInvalidInput &&
      error.message() == kNotAcceptable) {
    return ErrorResponse(406, "not-supported", error.message(),
                         "not-acceptable", format, schema);
  }
  switch (error.code()) {
    case ErrorCode::kInvalidInput:
      return ErrorResponse(400, "invalid", error.message(), "bad-request",
                           format, schema);
    case ErrorCode::kNotFound:
      return ErrorResponse(404, "not-found", error.message(), "not-found",
                           format, schema);
    case ErrorCode::kConflict:
      return ErrorResponse(409, "conflict", error.message(), "conflict", format,
                           schema);
    case ErrorCode::kLimitExceeded:
      return ErrorResponse(413, "too-long", error.message(), "too-large",
                           format, schema);
    case ErrorCode::kPermissionDenied:
      return ErrorResponse(403, "forbidden", error.message(), "forbidden",
                           format, schema);
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout: {
      HttpResponse r = ErrorResponse(
          503, "transient",
          "the queue is unavailable; nothing was accepted, send again later",
          "unavailable", format, schema);
      r.SetHeader("Retry-After", std::to_string(options.retry_after.count()));
      return r;
    }
    default:
      return ErrorResponse(
          500, "exception",
          "internal error (" + std::string(ErrorCodeName(error.code())) + ")",
          "internal", format, schema);
  }
}

std::optional<HttpResponse> RequireRole(
    const HttpRequest& request, std::initializer_list<std::string_view> roles,
    const fhir::Schema& schema) {
  std::string need;
  for (std::string_view role : roles) {
    if (request.HasRole(role)) return std::nullopt;
    need += (need.empty() ? "'" : " or '") + std::string(role) + "'";
  }
  return ErrorResponse(403, "forbidden",
                       "this operation needs the " + need + " role",
                       "forbidden", NegotiateOrJson(request), schema);
}

std::optional<SubmissionFormat> FormatForMediaType(std::string_view media,
                                                   bool fhir_base) {
  if (media == "application/fhir+json") return SubmissionFormat::kFhirJson;
  if (media == "application/fhir+xml") return SubmissionFormat::kFhirXml;
  if (fhir_base) {
    if (media == "application/json") return SubmissionFormat::kFhirJson;
    if (media == "application/xml") return SubmissionFormat::kFhirXml;
    return std::nullopt;
  }
  if (media == "text/x-vcf") return SubmissionFormat::kVcf;
  if (media == "x-application/hl7-v2+er7") return SubmissionFormat::kHl7v2;
  if (media == "application/json") return SubmissionFormat::kLabJson;
  return std::nullopt;
}

std::string IsoTime(Timestamp t) {
  int64_t ms = ToUnixMillis(t);
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

void Str(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

HttpResponse JsonResponse(int status, const rapidjson::StringBuffer& buf) {
  HttpResponse r;
  r.status = status;
  r.body.assign(buf.GetString(), buf.GetSize());
  r.SetHeader("Content-Type", "application/json; charset=utf-8");
  return r;
}

}  // namespace genogate::gateway::api

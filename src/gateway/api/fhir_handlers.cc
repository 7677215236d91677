// The FHIR surface under /fhir: metadata, $validate, $convert, transaction.
#include <memory>
#include <utility>

#include "conformance/capability_statement.h"
#include "conformance/validator/validator.h"
#include "fhir/schema.h"
#include "gateway/api/api_routes.h"
#include "gateway/api/internal/api_util.h"
#include "gateway/security/access_control.h"
#include "gateway/submission/submission_service.h"

namespace genogate::gateway {
namespace api {
namespace {

std::vector<conformance::CapabilityOperation> Operations() {
  return {{"validate",
           "http://hl7.org/fhir/OperationDefinition/Resource-validate", true},
          {"convert", "urn:genogate:OperationDefinition:convert", false}};
}

HttpResponse Metadata(const ApiServices& s,
                      const std::shared_ptr<const Result<std::string>>& json,
                      const HttpRequest& req, const ApiOptions& o) {
  const fhir::Schema& schema = s.validator->schema();
  Result<fhir::Format> fmt = Negotiate(req);
  if (!fmt.ok()) return ErrorFor(fmt.error(), fhir::Format::kJson, schema, o);
  if (!json->ok()) {
    return ErrorResponse(500, "exception",
                         "cannot build the CapabilityStatement", "internal",
                         *fmt, schema);
  }
  return FhirResourceResponse(200, json->value(), *fmt, schema);
}

HttpResponse Validate(const ApiServices& s, const ApiOptions& o,
                      const HttpRequest& req) {
  const fhir::Schema& schema = s.validator->schema();
  Result<fhir::Format> fmt = Negotiate(req);
  if (!fmt.ok()) return ErrorFor(fmt.error(), fhir::Format::kJson, schema, o);
  if (auto denied = RequireRole(req, {kRoleLab, kRoleAdmin}, schema)) {
    return *denied;
  }
  const std::string media = MediaType(req);
  Result<fhir::Format> body_format = fhir::DetectFormat(req.body);
  if (std::optional<SubmissionFormat> f = FormatForMediaType(media, true)) {
    body_format = *f == SubmissionFormat::kFhirXml ? fhir::Format::kXml
                                                   : fhir::Format::kJson;
  } else if (!media.empty() && media != "text/plain") {
    return ErrorResponse(415, "not-supported",
                         "Content-Type must be application/fhir+json or "
                         "application/fhir+xml",
                         "unsupported-media-type", *fmt, schema);
  }
  if (!body_format.ok()) {
    return ErrorResponse(400, "structure",
                         "the body is neither FHIR JSON nor FHIR XML",
                         "not-fhir", *fmt, schema);
  }
  Result<fhir::Document> doc = *body_format == fhir::Format::kJson
                                   ? fhir::ParseJson(req.body, &schema)
                                   : fhir::ParseXml(req.body, schema);
  if (!doc.ok()) {
    return ErrorResponse(
        400, "structure", doc.error().message(),
        *body_format == fhir::Format::kJson ? "json-syntax" : "xml-syntax",
        *fmt, schema);
  }
  conformance::ValidationOptions vo;
  for (const auto& [name, value] : req.query) {
    if (name == "profile") vo.profiles.push_back(value);
  }
  const fhir::Node* resource = &doc->root;
  IssueList issues;
  if (doc->root.resource_type() == "Parameters") {
    resource = nullptr;
    for (const fhir::Node* p : doc->root.Children("parameter")) {
      std::string_view name = p->ChildValue("name");
      if (name == "resource") {
        resource = p->Child("resource");
      } else if (name == "profile") {
        const fhir::Node* v = p->Child("value");
        if (v && v->has_value()) vo.profiles.push_back(v->value());
      }
    }
    if (!resource) {
      return ErrorResponse(400, "required",
                           "the Parameters have no 'resource' parameter",
                           "validate-no-resource", *fmt, schema);
    }
    // Findings of the reader about the Parameters, then the validator's.
    issues = std::move(doc->issues);
  } else {
    issues = std::move(doc->issues);
  }
  auto type = req.path_params.find("type");
  if (type != req.path_params.end()) {
    if (!schema.FindResourceType(type->second)) {
      return ErrorResponse(404, "not-supported",
                           "unknown resource type in the path", "unknown-type",
                           *fmt, schema);
    }
    if (resource->resource_type() != type->second) {
      return ErrorResponse(400, "invalid",
                           "the resource is a " + resource->resource_type() +
                               ", not a " + type->second,
                           "validate-wrong-type", *fmt, schema);
    }
  }
  issues.Append(s.validator->Validate(*resource, vo));
  RedactPatientData(doc->root, {}, &issues);
  return OutcomeResponse(200, issues, *fmt, schema);
}

HttpResponse Convert(const ApiServices& s, const ApiOptions& o,
                     const HttpRequest& req) {
  const fhir::Schema& schema = s.validator->schema();
  Result<fhir::Format> fmt = Negotiate(req);
  if (!fmt.ok()) return ErrorFor(fmt.error(), fhir::Format::kJson, schema, o);
  if (auto denied = RequireRole(req, {kRoleLab, kRoleAdmin}, schema)) {
    return *denied;
  }
  std::optional<SubmissionFormat> format =
      FormatForMediaType(MediaType(req), false);
  if (!format || *format == SubmissionFormat::kFhirJson ||
      *format == SubmissionFormat::kFhirXml) {
    return ErrorResponse(415, "not-supported",
                         "Content-Type must be text/x-vcf, "
                         "x-application/hl7-v2+er7 or application/json (lab "
                         "JSON)",
                         "unsupported-media-type", *fmt, schema);
  }
  Result<SubmissionParams> params = ParseSubmissionParams(req.query);
  if (!params.ok()) return ErrorFor(params.error(), *fmt, schema, o);
  if (!req.caller_lab.empty()) {  // a lab converts only as itself
    Result<std::string> lab = SubmissionLab(req, params->lab);
    if (!lab.ok()) return ErrorFor(lab.error(), *fmt, schema, o);
  }
  SubmissionRequest sr;
  sr.format = *format;
  sr.body = req.body;
  sr.params = std::move(params).value();
  sr.caller = req.caller;
  Result<ConvertResult> r = s.submissions->Convert(sr);
  if (!r.ok()) return ErrorFor(r.error(), *fmt, schema, o);
  if (!r->bundle) return OutcomeResponse(422, r->issues, *fmt, schema);
  Result<std::string> text = fhir::Write(*r->bundle, *fmt);
  if (!text.ok()) {
    return ErrorResponse(500, "exception", "cannot write the Bundle",
                         "internal", *fmt, schema);
  }
  HttpResponse out;
  out.status = 200;
  out.body = std::move(text).value();
  out.SetHeader("Content-Type", std::string(FhirContentType(*fmt)));
  return out;
}

}  // namespace
}  // namespace api

std::vector<ApiRoute> FhirRoutes(const ApiServices& services,
                                 const ApiOptions& options) {
  conformance::CapabilityOptions co;
  co.date = options.started;
  co.software_version = options.software_version;
  co.url = options.fhir_base_url;
  co.operations = api::Operations();
  auto metadata = std::make_shared<const Result<std::string>>(
      conformance::CapabilityStatementJson(*services.packages, co));
  std::vector<ApiRoute> routes;
  routes.push_back({"GET", "/fhir/metadata", "fhir.metadata",
                    [services, options, metadata](const HttpRequest& r) {
                      return api::Metadata(services, metadata, r, options);
                    },
                    false});
  routes.push_back({"POST", "/fhir/$validate", "fhir.validate",
                    [services, options](const HttpRequest& r) {
                      return api::Validate(services, options, r);
                    },
                    false});
  routes.push_back({"POST", "/fhir/{type}/$validate", "fhir.validate_type",
                    [services, options](const HttpRequest& r) {
                      return api::Validate(services, options, r);
                    },
                    false});
  routes.push_back({"POST", "/fhir/$convert", "fhir.convert",
                    [services, options](const HttpRequest& r) {
                      return api::Convert(services, options, r);
                    },
                    false});
  routes.push_back({"POST", "/fhir", "fhir.transaction",
                    [services, options](const HttpRequest& r) {
                      return api::AuditedSubmit(services, options, r, true);
                    },
                    true});
  return routes;
}

}  // namespace genogate::gateway

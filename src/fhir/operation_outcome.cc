#include "fhir/operation_outcome.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace genogate::fhir {
namespace {

constexpr char kLineExt[] =
    "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
constexpr char kColExt[] =
    "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";
constexpr char kMessageIdExt[] =
    "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id";

template <typename W>
void Str(W& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <typename W>
void WriteOutcome(W& w, const IssueList& list) {
  w.StartObject();
  w.Key("resourceType");
  w.String("OperationOutcome");
  w.Key("issue");
  w.StartArray();
  std::vector<Issue> issues = list.issues();
  if (issues.empty()) {
    issues.push_back({Severity::kInformation, "informational",
                      "No issues found", "", 0, 0, ""});
  }
  for (const Issue& i : issues) {
    w.StartObject();
    if (i.line != 0 || !i.code.empty()) {
      w.Key("extension");
      w.StartArray();
      if (i.line != 0) {
        w.StartObject();
        w.Key("url");
        w.String(kLineExt);
        w.Key("valueInteger");
        w.Uint(i.line);
        w.EndObject();
        w.StartObject();
        w.Key("url");
        w.String(kColExt);
        w.Key("valueInteger");
        w.Uint(i.column);
        w.EndObject();
      }
      if (!i.code.empty()) {
        w.StartObject();
        w.Key("url");
        w.String(kMessageIdExt);
        w.Key("valueString");
        Str(w, i.code);
        w.EndObject();
      }
      w.EndArray();
    }
    w.Key("severity");
    Str(w, SeverityName(i.severity));
    w.Key("code");
    Str(w, i.type.empty() ? "invalid" : i.type);
    w.Key("details");
    w.StartObject();
    w.Key("text");
    Str(w, i.message.empty() ? "(no message)" : i.message);
    w.EndObject();
    if (!i.location.empty()) {
      w.Key("expression");
      w.StartArray();
      Str(w, i.location);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string OperationOutcomeJson(const IssueList& issues, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    WriteOutcome(w, issues);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    WriteOutcome(w, issues);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Node> OperationOutcomeNode(const IssueList& issues,
                                  const Schema& schema) {
  Result<Document> doc = ParseJson(OperationOutcomeJson(issues), &schema);
  if (!doc.ok()) return doc.error();
  if (doc->issues.HasErrors() || !doc->root.type()) {
    return Error(ErrorCode::kInternal,
                 "OperationOutcome is not in the loaded definitions");
  }
  return std::move(doc->root);
}

IssueList IssuesFromError(const Error& error, std::string_view issue_type) {
  IssueList list;
  Issue i;
  i.severity = error.code() == ErrorCode::kInternal ? Severity::kFatal
                                                    : Severity::kError;
  i.type = std::string(issue_type);
  i.message = error.message();
  i.code = std::string(ErrorCodeName(error.code()));
  list.Add(std::move(i));
  return list;
}

}  // namespace genogate::fhir

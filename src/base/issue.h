// Issue: a finding about the data, with where it is and how serious it is.
//
// Issues become OperationOutcome.issue entries (see fhir/operation_outcome.h).
// Parsers, mappers and validators collect Issues and keep going; an operation
// that cannot go on at all returns an Error instead (see error.h).
//
// Thread-safety: value types; IssueList is not synchronised.
#ifndef GENOGATE_BASE_ISSUE_H_
#define GENOGATE_BASE_ISSUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace genogate {

// OperationOutcome.issue.severity, in decreasing order of seriousness.
enum class Severity { kFatal, kError, kWarning, kInformation };

// "fatal", "error", "warning", "information".
std::string_view SeverityName(Severity s);

struct Issue {
  Severity severity = Severity::kError;
  // FHIR IssueType code (http://hl7.org/fhir/issue-type): "structure",
  // "required", "value", "invariant", "code-invalid", "invalid", ...
  std::string type = "invalid";
  // Human-readable: names the rule (and profile, where there is one).
  std::string message;
  // FHIRPath location with indices, e.g.
  // "Bundle.entry[3].resource.component[2].value.coding[0]"; empty if none.
  std::string location;
  // 1-based position in the source text; 0 when unknown.
  uint32_t line = 0;
  uint32_t column = 0;
  // genogate's own code for the rule, e.g. "json-syntax", "unknown-element",
  // "gg-allele-chars"; stable across releases, used in tests and metrics.
  std::string code;
};

// An ordered collection of Issues with helpers for the common questions.
class IssueList {
 public:
  void Add(Issue issue) { issues_.push_back(std::move(issue)); }
  void Append(const IssueList& other);

  const std::vector<Issue>& issues() const { return issues_; }
  std::vector<Issue>& mutable_issues() { return issues_; }
  bool empty() const { return issues_.empty(); }
  size_t size() const { return issues_.size(); }

  // True if any issue is kError or kFatal.
  bool HasErrors() const;
  size_t Count(Severity s) const;

  // One line per issue: "error [code] location (line L, col C): message".
  std::string ToText() const;

 private:
  std::vector<Issue> issues_;
};

}  // namespace genogate

#endif  // GENOGATE_BASE_ISSUE_H_

// OperationOutcome from Issues: how genogate answers problems with data.
//
// Each Issue becomes one OperationOutcome.issue with severity, the FHIR
// issue-type code, details.text (the message), expression (the FHIRPath
// location) and, when known, the source line and column in the extensions
// the HL7 FHIR Validator uses (operationoutcome-issue-line/-col) and
// genogate's rule code in operationoutcome-message-id. An empty list gives
// one information issue "No issues found", since FHIR requires at least one.
//
// Thread-safety: reentrant.
#ifndef GENOGATE_FHIR_OPERATION_OUTCOME_H_
#define GENOGATE_FHIR_OPERATION_OUTCOME_H_

#include <string>

#include "base/issue.h"
#include "base/result.h"
#include "fhir/codec.h"

namespace genogate::fhir {

class Schema;

// FHIR JSON text of the OperationOutcome.
std::string OperationOutcomeJson(const IssueList& issues, bool pretty = false);

// The same as a typed element tree (for XML output or embedding in a
// Bundle). Fails only if the schema lacks OperationOutcome.
Result<Node> OperationOutcomeNode(const IssueList& issues,
                                  const Schema& schema);

// An IssueList with one issue for an Error (severity error, or fatal for
// kInternal), e.g. to answer a request that could not be processed.
IssueList IssuesFromError(const Error& error,
                          std::string_view issue_type = "processing");

}  // namespace genogate::fhir

#endif  // GENOGATE_FHIR_OPERATION_OUTCOME_H_

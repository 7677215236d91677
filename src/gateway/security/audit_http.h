// The audit trail over HTTP: the auditor's NDJSON read route and the
// request facts every audited handler records.
//
//   GET /audit?since=<instant|date>&until=<instant|date>&_count=<n>
//     -> 200 application/fhir+ndjson, one AuditEvent per line, oldest first.
//   since/until: FHIR instant ("2026-11-29T10:00:00Z", offsets and fractions
//   allowed) or date ("2026-11-29" = its first / last millisecond, UTC);
//   both optional (open ends). _count: 1..100000, default 10000.
//   Bad parameters answer 400 (OperationOutcome), Redis down 503.
// The route needs the auditor role (DefaultRouteRules).
//
// Thread-safety: reentrant (AuditLog is thread-safe).
#ifndef GENOGATE_GATEWAY_SECURITY_AUDIT_HTTP_H_
#define GENOGATE_GATEWAY_SECURITY_AUDIT_HTTP_H_

#include <string_view>

#include "base/result.h"
#include "gateway/queue/clock.h"
#include "gateway/security/audit.h"
#include "gateway/server/http_message.h"

namespace genogate::gateway {

// An AuditRecord with who/where/when filled from a request that passed
// AccessControl::Check: caller, roles, lab (caller_lab), source_address
// (remote_address), request_id, and `when` from `clock`.
AuditRecord AuditRecordFor(const HttpRequest& request, AuditAction action,
                           const Clock& clock);

// Parses a FHIR instant or date into a Timestamp; `end_of_day` picks the
// last millisecond of a bare date. kInvalidInput otherwise.
Result<Timestamp> ParseAuditTime(std::string_view text, bool end_of_day);

// The GET /audit handler.
HttpResponse HandleAuditRead(AuditLog& log, const HttpRequest& request);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SECURITY_AUDIT_HTTP_H_

#include "gateway/security/audit_http.h"

#include <ctime>

#include "base/issue.h"
#include "fhir/operation_outcome.h"

namespace genogate::gateway {
namespace {

HttpResponse Problem(int status, std::string_view type,
                     std::string_view message) {
  IssueList issues;
  Issue i;
  i.severity = Severity::kError;
  i.type = std::string(type);
  i.message = std::string(message);
  i.code = status == 400 ? "bad-parameter" : "audit-unavailable";
  issues.Add(std::move(i));
  HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "application/fhir+json");
  r.body = fhir::OperationOutcomeJson(issues);
  return r;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

AuditRecord AuditRecordFor(const HttpRequest& request, AuditAction action,
                           const Clock& clock) {
  AuditRecord r;
  r.action = action;
  r.when = clock.Now();
  r.caller = request.caller;
  r.roles = request.roles;
  r.lab = request.caller_lab;
  r.source_address = request.remote_address;
  r.request_id = request.request_id;
  return r;
}

Result<Timestamp> ParseAuditTime(std::string_view s, bool end_of_day) {
  const Error bad(ErrorCode::kInvalidInput,
                  "expected a FHIR instant (2026-11-29T10:00:00Z) or date "
                  "(2026-11-29)");
  int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
  if (!Digits(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' ||
      !Digits(s, 5, 2, &month) || s[7] != '-' || !Digits(s, 8, 2, &day)) {
    return bad;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return bad;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  int64_t offset_seconds = 0;
  if (s.size() == 10) {
    if (end_of_day) {
      hour = 23;
      minute = 59;
      second = 59;
      millis = 999;
    }
  } else {
    if (s.size() < 20 || s[10] != 'T' || !Digits(s, 11, 2, &hour) ||
        s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
        !Digits(s, 17, 2, &second)) {
      return bad;
    }
    size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t start = pos;
      int scale = 100;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        millis += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start || pos - start > 9) return bad;
    }
    std::string_view zone = s.substr(pos);
    if (zone == "Z") {
      offset_seconds = 0;
    } else {
      int oh, om;
      if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
          !Digits(zone, 1, 2, &oh) || zone[3] != ':' ||
          !Digits(zone, 4, 2, &om) || oh > 14 || om > 59) {
        return bad;
      }
      offset_seconds = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    }
    if (hour > 23 || minute > 59 || second > 60) return bad;
  }
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return bad;
  // timegm normalises 2026-02-31 to March: refuse dates that moved.
  std::tm check{};
  gmtime_r(&t, &check);
  if (check.tm_mday != day) return bad;
  return FromUnixMillis((static_cast<int64_t>(t) - offset_seconds) * 1000 +
                        millis);
}

HttpResponse HandleAuditRead(AuditLog& log, const HttpRequest& request) {
  Timestamp from = Timestamp::min();
  Timestamp to = Timestamp::max();
  size_t limit = 10'000;
  if (auto since = request.Query("since")) {
    Result<Timestamp> t = ParseAuditTime(*since, false);
    if (!t.ok())
      return Problem(400, "invalid", "since: " + t.error().message());
    from = *t;
  }
  if (auto until = request.Query("until")) {
    Result<Timestamp> t = ParseAuditTime(*until, true);
    if (!t.ok())
      return Problem(400, "invalid", "until: " + t.error().message());
    to = *t;
  }
  if (auto count = request.Query("_count")) {
    size_t n = 0;
    bool ok = !count->empty() && count->size() <= 6;
    for (char c : *count) {
      if (c < '0' || c > '9') ok = false;
      if (ok) n = n * 10 + static_cast<size_t>(c - '0');
    }
    if (!ok || n < 1 || n > 100'000) {
      return Problem(400, "invalid", "_count: expected 1..100000");
    }
    limit = n;
  }
  Result<std::string> nd = log.ReadNdjson(from, to, limit);
  if (!nd.ok()) {
    HttpResponse r =
        Problem(503, "transient", "the audit trail cannot be read now");
    r.SetHeader("Retry-After", "5");
    return r;
  }
  HttpResponse r;
  r.status = 200;
  r.SetHeader("Content-Type", "application/fhir+ndjson");
  r.SetHeader("Cache-Control", "no-store");
  r.body = std::move(nd).value();
  return r;
}

}  // namespace genogate::gateway

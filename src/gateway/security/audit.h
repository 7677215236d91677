// Audit trail: one FHIR R4 AuditEvent per submission, validation failure,
// delivery, pull, replay and admin action, appended to a Redis stream and
// read back by the auditor role as NDJSON.
//
// An AuditEvent records who (the caller's identity and roles, or genogate
// itself for delivery), what (the action, the submission, the endpoint,
// the operation), when (`recorded`), the outcome, the source IP address
// (port dropped) and the patient identifier in pseudonymised form only:
// HMAC-SHA256 under the configured audit key over
// "<byte length of system>:<system><value>" (e.g. "6:urn:x1P-1"), as
// identifier {system "urn:genogate:pseudonym:hmac-sha256", value <hex>}.
// Whoever holds the key can find a patient's events (compute the pseudonym
// of the identifier) but the trail itself never holds the identifier.
// Callers must put no PHI in outcome_text, operation or details.
//
// Codes: type is DICOM 110107 Import (submission, validation failure),
// 110106 Export (delivery), 110112 Query (pull), or audit-event-type "rest"
// (replay, admin); subtype names genogate's action
// (urn:genogate:audit-action); action C / R / E; outcome 0 / 4 / 8 / 12.
//
// Storage: Redis stream `genogate:audit` (XADD, never trimmed or deleted by
// genogate; with AOF it survives restarts); entry ids are the recorded
// time in milliseconds ("<ms>-*"), or the storage time when an entry with a
// later time already exists (replicas with skewed clocks), so time-range
// reads are XRANGE by id.
//
// Thread-safety: Pseudonymizer and BuildAuditEventJson are reentrant;
// AuditLog is thread-safe (one Redis connection under a mutex).
#ifndef GENOGATE_GATEWAY_SECURITY_AUDIT_H_
#define GENOGATE_GATEWAY_SECURITY_AUDIT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "gateway/queue/clock.h"
#include "gateway/queue/redis_client.h"

namespace genogate::gateway {

enum class AuditAction {
  kSubmission,
  kValidationFailure,
  kDelivery,
  kPull,
  kReplay,
  kAdmin,
};

// "submission", "validation-failure", "delivery", "pull", "replay", "admin".
std::string_view AuditActionName(AuditAction a);

// FHIR audit-event-outcome codes.
enum class AuditOutcome {
  kSuccess = 0,
  kMinorFailure = 4,    // e.g. the request was refused (validation)
  kSeriousFailure = 8,  // e.g. delivery failed, will be retried
  kMajorFailure = 12,   // e.g. dead-lettered
};

struct AuditRecord {
  AuditAction action = AuditAction::kSubmission;
  AuditOutcome outcome = AuditOutcome::kSuccess;
  std::string outcome_text;  // no PHI
  Timestamp when{};
  // The caller's identity and roles; empty caller: genogate itself.
  std::string caller;
  std::vector<std::string> roles;
  // The peer, "ip:port", "[v6]:port" or a bare address; port is dropped.
  std::string source_address;
  std::string request_id;
  std::string submission_id;
  std::string lab;
  std::string endpoint;
  // What was done, e.g. "POST /admin/dead-letters/{id}/replay".
  std::string operation;
  // The patient identifier the action concerned (pseudonymised).
  std::string patient_system;
  std::string patient_value;
  // Extra facts (no PHI), e.g. {"ehr-ids", "DiagnosticReport/12"}.
  std::vector<std::pair<std::string, std::string>> details;
};

class Pseudonymizer {
 public:
  // kInvalidInput if `key` is shorter than 32 bytes. The key is wiped when
  // the object is destroyed.
  static Result<Pseudonymizer> Create(std::string key);
  ~Pseudonymizer();
  Pseudonymizer(Pseudonymizer&&) noexcept;
  Pseudonymizer& operator=(Pseudonymizer&&) noexcept;

  // 64 lower-case hex digits of HMAC-SHA256(key,
  // decimal(system.size()) + ":" + system + value).
  std::string Pseudonym(std::string_view system, std::string_view value) const;

 private:
  explicit Pseudonymizer(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// "YYYY-MM-DDThh:mm:ss.sssZ" (FHIR instant, UTC).
std::string FormatInstant(Timestamp t);

// The AuditEvent (FHIR R4 JSON, one line) for `record` with id `event_id`.
std::string BuildAuditEventJson(const AuditRecord& record,
                                const Pseudonymizer& pseudonymizer,
                                std::string_view event_id);

// The first identifier (system, value) of the first Patient resource among
// the entries of a FHIR JSON Bundle (or of the resource itself if it is a
// Patient), for AuditRecord::patient_*. False (outputs untouched) when the
// text is not JSON or holds no Patient with an identifier value.
bool FindPatientIdentifier(std::string_view fhir_json, std::string* system,
                           std::string* value);

// For a FHIR search ("Type?name=value&..."): sets record->operation to
// "GET Type?name1&name2" (parameter names only: values may be PHI) and, when
// a parameter is named identifier or ends in ".identifier" / ":identifier"
// (Patient?identifier=, Observation?subject:Patient.identifier=, ...), the
// first such value ("system|value", percent-decoded) as the patient.
void DescribeSearch(std::string_view query, AuditRecord* record);

// Where services record audit events (the Redis AuditLog, or a fake).
//
// When Record fails, front ends that answer a caller (HTTP, MLLP) do not
// answer success: they answer 503 / ACK AR so that the caller sends again
// (see "audit failures" in docs/architecture.md); the delivery worker, which
// has nobody to answer, carries on. Either way the failure is counted.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Records one event. Errors as the storage's (kUnavailable: Redis down).
  virtual Status Record(const AuditRecord& record) = 0;
};

// Keeps the events in memory (tests of the services that record).
class MemoryAuditSink final : public AuditSink {
 public:
  Status Record(const AuditRecord& record) override;
  std::vector<AuditRecord> records() const;

 private:
  mutable std::mutex mu_;
  std::vector<AuditRecord> records_;
};

struct AuditLogOptions {
  RedisOptions redis;
  std::string stream_key = "genogate:audit";
  // Events returned by one ReadRange call at most.
  size_t max_read = 100'000;
};

class AuditLog final : public AuditSink {
 public:
  // Called (on the recording thread) after each failed Record with the
  // record and the error, e.g. to log it (no PHI: the record's fields
  // other than patient_*). Set before the log is shared between threads.
  using FailureHook =
      std::function<void(const AuditRecord& record, const Error& error)>;

  // Connects to Redis (kUnavailable if it cannot) with the pseudonym key.
  static Result<std::unique_ptr<AuditLog>> Open(AuditLogOptions options,
                                                Pseudonymizer pseudonymizer);
  ~AuditLog() override;

  // Builds the AuditEvent and appends it (XADD). kUnavailable if Redis is
  // down (the event is not stored).
  Status Record(const AuditRecord& record) override;

  // Records that failed since Open (for genogate_audit_write_failures_total).
  int64_t failures() const { return failures_.load(); }
  void set_failure_hook(FailureHook hook) { failure_hook_ = std::move(hook); }

  // Calls `sink` with each stored AuditEvent's JSON (oldest first) whose
  // time is within [from, to] (Timestamp::min() / max() for open ends), at
  // most `limit` (capped by max_read) of them; `sink` returns false to
  // stop. Returns the number passed to sink.
  Result<size_t> ReadRange(
      Timestamp from, Timestamp to, size_t limit,
      const std::function<bool(std::string_view json)>& sink);

  // ReadRange as NDJSON text (one event per line, each ending in '\n').
  Result<std::string> ReadNdjson(Timestamp from, Timestamp to, size_t limit);

 private:
  AuditLog(AuditLogOptions options, Pseudonymizer pseudonymizer,
           std::unique_ptr<RedisClient> client);
  Status Append(const std::string& json, Timestamp when);

  AuditLogOptions options_;
  Pseudonymizer pseudonymizer_;
  std::mutex mu_;
  std::unique_ptr<RedisClient> client_;
  std::atomic<int64_t> failures_{0};
  FailureHook failure_hook_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SECURITY_AUDIT_H_

#include "gateway/queue/delivery_queue.h"

namespace genogate::gateway {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kDelivering:
      return "delivering";
    case JobState::kRetrying:
      return "retrying";
    case JobState::kDelivered:
      return "delivered";
    case JobState::kDeadLettered:
      return "dead-lettered";
    case JobState::kSuperseded:
      return "superseded";
    case JobState::kDiscarded:
      return "discarded";
  }
  return "unknown";
}

Status ValidateEndpointName(std::string_view endpoint) {
  if (endpoint.empty() || endpoint.size() > 128) {
    return Error(ErrorCode::kInvalidInput,
                 "endpoint name must be 1..128 characters");
  }
  for (char c : endpoint) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Error(ErrorCode::kInvalidInput,
                   "endpoint name may contain only [A-Za-z0-9._-]");
    }
  }
  return Status::Ok();
}

namespace {
Status ValidateJobId(std::string_view id) {
  if (id.empty() || id.size() > 256) {
    return Error(ErrorCode::kInvalidInput, "job id must be 1..256 bytes");
  }
  for (char c : id) {
    if (c <= ' ' || c > '~') {
      return Error(ErrorCode::kInvalidInput,
                   "job id must be printable ASCII without spaces");
    }
  }
  return Status::Ok();
}
}  // namespace

Status ValidateJobForEnqueue(const Job& job) {
  if (Status s = ValidateJobId(job.id); !s.ok()) return s;
  if (job.report_key.empty() || job.report_key.size() > 1024) {
    return Error(ErrorCode::kInvalidInput, "report key must be 1..1024 bytes");
  }
  if (job.report_version < 0) {
    return Error(ErrorCode::kInvalidInput, "report version must be >= 0");
  }
  if (job.idempotency_key.size() > 1024) {
    return Error(ErrorCode::kInvalidInput,
                 "idempotency key must be at most 1024 bytes");
  }
  return Status::Ok();
}

std::string MakeDeadLetterId(std::string_view endpoint,
                             std::string_view job_id) {
  std::string id(endpoint);
  id += '/';
  id += job_id;
  return id;
}

Status ParseDeadLetterId(std::string_view id, std::string* endpoint,
                         std::string* job_id) {
  size_t slash = id.find('/');
  if (slash == std::string_view::npos) {
    return Error(ErrorCode::kInvalidInput,
                 "dead letter id must be '<endpoint>/<job id>'");
  }
  if (Status s = ValidateEndpointName(id.substr(0, slash)); !s.ok()) return s;
  if (Status s = ValidateJobId(id.substr(slash + 1)); !s.ok()) return s;
  *endpoint = std::string(id.substr(0, slash));
  *job_id = std::string(id.substr(slash + 1));
  return Status::Ok();
}

}  // namespace genogate::gateway

#include "gateway/mllp/queue_sink.h"

#include <openssl/sha.h>

#include <ctime>
#include <utility>

#include "fhir/codec.h"

namespace genogate::gateway {
namespace {

namespace v2 = mappers::hl7v2;

std::string JobIdFor(std::string_view key, size_t report) {
  std::string input = std::string(key) + "#" + std::to_string(report);
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), d);
  static const char kHex[] = "0123456789abcdef";
  std::string id = "v2-";
  for (int i = 0; i < 16; ++i) {
    id += kHex[d[i] >> 4];
    id += kHex[d[i] & 15];
  }
  return id;
}

bool Digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Num(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

std::optional<int64_t> Hl7TimeToUnixMillis(std::string_view dtm) {
  std::string_view offset;
  size_t sign = dtm.find_first_of("+-");
  if (sign != std::string_view::npos) {
    offset = dtm.substr(sign);
    dtm = dtm.substr(0, sign);
  }
  std::string_view fraction;
  if (size_t dot = dtm.find('.'); dot != std::string_view::npos) {
    fraction = dtm.substr(dot + 1);
    dtm = dtm.substr(0, dot);
  }
  if (dtm.size() < 4 || dtm.size() > 14 || dtm.size() % 2 != 0 ||
      !Digits(dtm) || !Digits(fraction)) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = Num(dtm.substr(0, 4)) - 1900;
  tm.tm_mon = dtm.size() >= 6 ? Num(dtm.substr(4, 2)) - 1 : 0;
  tm.tm_mday = dtm.size() >= 8 ? Num(dtm.substr(6, 2)) : 1;
  tm.tm_hour = dtm.size() >= 10 ? Num(dtm.substr(8, 2)) : 0;
  tm.tm_min = dtm.size() >= 12 ? Num(dtm.substr(10, 2)) : 0;
  tm.tm_sec = dtm.size() >= 14 ? Num(dtm.substr(12, 2)) : 0;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (!fraction.empty()) {
    std::string f(fraction.substr(0, 3));
    while (f.size() < 3) f += '0';
    ms += Num(f);
  }
  if (!offset.empty()) {
    std::string_view z = offset.substr(1);
    if (z.size() != 4 || !Digits(z)) return std::nullopt;
    int64_t minutes = Num(z.substr(0, 2)) * 60 + Num(z.substr(2, 2));
    ms -= (offset[0] == '+' ? 1 : -1) * minutes * 60000;
  }
  return ms;
}

BundleQueueSink::BundleQueueSink(const fhir::Schema* schema,
                                 const conformance::Validator* validator,
                                 DeliveryQueue* queue,
                                 BundleQueueSinkOptions options)
    : schema_(schema),
      validator_(validator),
      queue_(queue),
      options_(std::move(options)) {}

Result<SubmissionOutcome> BundleQueueSink::Submit(const OruSubmission& s) {
  const v2::OruReadResult& read = s.read;
  if (options_.endpoints.empty()) {
    return Error(ErrorCode::kInternal, "no endpoint to enqueue to");
  }
  if (read.reports.empty() || s.idempotency_key.empty()) {
    return Error(ErrorCode::kInternal,
                 "submission without a report or an idempotency key");
  }
  const size_t n = read.reports.size();
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(JobIdFor(s.idempotency_key, i));

  // Handed on before? (The last job exists on every endpoint.)
  bool seen_everywhere = true;
  for (const std::string& endpoint : options_.endpoints) {
    Result<JobStatus> st = queue_->GetStatus(endpoint, ids.back());
    if (!st.ok()) {
      if (st.error().code() != ErrorCode::kNotFound) return st.error();
      seen_everywhere = false;
      break;
    }
  }
  if (seen_everywhere) {
    SubmissionOutcome out;
    out.kind = SubmissionOutcome::Kind::kDuplicate;
    out.submission_ids = ids;
    return out;
  }

  // Map and validate every report before enqueuing any.
  SubmissionOutcome out;
  std::vector<std::string> payloads;
  std::vector<std::string> report_keys;
  for (size_t i = 0; i < n; ++i) {
    const mappers::GenomicReportInput& in = read.reports[i].input;
    ++reports_mapped_;
    Result<fhir::Node> bundle =
        mappers::BuildReportBundle(in, options_.build, *schema_);
    if (!bundle.ok()) {
      if (bundle.error().code() != ErrorCode::kInvalidInput) {
        return bundle.error();
      }
      Issue issue;
      issue.severity = Severity::kError;
      issue.type = "invalid";
      issue.message = bundle.error().message();
      issue.code = "v2-map";
      out.issues.push_back({std::move(issue), static_cast<int>(i)});
      continue;
    }
    IssueList issues = validator_->Validate(*bundle, options_.validation);
    for (const Issue& issue : issues.issues()) {
      if (issue.severity == Severity::kError ||
          issue.severity == Severity::kFatal) {
        out.issues.push_back({issue, static_cast<int>(i)});
      }
    }
    Result<std::string> json = fhir::WriteJson(*bundle);
    if (!json.ok()) return json.error();
    payloads.push_back(std::move(json).value());
    report_keys.push_back(mappers::LabIdentifierSystem(in, options_.build) +
                          "|" + in.accession.system + "|" + in.accession.value);
  }
  if (!out.issues.empty()) {
    out.kind = SubmissionOutcome::Kind::kRejected;
    return out;
  }

  int64_t version = 0;
  if (const v2::Segment* msh = read.message->Find("MSH")) {
    version =
        Hl7TimeToUnixMillis(msh->Field(7).Component(1).Value()).value_or(0);
  }
  if (version < 0) version = 0;
  for (size_t i = 0; i < n; ++i) {
    for (const std::string& endpoint : options_.endpoints) {
      Job job;
      job.id = ids[i];
      job.report_key = report_keys[i];
      job.report_version = version;
      job.idempotency_key = s.idempotency_key + "#" + std::to_string(i);
      job.payload = payloads[i];
      job.metadata["content-type"] = "application/fhir+json";
      job.metadata["source"] = "hl7v2";
      Result<EnqueueResult> r = queue_->Enqueue(endpoint, std::move(job));
      if (!r.ok()) return r.error();
    }
  }
  out.kind = SubmissionOutcome::Kind::kAccepted;
  out.submission_ids = std::move(ids);
  return out;
}

}  // namespace genogate::gateway

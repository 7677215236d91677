#include "gateway/mllp/oru_handler.h"

#include <openssl/sha.h>

#include <ctime>
#include <exception>
#include <utility>

namespace genogate::gateway {
namespace {

namespace v2 = mappers::hl7v2;

// An HL7 DTM in UTC: "20261129174501+0000".
std::string Hl7Timestamp(Timestamp t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%d%H%M%S+0000", &tm);
  return buf;
}

v2::Problem MessageProblem(v2::Hl7Error code, std::string reason,
                           bool rejects) {
  v2::Problem p;
  p.code = code;
  p.reason = std::move(reason);
  p.rejects_message = rejects;
  return p;
}

}  // namespace

std::string OruIdempotencyKey(const v2::Message& message) {
  const v2::Segment* msh = message.Find("MSH");
  if (msh == nullptr || msh->Field(10).empty()) return "";
  std::string key = "hl7v2|";
  key += msh->Field(3).raw();
  key += '|';
  key += msh->Field(4).raw();
  key += '|';
  key += msh->Field(10).raw();
  if (key.size() <= 256) return key;
  // Keep queue keys short: a digest of an over-long key.
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d);
  static const char kHex[] = "0123456789abcdef";
  std::string digest = "hl7v2-sha256|";
  for (unsigned char b : d) {
    digest += kHex[b >> 4];
    digest += kHex[b & 15];
  }
  return digest;
}

v2::Problem ProblemFromIssue(const SubmissionIssue& si,
                             const v2::OruReadResult& read) {
  const Issue& issue = si.issue;
  v2::Problem p;
  const std::string& t = issue.type;
  if (t == "required") {
    p.code = v2::Hl7Error::kRequiredFieldMissing;
  } else if (t == "code-invalid") {
    p.code = v2::Hl7Error::kTableValueNotFound;
  } else if (t == "too-long") {
    p.code = v2::Hl7Error::kValueTooLong;
  } else if (t == "duplicate") {
    p.code = v2::Hl7Error::kDuplicateKeyIdentifier;
  } else if (t == "exception" || t == "processing" || t == "transient" ||
             t == "timeout") {
    p.code = v2::Hl7Error::kApplicationInternalError;
  } else {
    p.code = v2::Hl7Error::kDataType;
  }
  switch (issue.severity) {
    case Severity::kFatal:
    case Severity::kError:
      p.severity = v2::ProblemSeverity::kError;
      break;
    case Severity::kWarning:
      p.severity = v2::ProblemSeverity::kWarning;
      break;
    case Severity::kInformation:
      p.severity = v2::ProblemSeverity::kInformation;
      break;
  }
  // A reused control id is located at MSH-10, others at the report's OBR.
  if (t == "duplicate" && read.message) {
    if (const v2::Segment* msh = read.message->Find("MSH")) {
      p.where = msh->Where(10);
    }
  } else if (si.report >= 0 && read.message) {
    if (const v2::Segment* obr =
            read.message->Find("OBR", static_cast<size_t>(si.report) + 1)) {
      p.where = obr->Where();
    }
  }
  std::string reason = "mapped FHIR";
  if (!issue.location.empty()) reason += " " + issue.location;
  reason += ": " + issue.message;
  if (!issue.code.empty()) reason += " [" + issue.code + "]";
  if (reason.size() > 400) reason = reason.substr(0, 397) + "...";
  p.reason = std::move(reason);
  return p;
}

OruHandler::OruHandler(OruSubmissionSink* sink, OruHandlerOptions options,
                       const Clock* clock)
    : sink_(sink),
      options_(std::move(options)),
      clock_(clock != nullptr ? clock : SystemClock::Get()) {
  instance_ = RandomIdGenerator().NewId().substr(0, 8);
}

v2::AckOptions OruHandler::NextAckOptions() {
  v2::AckOptions o;
  o.control_id = options_.ack_control_id_prefix + instance_ + "-" +
                 std::to_string(next_ack_++);
  o.timestamp = Hl7Timestamp(clock_->Now());
  o.application = options_.application;
  o.facility = options_.facility;
  o.max_err_segments = options_.max_err_segments;
  return o;
}

std::string OruHandler::OnMessage(std::string_view er7, const MllpPeer& peer) {
  v2::AckOptions ack = NextAckOptions();
  v2::OruReadResult read = v2::ReadOruR01(er7, options_.read);
  auto answer = [&](const std::vector<v2::Problem>& problems) {
    v2::AckCode code =
        read.message ? v2::DecideAck(problems) : v2::AckCode::kReject;
    switch (code) {
      case v2::AckCode::kAccept:
        ++accepted_;
        break;
      case v2::AckCode::kError:
        ++errors_;
        break;
      case v2::AckCode::kReject:
        ++rejects_;
        break;
    }
    return v2::BuildAck(read.message ? &*read.message : nullptr, problems, ack,
                        read.salvaged_control_id);
  };
  if (!read.message || read.rejected() || read.has_errors()) {
    return answer(read.problems);
  }
  std::vector<v2::Problem> problems = read.problems;  // warnings only here
  if (read.reports.empty()) {
    problems.push_back(MessageProblem(v2::Hl7Error::kSegmentSequence,
                                      "the message holds no OBR (no report)",
                                      false));
    return answer(problems);
  }
  std::string key = OruIdempotencyKey(*read.message);
  Result<SubmissionOutcome> out =
      Error(ErrorCode::kInternal, "submission sink failed");
  try {
    out = sink_->Submit(OruSubmission{read, er7, std::move(key), peer});
  } catch (const std::exception&) {
    out = Error(ErrorCode::kInternal, "submission sink failed");
  }
  if (!out.ok()) {
    problems.push_back(MessageProblem(
        v2::Hl7Error::kApplicationInternalError,
        out.error().retryable()
            ? "the message could not be stored now (queue unavailable); "
              "send it again later"
            : "internal error: the message was not stored",
        true));
    return answer(problems);
  }
  bool has_error = false;
  for (const SubmissionIssue& i : out->issues) {
    if (i.issue.severity == Severity::kInformation) continue;
    problems.push_back(ProblemFromIssue(i, read));
    has_error =
        has_error || problems.back().severity == v2::ProblemSeverity::kError;
  }
  if (out->kind == SubmissionOutcome::Kind::kRejected && !has_error) {
    problems.push_back(MessageProblem(v2::Hl7Error::kApplicationInternalError,
                                      "the mapped report was rejected", false));
  }
  if (out->kind != SubmissionOutcome::Kind::kRejected && has_error) {
    // Accepted with error-level findings cannot be: the sink handed it on.
    for (v2::Problem& p : problems) {
      if (p.severity == v2::ProblemSeverity::kError) {
        p.severity = v2::ProblemSeverity::kWarning;
      }
    }
  }
  if (out->kind == SubmissionOutcome::Kind::kDuplicate) ++duplicates_;
  return answer(problems);
}

std::string OruHandler::OnFramingError(const v2::MllpEvent& event,
                                       const MllpPeer&) {
  ++rejects_;
  return v2::BuildFramingAck(event, NextAckOptions());
}

OruHandler::Counts OruHandler::counts() const {
  Counts c;
  c.accepted = accepted_;
  c.duplicates = duplicates_;
  c.errors = errors_;
  c.rejects = rejects_;
  return c;
}

}  // namespace genogate::gateway

#include "mappers/hl7v2/ack.h"

#include <algorithm>
#include <string>

namespace genogate::mappers::hl7v2 {
namespace {

bool SaneVersion(std::string_view v) {
  if (v.empty() || v.size() > 8) return false;
  for (char c : v) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return v[0] >= '2' && v[0] <= '9';
}

bool OldErr(std::string_view version) {
  return version.substr(0, 3) == "2.3" || version.substr(0, 3) == "2.4";
}

// What SalvageControlId accepts: printable ASCII without delimiters.
bool PlainControlId(std::string_view id) {
  if (id.empty() || id.size() > 199) return false;
  for (char c : id) {
    if (c <= ' ' || c >= 0x7f ||
        std::string_view("^~\\&|#").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::string Num(size_t n) { return n == 0 ? "" : std::to_string(n); }

// Trims trailing empty components.
std::string TrimTrailing(std::string s, char sep) {
  while (!s.empty() && s.back() == sep) s.pop_back();
  return s;
}

}  // namespace

std::string_view AckCodeText(AckCode code) {
  switch (code) {
    case AckCode::kAccept:
      return "AA";
    case AckCode::kError:
      return "AE";
    case AckCode::kReject:
      return "AR";
  }
  return "AR";
}

AckCode DecideAck(const std::vector<Problem>& problems) {
  bool error = false;
  for (const Problem& p : problems) {
    if (p.rejects_message) return AckCode::kReject;
    error = error || p.severity == ProblemSeverity::kError;
  }
  return error ? AckCode::kError : AckCode::kAccept;
}

std::string BuildAck(const Message* message,
                     const std::vector<Problem>& problems,
                     const AckOptions& options,
                     std::string_view fallback_control_id) {
  Delimiters d = message != nullptr ? message->delimiters() : Delimiters();
  const Segment* msh = message != nullptr ? message->Find("MSH") : nullptr;
  auto raw = [msh](size_t f) {
    return msh != nullptr ? std::string(msh->Field(f).raw()) : std::string();
  };
  auto esc = [&d](std::string_view s) { return Escape(s, d); };

  std::string their_app = raw(3), their_fac = raw(4);
  std::string our_app = raw(5), our_fac = raw(6);
  if (our_app.empty()) our_app = esc(options.application);
  if (our_fac.empty()) our_fac = esc(options.facility);
  std::string processing =
      msh != nullptr ? msh->Field(11).Component(1).Value() : "";
  if (processing != "P" && processing != "D" && processing != "T") {
    processing = "P";
  }
  std::string version =
      msh != nullptr ? msh->Field(12).Component(1).Value() : "";
  if (!SaneVersion(version)) version = options.default_version;
  bool old_err = OldErr(version);
  std::string control = raw(10);
  if (message == nullptr) {
    control = PlainControlId(fallback_control_id)
                  ? std::string(fallback_control_id)
                  : std::string();
  }

  AckCode code = message == nullptr ? AckCode::kReject : DecideAck(problems);
  const char f = d.field, c = d.component;
  std::string out;
  out += "MSH";
  out += f;
  out += d.EncodingCharacters();
  for (const std::string& v : {our_app, our_fac, their_app, their_fac,
                               esc(options.timestamp), std::string()}) {
    out += f;
    out += v;
  }
  out += f;
  out += std::string("ACK") + c + "R01" + c + "ACK";
  out += f;
  out += esc(options.control_id);
  out += f;
  out += processing;
  out += f;
  out += esc(version);
  out += '\r';

  out += "MSA";
  out += f;
  out += AckCodeText(code);
  out += f;
  out += control;
  if (old_err) {
    auto first = std::find_if(
        problems.begin(), problems.end(),
        [](const Problem& p) { return p.severity == ProblemSeverity::kError; });
    if (first != problems.end()) {
      out += f;
      out += esc(first->ToString().substr(0, 80));
    }
  }
  out += '\r';

  size_t limit = std::max<size_t>(options.max_err_segments, 1);
  size_t written = 0;
  for (const Problem& p : problems) {
    bool last_slot = written + 1 == limit && problems.size() > limit;
    std::string reason = p.ToString();
    Hl7Error err = p.code;
    ProblemSeverity sev = p.severity;
    ErrorLocation where = p.where;
    if (last_slot) {
      reason = std::to_string(problems.size() - written) +
               " more problems; the first: " + reason;
    }
    std::string code_text = std::to_string(static_cast<int>(err));
    std::string_view text = Hl7ErrorText(err);
    out += "ERR";
    out += f;
    if (old_err) {
      // ERR-1 ELD: segment ^ sequence ^ field ^ code&text&HL70357.
      std::string eld = where.segment + c + Num(where.sequence) + c +
                        Num(where.field) + c + code_text + d.subcomponent +
                        esc(text) + d.subcomponent + "HL70357";
      out += eld;
    } else {
      size_t rep = where.repetition;
      if (rep == 0 && where.field > 0) rep = 1;
      std::string erl = where.segment + c + Num(where.sequence) + c +
                        Num(where.field) + c + Num(rep) + c +
                        Num(where.component) + c + Num(where.subcomponent);
      out += f;
      out += where.segment.empty() ? std::string() : TrimTrailing(erl, c);
      out += f;
      out += code_text + c + esc(text) + c + "HL70357";
      out += f;
      out += SeverityCode(sev);
      out += std::string(4, f);
      out += esc(reason);
    }
    out += '\r';
    if (++written == limit) break;
  }
  return out;
}

std::string BuildAck(const OruReadResult& result, const AckOptions& options) {
  return BuildAck(result.message ? &*result.message : nullptr, result.problems,
                  options, result.salvaged_control_id);
}

std::string BuildFramingAck(const MllpEvent& event, const AckOptions& options) {
  std::vector<Problem> problems = {MllpProblem(event)};
  Result<Message> partial = ParseEr7(event.payload);
  return BuildAck(partial.ok() ? &*partial : nullptr, problems, options,
                  SalvageControlId(event.payload));
}

}  // namespace genogate::mappers::hl7v2

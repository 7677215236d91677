#include "base/issue.h"

namespace genogate {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kFatal:
      return "fatal";
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInformation:
      return "information";
  }
  return "error";
}

void IssueList::Append(const IssueList& other) {
  issues_.insert(issues_.end(), other.issues_.begin(), other.issues_.end());
}

bool IssueList::HasErrors() const {
  for (const Issue& i : issues_) {
    if (i.severity == Severity::kError || i.severity == Severity::kFatal) {
      return true;
    }
  }
  return false;
}

size_t IssueList::Count(Severity s) const {
  size_t n = 0;
  for (const Issue& i : issues_) n += i.severity == s;
  return n;
}

std::string IssueList::ToText() const {
  std::string out;
  for (const Issue& i : issues_) {
    out += SeverityName(i.severity);
    if (!i.code.empty()) out += " [" + i.code + "]";
    if (!i.location.empty()) out += " " + i.location;
    if (i.line != 0) {
      out += " (line " + std::to_string(i.line) + ", col " +
             std::to_string(i.column) + ")";
    }
    out += ": " + i.message + "\n";
  }
  return out;
}

}  // namespace genogate

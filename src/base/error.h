// Error: an operation that could not finish, and what its caller does next.
//
// An Error is never a finding about the data (that is an Issue, see issue.h);
// it says that an operation failed and carries a code that tells the caller
// whether to retry, dead-letter, or answer the client with a 4xx.
//
// Thread-safety: Error is a value type; distinct objects may be used from
// different threads freely.
#ifndef GENOGATE_BASE_ERROR_H_
#define GENOGATE_BASE_ERROR_H_

#include <string>
#include <string_view>

namespace genogate {

enum class ErrorCode {
  // The input cannot be processed as given (syntax, limits, unknown format).
  // Callers answer 400/422 or dead-letter; retrying will not help.
  kInvalidInput,
  // The input is larger or deeper than a configured limit (413 / dead-letter).
  kLimitExceeded,
  // A named thing (file, endpoint, resource, profile) does not exist.
  kNotFound,
  // A peer or dependency is down or answered 5xx/408/429: retry later.
  kUnavailable,
  // An operation did not complete in time: retry later.
  kTimeout,
  // The caller is not who it claims, or did not say (401).
  kUnauthenticated,
  // The caller may not do this (403).
  kPermissionDenied,
  // The operation conflicts with state (duplicate, superseded version).
  kConflict,
  // Configuration or environment is wrong: stop and tell the operator.
  kFailedPrecondition,
  // A local I/O failure (disk full, permission on a file).
  kIo,
  // The operation was cancelled (shutdown).
  kCancelled,
  // A bug: an invariant of genogate itself did not hold.
  kInternal,
};

// Returns a stable lower-case name for `code`, e.g. "invalid-input".
std::string_view ErrorCodeName(ErrorCode code);

// True when the same operation may succeed if it is tried again later
// (kUnavailable, kTimeout).
bool IsRetryable(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return IsRetryable(code_); }

  // "invalid-input: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Error WithContext(std::string_view context) const;

 private:
  ErrorCode code_;
  std::string message_;
};

}  // namespace genogate

#endif  // GENOGATE_BASE_ERROR_H_

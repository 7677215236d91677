// Helpers shared by genogate's YAML configuration parsers (endpoints, the
// server section, the security section): typed scalar reads and key checks
// that report `file:line: key: problem`.
//
// The parsers throw ConfigError inside their own .cc file only and turn it
// into an Error at their public function; nothing here lets an exception
// out of the gateway library.
//
// Thread-safety: stateless functions.
#ifndef GENOGATE_GATEWAY_CONFIG_INTERNAL_YAML_UTIL_H_
#define GENOGATE_GATEWAY_CONFIG_INTERNAL_YAML_UTIL_H_

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>

#include "base/result.h"

namespace genogate::gateway::yaml_util {

// What a parser catches and reports: the 1-based line of the offending
// node, the dotted key path and the problem.
struct ConfigError {
  int line;
  std::string key;
  std::string message;
};

[[noreturn]] inline void Fail(const YAML::Node& node, std::string key,
                              std::string message) {
  throw ConfigError{node.Mark().line + 1, std::move(key), std::move(message)};
}

inline std::string Scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) Fail(node, key, "expected a string");
  return node.Scalar();
}

// A whole number in [min, max] written in decimal digits.
inline int64_t Integer(const YAML::Node& node, const std::string& key,
                       int64_t min, int64_t max) {
  std::string s = Scalar(node, key);
  if (s.empty()) Fail(node, key, "expected a number");
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') Fail(node, key, "expected a whole number");
    if (v > (max - (c - '0')) / 10) {
      Fail(node, key, "must be at most " + std::to_string(max));
    }
    v = v * 10 + (c - '0');
  }
  if (v < min) Fail(node, key, "must be at least " + std::to_string(min));
  return v;
}

inline bool Boolean(const YAML::Node& node, const std::string& key) {
  std::string s = Scalar(node, key);
  if (s == "true") return true;
  if (s == "false") return false;
  Fail(node, key, "expected true or false");
}

// `map` is a mapping whose keys are all in `allowed`; `where` is its own
// key path ("" at the top level).
inline void CheckKeys(const YAML::Node& map, const std::string& where,
                      const std::set<std::string>& allowed) {
  if (!map.IsMap()) Fail(map, where, "expected a mapping");
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string k = Scalar(it->first, where);
    if (!allowed.count(k)) {
      Fail(it->first, where.empty() ? k : where + "." + k, "unknown key");
    }
  }
}

// The kInvalidInput Error for the exception being handled: a ConfigError as
// "file:line: key: problem", a YAML syntax error as "file:line: problem",
// anything else as "file: what". Call only inside a `catch (...)` block of
// a parser's public function (it rethrows the current exception to tell
// them apart and lets none escape).
inline Error CurrentConfigError(const std::string& file) {
  try {
    throw;
  } catch (const ConfigError& e) {
    return Error(ErrorCode::kInvalidInput,
                 file + ":" + std::to_string(e.line) + ": " +
                     (e.key.empty() ? "" : e.key + ": ") + e.message);
  } catch (const YAML::Exception& e) {
    return Error(ErrorCode::kInvalidInput,
                 file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInvalidInput, file + ": " + e.what());
  } catch (...) {
    return Error(ErrorCode::kInvalidInput, file + ": unreadable configuration");
  }
}

}  // namespace genogate::gateway::yaml_util

#endif  // GENOGATE_GATEWAY_CONFIG_INTERNAL_YAML_UTIL_H_

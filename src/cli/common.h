// Helpers shared by the CLI subcommands: loading the FHIR definitions,
// reading inputs, writing outputs, printing errors.
#ifndef GENOGATE_CLI_COMMON_H_
#define GENOGATE_CLI_COMMON_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "gateway/config/endpoint.h"
#include "gateway/security/audit.h"

namespace genogate::cli {

// Options every command that reads FHIR takes.
struct DefinitionOptions {
  std::vector<std::string> packages;  // --package DIR (repeatable)
  std::string package_cache;          // --package-cache DIR
};

void AddDefinitionOptions(CLI::App* app, DefinitionOptions* options);

// The loaded FHIR definitions: the pinned packages plus the user's.
struct Definitions {
  std::unique_ptr<fhir::PackageSet> packages;
  std::unique_ptr<fhir::Schema> schema;
};

Result<Definitions> LoadDefinitions(const DefinitionOptions& options);

// Reads FILE, or standard input for "-".
Result<std::string> ReadInput(const std::string& path, size_t max_bytes);

// Writes to OUT atomically, or to standard output for "" or "-".
Status WriteOutput(const std::string& path, std::string_view data);

// Options of the commands that talk to an endpoint: a named endpoint from a
// configuration file, or a bare URL (--to / --from).
struct EndpointOptions {
  std::string name;    // ENDPOINT or --endpoint NAME
  std::string config;  // --config FILE
  std::string url;     // --to / --from URL
};

// The endpoint the options select: exactly one of (name + config) and url.
// kInvalidInput for a bad combination; otherwise the config file's errors.
Result<gateway::Endpoint> ResolveEndpoint(const EndpointOptions& options);

// Prints "genogate <command>: <error>" to standard error and returns 2.
int Fail(const std::string& command, const Error& error);

// The audit log a one-shot command (pull, queue work) records into: the
// pseudonym key of `audit_key_file`, else the `security.audit` key of the
// config file `config`; neither names a key: null (not audited). Events go
// to the Redis at `redis_url`. Errors: the config's or the key's (context
// "audit key"), a bad URL (context "--redis"), Redis unreachable.
Result<std::unique_ptr<gateway::AuditLog>> OpenCommandAuditLog(
    const std::string& audit_key_file, const std::string& config,
    const std::string& redis_url);

}  // namespace genogate::cli

#endif  // GENOGATE_CLI_COMMON_H_

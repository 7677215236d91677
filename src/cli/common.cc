#include "cli/common.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include "base/file.h"
#include "gateway/security/security_config.h"

namespace genogate::cli {

void AddDefinitionOptions(CLI::App* app, DefinitionOptions* options) {
  app->add_option(
         "--package", options->packages,
         "Extra FHIR package directory (npm-format package or a folder of "
         "conformance resources in JSON or XML; profiles without a snapshot "
         "get "
         "one generated); repeatable")
      ->type_name("DIR");
  app->add_option("--package-cache", options->package_cache,
                  "Where the pinned FHIR packages are (default: "
                  "$GENOGATE_PACKAGE_CACHE, else ~/.cache/genogate/packages)")
      ->type_name("DIR");
}

Result<Definitions> LoadDefinitions(const DefinitionOptions& options) {
  std::vector<std::string> dirs =
      fhir::PackageSet::DefaultDirs(options.package_cache);
  dirs.insert(dirs.end(), options.packages.begin(), options.packages.end());
  Result<std::unique_ptr<fhir::PackageSet>> set = fhir::PackageSet::Open(dirs);
  if (!set.ok()) return set.error();
  Definitions defs;
  defs.packages = std::move(set).value();
  defs.schema = std::make_unique<fhir::Schema>(defs.packages.get());
  return defs;
}

Result<std::string> ReadInput(const std::string& path, size_t max_bytes) {
  if (path != "-") return ReadFile(path, max_bytes);
  std::string data;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) {
    data.append(buf, n);
    if (data.size() > max_bytes) {
      return Error(ErrorCode::kLimitExceeded,
                   "standard input is larger than the limit of " +
                       std::to_string(max_bytes) + " bytes");
    }
  }
  return data;
}

Status WriteOutput(const std::string& path, std::string_view data) {
  if (path.empty() || path == "-") {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() ||
        std::fflush(stdout) != 0) {
      return Error(ErrorCode::kIo, "cannot write to standard output");
    }
    return Status::Ok();
  }
  return WriteFileAtomic(path, data);
}

Result<gateway::Endpoint> ResolveEndpoint(const EndpointOptions& o) {
  if (!o.url.empty()) {
    if (!o.name.empty() || !o.config.empty()) {
      return Error(ErrorCode::kInvalidInput,
                   "give either an endpoint and --config, or a URL, not both");
    }
    return gateway::EndpointFromUrl(o.url);
  }
  if (o.name.empty() || o.config.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "an endpoint name needs --config FILE (or give a URL)");
  }
  Result<std::vector<gateway::Endpoint>> all =
      gateway::LoadEndpointsFile(o.config);
  if (!all.ok()) return all.error();
  return gateway::FindEndpoint(*all, o.name);
}

int Fail(const std::string& command, const Error& error) {
  std::cerr << "genogate " << command << ": " << error.message() << "\n";
  return 2;
}

Result<std::unique_ptr<gateway::AuditLog>> OpenCommandAuditLog(
    const std::string& audit_key_file, const std::string& config,
    const std::string& redis_url) {
  gateway::SecurityConfig sc;
  if (!audit_key_file.empty()) {
    sc.pseudonym_key_file = audit_key_file;
  } else if (!config.empty()) {
    Result<gateway::SecurityConfig> loaded = gateway::LoadSecurityFile(config);
    if (!loaded.ok()) return loaded.error();
    sc = std::move(loaded).value();
  }
  if (sc.pseudonym_key_file.empty() && sc.pseudonym_key_env.empty()) {
    return std::unique_ptr<gateway::AuditLog>();
  }
  Result<std::string> key = gateway::LoadPseudonymKey(sc);
  if (!key.ok()) return key.error().WithContext("audit key");
  Result<gateway::Pseudonymizer> p =
      gateway::Pseudonymizer::Create(std::move(key).value());
  if (!p.ok()) return p.error().WithContext("audit key");
  Result<gateway::RedisOptions> redis =
      gateway::RedisOptions::FromUrl(redis_url);
  if (!redis.ok()) return redis.error().WithContext("--redis");
  gateway::AuditLogOptions ao;
  ao.redis = *redis;
  return gateway::AuditLog::Open(ao, std::move(p).value());
}

}  // namespace genogate::cli

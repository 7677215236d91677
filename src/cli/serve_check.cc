// `genogate serve --check-config` (see serve_wiring.h). This file may
// include the HTTP client family (endpoint.h), never router.h or the API
// routes.
#include <iostream>
#include <string>
#include <vector>

#include "base/file.h"
#include "cli/serve_wiring.h"
#include "gateway/config/endpoint.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/security/security_config.h"

namespace genogate::cli {
namespace {

int CheckFail(const Error& e) {
  std::cerr << "genogate serve: " << e.message() << "\n";
  return 2;
}

// `path` against the directory of `file` (as the section parsers resolve
// relative paths).
std::string Resolve(const std::string& file, const std::string& path) {
  size_t slash = file.rfind('/');
  if (path.empty() || path[0] == '/' || slash == std::string::npos) {
    return path;
  }
  return file.substr(0, slash) + "/" + path;
}

}  // namespace

int RunServeConfigCheck(const ServeConfigCheck& c) {
  std::vector<std::string> files;
  std::vector<std::string> envs;
  std::vector<std::string> warnings;
  auto add_file = [&](const std::string& f) {
    if (!f.empty()) files.push_back(f);
  };
  auto add_secret = [&](const gateway::SecretRef& ref) {
    add_file(ref.file);
    if (!ref.env.empty()) envs.push_back(ref.env);
  };
  for (const std::string& f : c.files) add_file(f);

  // Redis.
  if (!c.redis_url.empty()) {
    Result<gateway::RedisOptions> r =
        gateway::RedisOptions::FromUrl(c.redis_url);
    if (!r.ok()) return CheckFail(r.error().WithContext("redis.url"));
    if (!c.redis_password_env.empty()) envs.push_back(c.redis_password_env);
  } else {
    warnings.push_back(
        "no redis.url: serve starts a private redis-server in its data "
        "directory, which other replicas cannot share");
  }

  // Security (parsed only: the API-key file is a mounted secret).
  gateway::SecurityConfig security;
  if (!c.config_file.empty()) {
    Result<std::string> text = ReadFile(c.config_file, 1 << 20);
    if (!text.ok()) return CheckFail(text.error().WithContext(c.config_file));
    Result<gateway::SecurityConfig> s =
        gateway::ParseSecurityYaml(*text, c.config_file);
    if (!s.ok()) return CheckFail(s.error());
    security = std::move(s).value();
  }
  for (const gateway::JwtIssuerConfig& j : security.jwt) {
    add_file(Resolve(c.config_file, j.jwks_file));
  }
  add_file(Resolve(c.config_file, security.pseudonym_key_file));
  if (!security.pseudonym_key_env.empty()) {
    envs.push_back(security.pseudonym_key_env);
  }
  add_file(Resolve(c.config_file, security.api_keys_file));
  // An API-key file counts as authentication here; serve itself refuses a
  // non-loopback address if the file turns out to hold no key.
  bool auth =
      gateway::AuthConfigured(security) || !security.api_keys_file.empty();
  if (Status s = c.check_listen(auth); !s.ok()) return CheckFail(s.error());

  // Endpoints: the file's, then the flags (as StartServeServices).
  std::vector<gateway::Endpoint> endpoints;
  if (c.config_has_endpoints) {
    Result<std::vector<gateway::Endpoint>> eps =
        gateway::LoadEndpointsFile(c.config_file);
    if (!eps.ok()) return CheckFail(eps.error());
    endpoints = std::move(eps).value();
  }
  for (const std::string& flag : c.endpoint_flags) {
    Result<gateway::Endpoint> e = gateway::ParseEndpointFlag(flag);
    if (!e.ok()) return CheckFail(e.error().WithContext("--endpoint"));
    std::erase_if(endpoints, [&](const gateway::Endpoint& x) {
      return x.name == e->name;
    });
    endpoints.push_back(std::move(e).value());
  }
  if (endpoints.empty()) {
    warnings.push_back(
        "no endpoint configured: deliveries go to a file outbox in the data "
        "directory");
  }
  const auto reclaim = c.queue.reclaim_idle;
  const auto lease = c.queue.report_lease;
  for (const gateway::Endpoint& e : endpoints) {
    add_secret(e.auth.secret);
    add_file(e.ca_file);  // (LoadEndpointsFile resolved these)
    add_file(e.client_cert_file);
    add_file(e.client_key_file);
    if (e.kind == gateway::Endpoint::Kind::kFile) {
      add_file(e.directory);
      continue;
    }
    // One attempt: connect, write the request, read the answer.
    auto attempt = e.connect_timeout + 2 * e.timeout;
    if (attempt >= reclaim) {
      warnings.push_back(
          "endpoint " + e.name + ": one delivery attempt may take up to " +
          std::to_string(attempt.count()) +
          " ms (connect_timeout_ms + 2 x timeout_ms), not less than "
          "queue.reclaim_idle_ms (" +
          std::to_string(reclaim.count()) +
          "): another replica may take over a slow delivery and send it "
          "again");
    }
    if (attempt >= lease) {
      warnings.push_back(
          "endpoint " + e.name +
          ": one delivery attempt may outlast "
          "queue.report_lease_ms (" +
          std::to_string(lease.count()) +
          "): two versions of a report could then be delivered at once");
    }
  }

  // MLLP.
  if (!c.mllp_listen.empty()) {
    Result<std::pair<std::string, uint16_t>> hp =
        gateway::ParseHostPort(c.mllp_listen, /*allow_port_zero=*/true);
    if (!hp.ok()) return CheckFail(hp.error().WithContext("mllp.listen"));
  }

  std::cout << "ok " << (c.config_file.empty() ? "-" : c.config_file) << "\n";
  for (const std::string& f : files) std::cout << "file " << f << "\n";
  for (const std::string& v : envs) std::cout << "env " << v << "\n";
  for (const std::string& w : warnings) std::cout << "warning " << w << "\n";
  return 0;
}

}  // namespace genogate::cli

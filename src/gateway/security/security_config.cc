#include "gateway/security/security_config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <set>

#include "base/file.h"
#include "gateway/config/endpoint.h"
#include "gateway/config/internal/yaml_util.h"
#include "gateway/security/api_key.h"

namespace genogate::gateway {
namespace {

using yaml_util::Boolean;
using yaml_util::CheckKeys;
using yaml_util::ConfigError;
using yaml_util::Fail;
using yaml_util::Integer;
using yaml_util::Scalar;

// A string or a list of strings.
std::vector<std::string> Strings(const YAML::Node& node,
                                 const std::string& key) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      out.push_back(Scalar(node[i], key + "[" + std::to_string(i) + "]"));
    }
  } else {
    Fail(node, key, "expected a string or a list of strings");
  }
  return out;
}

bool ValidLabId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

bool ValidRole(std::string_view r) {
  return r == kRoleLab || r == kRoleAdmin || r == kRoleAuditor ||
         r == kRoleRegistry;
}

std::string RoleProblem(std::string_view r) {
  return "unknown role '" + std::string(r) +
         "' (lab, admin, auditor, registry)";
}

// identity / roles / lab of one grant (keys already checked by the caller).
CallerGrant ParseGrant(const YAML::Node& node, const std::string& at,
                       bool identity_required) {
  CallerGrant g;
  if (node["identity"]) {
    g.identity = Scalar(node["identity"], at + ".identity");
    if (g.identity.empty() || g.identity.size() > 256) {
      Fail(node["identity"], at + ".identity", "must be 1..256 characters");
    }
  } else if (identity_required) {
    Fail(node, at + ".identity", "required");
  }
  if (!node["roles"]) Fail(node, at + ".roles", "required");
  g.roles = Strings(node["roles"], at + ".roles");
  if (g.roles.empty()) Fail(node["roles"], at + ".roles", "must not be empty");
  for (const std::string& r : g.roles) {
    if (!ValidRole(r)) Fail(node["roles"], at + ".roles", RoleProblem(r));
  }
  if (node["lab"]) g.lab = Scalar(node["lab"], at + ".lab");
  bool is_lab =
      std::find(g.roles.begin(), g.roles.end(), kRoleLab) != g.roles.end();
  if (!is_lab && !g.lab.empty()) {
    Fail(node["lab"], at + ".lab", "only for a caller with role lab");
  }
  if (is_lab && g.lab.empty()) g.lab = g.identity;
  if (is_lab && !g.lab.empty() && !ValidLabId(g.lab)) {
    Fail(node["lab"] ? node["lab"] : node, at + ".lab",
         "a lab id is 1..64 characters of [A-Za-z0-9._-]");
  }
  return g;
}

JwtIssuerConfig ParseJwt(const YAML::Node& node, const std::string& at) {
  CheckKeys(node, at,
            {"issuer", "audience", "jwks_file", "jwks_url", "jwks_ttl_seconds",
             "jwks_min_refresh_seconds", "algorithms", "max_lifetime_seconds",
             "identity_claim", "lab_claim", "role_claims", "role_mapping",
             "subjects"});
  JwtIssuerConfig j;
  if (!node["issuer"]) Fail(node, at + ".issuer", "required");
  j.issuer = Scalar(node["issuer"], at + ".issuer");
  if (j.issuer.empty()) Fail(node["issuer"], at + ".issuer", "required");
  if (!node["audience"]) Fail(node, at + ".audience", "required");
  j.audiences = Strings(node["audience"], at + ".audience");
  if (j.audiences.empty() || std::find(j.audiences.begin(), j.audiences.end(),
                                       "") != j.audiences.end()) {
    Fail(node["audience"], at + ".audience", "must not be empty");
  }
  if (node["jwks_file"]) {
    j.jwks_file = Scalar(node["jwks_file"], at + ".jwks_file");
  }
  if (node["jwks_url"]) {
    j.jwks_url = Scalar(node["jwks_url"], at + ".jwks_url");
    // Keys fetched over plain HTTP could be replaced on the way: http:// is
    // only for a loopback identity provider (tests, a local sidecar).
    bool https = j.jwks_url.rfind("https://", 0) == 0 && j.jwks_url.size() > 8;
    bool local_http = false;
    if (j.jwks_url.rfind("http://", 0) == 0) {
      std::string_view authority = std::string_view(j.jwks_url).substr(7);
      authority = authority.substr(0, authority.find_first_of("/?#"));
      Result<std::string> host = ListenHost(authority);
      local_http = host.ok() && IsLoopbackAddress(*host);
    }
    if (!https && !local_http) {
      Fail(node["jwks_url"], at + ".jwks_url",
           "must be an https:// URL (http:// only on a loopback address)");
    }
  }
  if (j.jwks_file.empty() == j.jwks_url.empty()) {
    Fail(node, at, "needs exactly one of jwks_file and jwks_url");
  }
  if (node["jwks_ttl_seconds"]) {
    j.jwks_ttl = std::chrono::seconds(Integer(
        node["jwks_ttl_seconds"], at + ".jwks_ttl_seconds", 1, 86'400 * 7));
  }
  if (node["jwks_min_refresh_seconds"]) {
    j.jwks_min_refresh = std::chrono::seconds(
        Integer(node["jwks_min_refresh_seconds"],
                at + ".jwks_min_refresh_seconds", 0, 86'400));
  }
  if (node["algorithms"]) {
    j.algorithms = Strings(node["algorithms"], at + ".algorithms");
    static const std::set<std::string> kAccepted = {"RS256", "RS384", "PS256",
                                                    "PS384", "ES256", "ES384"};
    for (const std::string& a : j.algorithms) {
      if (!kAccepted.count(a)) {
        Fail(node["algorithms"], at + ".algorithms",
             "algorithm '" + a +
                 "' is not accepted (RS256, RS384, PS256, PS384, ES256, "
                 "ES384)");
      }
    }
  }
  if (node["max_lifetime_seconds"]) {
    j.max_lifetime = std::chrono::seconds(Integer(node["max_lifetime_seconds"],
                                                  at + ".max_lifetime_seconds",
                                                  0, 86'400 * 365));
  }
  if (node["identity_claim"]) {
    j.identity_claim = Scalar(node["identity_claim"], at + ".identity_claim");
  }
  if (node["lab_claim"]) {
    j.lab_claim = Scalar(node["lab_claim"], at + ".lab_claim");
  }
  if (node["role_claims"]) {
    j.role_claims = Strings(node["role_claims"], at + ".role_claims");
  }
  if (const YAML::Node m = node["role_mapping"]) {
    if (!m.IsMap()) Fail(m, at + ".role_mapping", "expected a mapping");
    for (auto it = m.begin(); it != m.end(); ++it) {
      std::string from = Scalar(it->first, at + ".role_mapping");
      std::string role = Scalar(it->second, at + ".role_mapping." + from);
      if (!ValidRole(role)) {
        Fail(it->second, at + ".role_mapping." + from, RoleProblem(role));
      }
      j.role_mapping[from] = role;
    }
  }
  if (const YAML::Node subs = node["subjects"]) {
    if (!subs.IsSequence()) Fail(subs, at + ".subjects", "expected a list");
    for (size_t i = 0; i < subs.size(); ++i) {
      std::string sat = at + ".subjects[" + std::to_string(i) + "]";
      CheckKeys(subs[i], sat, {"subject", "roles", "lab"});
      if (!subs[i]["subject"]) Fail(subs[i], sat + ".subject", "required");
      std::string sub = Scalar(subs[i]["subject"], sat + ".subject");
      YAML::Node copy = YAML::Clone(subs[i]);
      copy["identity"] = sub;
      CallerGrant g = ParseGrant(copy, sat, true);
      if (!j.subjects.emplace(sub, std::move(g)).second) {
        Fail(subs[i]["subject"], sat + ".subject", "duplicate subject");
      }
    }
  }
  return j;
}

// A list of API key entries at `at` ("security.api_keys" or the key
// file's "api_keys"); `hashes` holds the canonical hashes seen so far.
void ParseApiKeys(const YAML::Node& list, const std::string& at_list,
                  std::set<std::string>* hashes,
                  std::vector<ApiKeyEntry>* out) {
  if (!list.IsSequence()) Fail(list, at_list, "expected a list");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = at_list + "[" + std::to_string(i) + "]";
    CheckKeys(list[i], at, {"identity", "hash", "roles", "lab"});
    ApiKeyEntry e;
    if (!list[i]["hash"]) Fail(list[i], at + ".hash", "required");
    e.hash = Scalar(list[i]["hash"], at + ".hash");
    Result<std::array<uint8_t, 32>> parsed = ParseApiKeyHash(e.hash);
    if (!parsed.ok()) {
      Fail(list[i]["hash"], at + ".hash",
           parsed.error().message() +
               " (make one with 'genogate keys api-key'; never the key "
               "itself)");
    }
    std::string canonical(reinterpret_cast<const char*>(parsed->data()),
                          parsed->size());
    if (!hashes->insert(canonical).second) {
      Fail(list[i]["hash"], at + ".hash", "same hash as an earlier key");
    }
    e.grant = ParseGrant(list[i], at, true);
    out->push_back(std::move(e));
  }
}

SecurityConfig ParseSection(const YAML::Node& sec) {
  SecurityConfig c;
  CheckKeys(sec, "security",
            {"clock_skew_seconds", "require_mtls", "jwt", "api_keys",
             "api_keys_file", "mtls", "audit"});
  if (sec["clock_skew_seconds"]) {
    c.clock_skew = std::chrono::seconds(Integer(
        sec["clock_skew_seconds"], "security.clock_skew_seconds", 0, 600));
  }
  if (sec["require_mtls"]) {
    c.require_mtls = Boolean(sec["require_mtls"], "security.require_mtls");
  }
  if (const YAML::Node list = sec["jwt"]) {
    if (!list.IsSequence()) Fail(list, "security.jwt", "expected a list");
    std::set<std::string> issuers;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string at = "security.jwt[" + std::to_string(i) + "]";
      JwtIssuerConfig j = ParseJwt(list[i], at);
      if (!issuers.insert(j.issuer).second) {
        Fail(list[i]["issuer"], at + ".issuer", "duplicate issuer");
      }
      c.jwt.push_back(std::move(j));
    }
  }
  if (const YAML::Node list = sec["api_keys"]) {
    std::set<std::string> hashes;
    ParseApiKeys(list, "security.api_keys", &hashes, &c.api_keys);
  }
  if (sec["api_keys_file"]) {
    c.api_keys_file = Scalar(sec["api_keys_file"], "security.api_keys_file");
    if (c.api_keys_file.empty()) {
      Fail(sec["api_keys_file"], "security.api_keys_file", "empty");
    }
  }
  if (const YAML::Node list = sec["mtls"]) {
    if (!list.IsSequence()) Fail(list, "security.mtls", "expected a list");
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string at = "security.mtls[" + std::to_string(i) + "]";
      CheckKeys(list[i], at, {"subject", "san", "identity", "roles", "lab"});
      MtlsEntry e;
      if (list[i]["subject"]) {
        e.subject = Scalar(list[i]["subject"], at + ".subject");
      }
      if (list[i]["san"]) {
        e.san = Scalar(list[i]["san"], at + ".san");
        static const char* const kPrefixes[] = {
            "DNS:", "URI:", "email:", "IP:"};
        bool ok = false;
        for (const char* p : kPrefixes) {
          if (e.san.rfind(p, 0) == 0 && e.san.size() > std::strlen(p)) {
            ok = true;
          }
        }
        if (!ok) {
          Fail(list[i]["san"], at + ".san",
               "must start with DNS:, URI:, email: or IP:");
        }
      }
      if (e.subject.empty() == e.san.empty()) {
        Fail(list[i], at, "needs exactly one of subject and san");
      }
      if (!seen.insert(e.subject.empty() ? "san " + e.san
                                         : "subject " + e.subject)
               .second) {
        Fail(list[i], at, "duplicate mapping");
      }
      e.grant = ParseGrant(list[i], at, true);
      c.mtls.push_back(std::move(e));
    }
  }
  if (const YAML::Node audit = sec["audit"]) {
    CheckKeys(audit, "security.audit",
              {"pseudonym_key_file", "pseudonym_key_env"});
    if (audit["pseudonym_key_file"]) {
      c.pseudonym_key_file = Scalar(audit["pseudonym_key_file"],
                                    "security.audit.pseudonym_key_file");
    }
    if (audit["pseudonym_key_env"]) {
      c.pseudonym_key_env = Scalar(audit["pseudonym_key_env"],
                                   "security.audit.pseudonym_key_env");
    }
    if (!c.pseudonym_key_file.empty() && !c.pseudonym_key_env.empty()) {
      Fail(audit, "security.audit",
           "needs one of pseudonym_key_file and pseudonym_key_env");
    }
  }
  if (c.require_mtls && c.mtls.empty()) {
    Fail(sec["require_mtls"], "security.require_mtls",
         "needs at least one mapping under security.mtls");
  }
  return c;
}

}  // namespace

Result<SecurityConfig> ParseSecurityYaml(std::string_view yaml,
                                         std::string_view file_name) {
  const std::string file(file_name);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) return SecurityConfig();
    if (!root.IsMap()) Fail(root, "", "expected a mapping");
    const YAML::Node sec = root["security"];
    if (!sec || sec.IsNull()) return SecurityConfig();
    return ParseSection(sec);
  } catch (...) {
    return yaml_util::CurrentConfigError(file);
  }
}

Result<SecurityConfig> LoadSecurityFile(const std::string& path) {
  Result<std::string> text = ReadFile(path, 1 << 20);
  if (!text.ok()) return text.error().WithContext(path);
  Result<SecurityConfig> c = ParseSecurityYaml(*text, path);
  if (!c.ok()) return c;
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  auto resolve = [&](std::string& p) {
    if (!p.empty() && p[0] != '/' && !dir.empty()) p = dir + "/" + p;
  };
  for (JwtIssuerConfig& j : c->jwt) resolve(j.jwks_file);
  resolve(c->pseudonym_key_file);
  resolve(c->api_keys_file);
  if (Status s = LoadApiKeysFile(&*c); !s.ok()) return s.error();
  return c;
}

Status LoadApiKeysFile(SecurityConfig* config) {
  if (config->api_keys_file.empty()) return Status::Ok();
  const std::string& file = config->api_keys_file;
  Result<std::string> text = ReadFile(file, 4 << 20);
  if (!text.ok()) {
    return text.error().WithContext("security.api_keys_file " + file);
  }
  try {
    YAML::Node root = YAML::Load(*text);
    if (root.IsNull()) return Status::Ok();  // an empty file: no keys
    YAML::Node list = root;
    if (root.IsMap()) {
      CheckKeys(root, "", {"api_keys"});
      list = root["api_keys"];
      if (!list || list.IsNull()) return Status::Ok();
    }
    std::set<std::string> hashes;
    for (const ApiKeyEntry& e : config->api_keys) {
      Result<std::array<uint8_t, 32>> h = ParseApiKeyHash(e.hash);
      if (h.ok()) {
        hashes.insert(
            std::string(reinterpret_cast<const char*>(h->data()), h->size()));
      }
    }
    ParseApiKeys(list, "api_keys", &hashes, &config->api_keys);
    return Status::Ok();
  } catch (...) {
    return yaml_util::CurrentConfigError(file);
  }
}

Result<std::string> LoadPseudonymKey(const SecurityConfig& config) {
  if (config.pseudonym_key_file.empty() && config.pseudonym_key_env.empty()) {
    return Error(ErrorCode::kFailedPrecondition,
                 "no audit pseudonym key configured "
                 "(security.audit.pseudonym_key_file or pseudonym_key_env)");
  }
  SecretRef ref;
  ref.file = config.pseudonym_key_file;
  ref.env = config.pseudonym_key_env;
  Result<std::string> key = LoadSecret(ref);
  if (!key.ok()) return key.error().WithContext("audit pseudonym key");
  if (key->size() < 32) {
    return Error(ErrorCode::kFailedPrecondition,
                 "audit pseudonym key: needs at least 32 bytes");
  }
  return key;
}

bool AuthConfigured(const SecurityConfig& config) {
  return !config.jwt.empty() || !config.api_keys.empty() ||
         !config.mtls.empty();
}

bool IsLoopbackAddress(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() > 253) return false;
  std::string h(host);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  if (!h.empty() && h.back() == '.') h.pop_back();  // FQDN form
  if (h == "localhost") return true;
  if (h.size() > 10 && h.compare(h.size() - 10, 10, ".localhost") == 0) {
    return true;
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, h.c_str(), buf) == 1) return buf[0] == 127;
  if (inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    static const unsigned char kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0, 1};
    if (std::memcmp(buf, kLoop, 16) == 0) return true;
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0,    0,
                                              0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(buf, kMapped, 12) == 0 && buf[12] == 127;
  }
  return false;
}

Result<std::string> ListenHost(std::string_view listen) {
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == std::string_view::npos) {
      return Error(ErrorCode::kInvalidInput,
                   "listen address has an unbalanced '['");
    }
    std::string_view rest = listen.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return Error(ErrorCode::kInvalidInput,
                   "listen address: expected ':' after ']'");
    }
    return std::string(listen.substr(1, close - 1));
  }
  if (listen.find(']') != std::string_view::npos) {
    return Error(ErrorCode::kInvalidInput,
                 "listen address has an unbalanced ']'");
  }
  size_t colon = listen.find(':');
  if (colon != std::string_view::npos &&
      listen.find(':', colon + 1) != std::string_view::npos) {
    return std::string(listen);  // bare IPv6 literal without a port
  }
  return std::string(listen.substr(0, colon));
}

Status CheckListenAllowed(const SecurityConfig& config,
                          std::string_view listen) {
  Result<std::string> host = ListenHost(listen);
  if (!host.ok()) return host.error();
  if (AuthConfigured(config) || IsLoopbackAddress(*host)) return Status::Ok();
  return Error(
      ErrorCode::kFailedPrecondition,
      "refusing to listen on " + std::string(listen) +
          " without authentication: anyone who can reach it could submit "
          "and read genomic results. Configure callers under 'security:' in "
          "the config file (jwt issuers, api_keys or mtls mappings; see "
          "docs/architecture.md, Security), or listen on 127.0.0.1");
}

}  // namespace genogate::gateway

#include "gateway/config/endpoint.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <exception>
#include <set>

#include "base/file.h"
#include "gateway/config/internal/yaml_util.h"
#include "gateway/http/oauth2_auth.h"
#include "gateway/queue/delivery_queue.h"

namespace genogate::gateway {
namespace {

using yaml_util::Boolean;
using yaml_util::CheckKeys;
using yaml_util::ConfigError;
using yaml_util::Fail;
using yaml_util::Integer;
using yaml_util::Scalar;

Status ApplyUrl(Endpoint* e) {
  std::string_view url = e->url;
  if (url.substr(0, 7) == "file://") {
    e->kind = Endpoint::Kind::kFile;
    e->directory = std::string(url.substr(7));
    if (e->directory.empty()) {
      return Error(ErrorCode::kInvalidInput, "file:// URL needs a directory");
    }
    return Status::Ok();
  }
  e->kind = Endpoint::Kind::kFhir;
  Result<Url> parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.error();
  if (parsed->target.find('?') != std::string::npos) {
    return Error(ErrorCode::kInvalidInput, "a FHIR base URL has no query");
  }
  return Status::Ok();
}

std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

Endpoint ParseOne(const YAML::Node& node, const std::string& where) {
  if (!node.IsMap()) Fail(node, where, "expected a mapping");
  Endpoint e;
  if (!node["name"]) Fail(node, where + ".name", "required");
  e.name = Scalar(node["name"], where + ".name");
  Status valid = ValidateEndpointName(e.name);
  if (!valid.ok()) {
    Fail(node["name"], where + ".name",
         "must be 1..128 characters of [A-Za-z0-9._-]");
  }
  const std::string at = "endpoint '" + e.name + "'";
  CheckKeys(node, at,
            {"name", "url", "auth", "tls", "proxy", "connect_timeout_ms",
             "timeout_ms", "concurrency", "max_bundle_bytes", "max_attempts",
             "backoff_base_ms", "backoff_cap_ms", "circuit_failures",
             "circuit_cool_down_ms"});
  if (!node["url"]) Fail(node, at + ".url", "required");
  e.url = Scalar(node["url"], at + ".url");
  Status url_ok = ApplyUrl(&e);
  if (!url_ok.ok()) Fail(node["url"], at + ".url", url_ok.error().message());
  if (const YAML::Node auth = node["auth"]) {
    CheckKeys(auth, at + ".auth",
              {"type", "username", "password_file", "password_env",
               "token_file", "token_env", "token_url", "client_id", "scope",
               "client_secret_file", "client_secret_env", "private_key_file",
               "private_key_env", "kid", "jku", "algorithm"});
    std::string type =
        auth["type"] ? Scalar(auth["type"], at + ".auth.type") : "none";
    auto secret = [&](const char* file_key, const char* env_key) {
      SecretRef ref;
      if (auth[file_key]) {
        ref.file = Scalar(auth[file_key], at + ".auth." + file_key);
      }
      if (auth[env_key]) {
        ref.env = Scalar(auth[env_key], at + ".auth." + env_key);
      }
      if (ref.file.empty() == ref.env.empty()) {
        Fail(auth, at + ".auth",
             std::string("needs exactly one of ") + file_key + " and " +
                 env_key);
      }
      return ref;
    };
    if (type == "none") {
      e.auth.type = EndpointAuth::Type::kNone;
    } else if (type == "basic") {
      e.auth.type = EndpointAuth::Type::kBasic;
      if (!auth["username"]) Fail(auth, at + ".auth.username", "required");
      e.auth.username = Scalar(auth["username"], at + ".auth.username");
      e.auth.secret = secret("password_file", "password_env");
    } else if (type == "bearer") {
      e.auth.type = EndpointAuth::Type::kBearer;
      e.auth.secret = secret("token_file", "token_env");
    } else if (type == "oauth2_client_credentials" || type == "smart_backend") {
      const bool smart = type == "smart_backend";
      e.auth.type = smart ? EndpointAuth::Type::kSmartBackend
                          : EndpointAuth::Type::kOAuth2ClientCredentials;
      auto required = [&](const char* key) {
        if (!auth[key]) Fail(auth, at + ".auth." + key, "required");
        std::string v = Scalar(auth[key], at + ".auth." + key);
        if (v.empty()) Fail(auth[key], at + ".auth." + key, "is empty");
        return v;
      };
      e.auth.token_url = required("token_url");
      if (!ParseUrl(e.auth.token_url).ok()) {
        Fail(auth["token_url"], at + ".auth.token_url",
             "must be an http:// or https:// URL");
      }
      e.auth.client_id = required("client_id");
      if (auth["scope"])
        e.auth.scope = Scalar(auth["scope"], at + ".auth.scope");
      const char* other = smart ? "client_secret_file" : "private_key_file";
      if (auth[other] ||
          auth[smart ? "client_secret_env" : "private_key_env"]) {
        Fail(auth, at + ".auth",
             smart ? "smart_backend uses a private key, not a client secret"
                   : "oauth2_client_credentials uses a client secret, not a "
                     "private key");
      }
      if (smart) {
        e.auth.kid = required("kid");
        if (auth["jku"]) {
          e.auth.jku = Scalar(auth["jku"], at + ".auth.jku");
          if (!ParseUrl(e.auth.jku).ok()) {
            Fail(auth["jku"], at + ".auth.jku", "must be an http(s) URL");
          }
        }
        if (auth["algorithm"]) {
          e.auth.algorithm = Scalar(auth["algorithm"], at + ".auth.algorithm");
          if (e.auth.algorithm != "RS384" && e.auth.algorithm != "ES384") {
            Fail(auth["algorithm"], at + ".auth.algorithm",
                 "must be RS384 or ES384");
          }
        }
        e.auth.secret = secret("private_key_file", "private_key_env");
      } else {
        if (auth["kid"] || auth["jku"] || auth["algorithm"]) {
          Fail(auth, at + ".auth",
               "kid, jku and algorithm belong to smart_backend");
        }
        e.auth.secret = secret("client_secret_file", "client_secret_env");
      }
    } else {
      Fail(auth["type"], at + ".auth.type",
           "must be none, basic, bearer, oauth2_client_credentials or "
           "smart_backend");
    }
  }
  if (const YAML::Node tls = node["tls"]) {
    CheckKeys(tls, at + ".tls", {"ca_file", "client_cert", "client_key"});
    if (tls["ca_file"]) e.ca_file = Scalar(tls["ca_file"], at + ".tls.ca_file");
    if (tls["client_cert"]) {
      e.client_cert_file = Scalar(tls["client_cert"], at + ".tls.client_cert");
    }
    if (tls["client_key"]) {
      e.client_key_file = Scalar(tls["client_key"], at + ".tls.client_key");
    }
    if (e.client_cert_file.empty() != e.client_key_file.empty()) {
      Fail(tls, at + ".tls", "client_cert and client_key go together");
    }
  }
  if (node["proxy"]) {
    e.proxy_url = Scalar(node["proxy"], at + ".proxy");
    Result<Url> p = ParseUrl(e.proxy_url);
    if (!p.ok() || p->scheme != "http") {
      Fail(node["proxy"], at + ".proxy", "must be an http:// URL");
    }
  }
  if (node["connect_timeout_ms"]) {
    e.connect_timeout = std::chrono::milliseconds(Integer(
        node["connect_timeout_ms"], at + ".connect_timeout_ms", 1, 600'000));
  }
  if (node["timeout_ms"]) {
    e.timeout = std::chrono::milliseconds(
        Integer(node["timeout_ms"], at + ".timeout_ms", 1, 3'600'000));
  }
  if (node["concurrency"]) {
    e.concurrency = static_cast<int>(
        Integer(node["concurrency"], at + ".concurrency", 1, 256));
  }
  if (node["max_bundle_bytes"]) {
    e.max_bundle_bytes = static_cast<size_t>(Integer(node["max_bundle_bytes"],
                                                     at + ".max_bundle_bytes",
                                                     1, int64_t{1} << 32));
  }
  if (node["max_attempts"]) {
    e.max_attempts = static_cast<int>(
        Integer(node["max_attempts"], at + ".max_attempts", 1, 1000));
  }
  auto millis = [&](const char* key, int64_t min, int64_t max,
                    std::chrono::milliseconds* out) {
    if (node[key]) {
      *out = std::chrono::milliseconds(
          Integer(node[key], at + "." + key, min, max));
    }
  };
  millis("backoff_base_ms", 1, 3'600'000, &e.backoff_base);
  millis("backoff_cap_ms", 1, 24 * 3'600'000, &e.backoff_cap);
  millis("circuit_cool_down_ms", 1, 3'600'000, &e.circuit_cool_down);
  if (node["circuit_failures"]) {
    e.circuit_failures = static_cast<int>(
        Integer(node["circuit_failures"], at + ".circuit_failures", 1, 1000));
  }
  if (e.backoff_cap < e.backoff_base) {
    Fail(node["backoff_cap_ms"] ? node["backoff_cap_ms"] : node,
         at + ".backoff_cap_ms", "must be at least backoff_base_ms");
  }
  return e;
}

}  // namespace

HttpClientOptions Endpoint::HttpOptions() const {
  HttpClientOptions o;
  o.connect_timeout = connect_timeout;
  o.io_timeout = timeout;
  o.ca_file = ca_file;
  o.client_cert_file = client_cert_file;
  o.client_key_file = client_key_file;
  o.proxy_url = proxy_url;
  o.max_idle_per_host = concurrency < 4 ? 4 : concurrency;
  return o;
}

Result<std::string> LoadSecret(const SecretRef& ref) {
  if (!ref.env.empty()) {
    const char* v = std::getenv(ref.env.c_str());
    if (v == nullptr || *v == '\0') {
      return Error(ErrorCode::kNotFound,
                   "environment variable " + ref.env + " is not set");
    }
    return std::string(v);
  }
  if (ref.file.empty()) {
    return Error(ErrorCode::kInvalidInput, "no secret configured");
  }
  struct stat st {};
  if (::stat(ref.file.c_str(), &st) != 0) {
    return Error(ErrorCode::kNotFound,
                 "secret file " + ref.file + " does not exist");
  }
  if ((st.st_mode & 0006) != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "secret file " + ref.file +
                     " is readable or writable by others (chmod o-rw)");
  }
  Result<std::string> text = ReadFile(ref.file, 64 * 1024);
  if (!text.ok()) {
    return Error(text.error().code(), "cannot read secret file " + ref.file);
  }
  std::string s = std::move(text).value();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "secret file " + ref.file + " is empty");
  }
  return s;
}

Result<std::vector<Endpoint>> ParseEndpointsYaml(std::string_view yaml,
                                                 std::string_view file_name) {
  const std::string file(file_name);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap()) Fail(root, "", "expected a mapping with 'endpoints'");
    // The other sections of the same file have their own parsers
    // (server_config.h and those of the security and MLLP settings).
    CheckKeys(root, "",
              {"endpoints", "server", "redis", "queue", "security", "mllp"});
    const YAML::Node list = root["endpoints"];
    if (!list || !list.IsSequence()) {
      Fail(list ? list : root, "endpoints", "expected a list of endpoints");
    }
    std::vector<Endpoint> out;
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      Endpoint e = ParseOne(list[i], "endpoints[" + std::to_string(i) + "]");
      if (!names.insert(e.name).second) {
        Fail(list[i]["name"], "endpoints[" + std::to_string(i) + "].name",
             "duplicate endpoint name '" + e.name + "'");
      }
      out.push_back(std::move(e));
    }
    return out;
  } catch (...) {
    return yaml_util::CurrentConfigError(file);
  }
}

Result<std::vector<Endpoint>> LoadEndpointsFile(const std::string& path) {
  Result<std::string> text = ReadFile(path, 1 << 20);
  if (!text.ok()) return text.error().WithContext(path);
  Result<std::vector<Endpoint>> eps = ParseEndpointsYaml(*text, path);
  if (!eps.ok()) return eps;
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  for (Endpoint& e : *eps) {
    e.ca_file = Resolve(dir, e.ca_file);
    e.client_cert_file = Resolve(dir, e.client_cert_file);
    e.client_key_file = Resolve(dir, e.client_key_file);
    e.auth.secret.file = Resolve(dir, e.auth.secret.file);
    if (e.kind == Endpoint::Kind::kFile)
      e.directory = Resolve(dir, e.directory);
  }
  return eps;
}

Result<Endpoint> ParseEndpointFlag(std::string_view flag) {
  size_t eq = flag.find('=');
  if (eq == std::string_view::npos) {
    return Error(ErrorCode::kInvalidInput, "--endpoint expects NAME=URL");
  }
  Endpoint e;
  e.name = std::string(flag.substr(0, eq));
  Status valid = ValidateEndpointName(e.name);
  if (!valid.ok()) return valid.error().WithContext("--endpoint");
  e.url = std::string(flag.substr(eq + 1));
  Status s = ApplyUrl(&e);
  if (!s.ok()) return s.error().WithContext("--endpoint " + e.name);
  return e;
}

Result<Endpoint> EndpointFromUrl(std::string_view url) {
  return ParseEndpointFlag("cli=" + std::string(url));
}

Result<Endpoint> FindEndpoint(const std::vector<Endpoint>& endpoints,
                              std::string_view name) {
  for (const Endpoint& e : endpoints) {
    if (e.name == name) return e;
  }
  return Error(ErrorCode::kNotFound,
               "no endpoint named '" + std::string(name) + "'");
}

Result<std::unique_ptr<AuthProvider>> MakeAuthProvider(const Endpoint& e,
                                                       const Clock* clock) {
  if (e.auth.type == EndpointAuth::Type::kNone) return NewNoAuth();
  Result<std::string> first = LoadSecret(e.auth.secret);
  if (!first.ok()) {
    return Error(ErrorCode::kFailedPrecondition,
                 "endpoint '" + e.name + "': " + first.error().message());
  }
  SecretRef ref = e.auth.secret;
  SecretLoader loader = [ref] { return LoadSecret(ref); };
  if (e.auth.type == EndpointAuth::Type::kBasic) {
    return NewBasicAuth(e.auth.username, std::move(loader));
  }
  if (e.auth.type == EndpointAuth::Type::kOAuth2ClientCredentials ||
      e.auth.type == EndpointAuth::Type::kSmartBackend) {
    Result<std::unique_ptr<HttpClient>> http = NewHttpClient(e.HttpOptions());
    if (!http.ok())
      return http.error().WithContext("endpoint '" + e.name + "'");
    OAuth2Options o;
    o.token_url = e.auth.token_url;
    o.client_id = e.auth.client_id;
    o.scope = e.auth.scope;
    if (e.auth.type == EndpointAuth::Type::kSmartBackend) {
      o.private_key = std::move(loader);
      o.kid = e.auth.kid;
      o.jku = e.auth.jku;
      o.algorithm = e.auth.algorithm;
    } else {
      o.client_secret = std::move(loader);
    }
    Result<std::unique_ptr<AuthProvider>> a =
        NewOAuth2Auth(std::move(o), std::move(http).value(), clock);
    if (!a.ok()) return a.error().WithContext("endpoint '" + e.name + "'");
    return a;
  }
  return NewBearerAuth(std::move(loader));
}

}  // namespace genogate::gateway

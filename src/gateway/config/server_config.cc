#include "gateway/config/server_config.h"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <set>

#include "base/file.h"
#include "gateway/config/internal/yaml_util.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/queue/redis_client.h"
#include "gateway/server/log.h"

namespace genogate::gateway {
namespace {

using yaml_util::Boolean;
using yaml_util::CheckKeys;
using yaml_util::ConfigError;
using yaml_util::Fail;
using yaml_util::Integer;
using yaml_util::Scalar;

std::chrono::milliseconds Millis(const YAML::Node& node,
                                 const std::string& key) {
  return std::chrono::milliseconds(Integer(node, key, 1, 86'400'000));
}

TlsMinVersion MinVersion(const YAML::Node& node, const std::string& key) {
  TlsMinVersion v;
  if (!ParseTlsMinVersion(Scalar(node, key), &v)) {
    Fail(node, key, "must be \"1.2\" or \"1.3\" (older versions are refused)");
  }
  return v;
}

// A path option: present means non-empty.
std::string Path(const YAML::Node& node, const std::string& key) {
  std::string p = Scalar(node, key);
  if (p.empty()) Fail(node, key, "empty");
  return p;
}

// The `mllp:` section: the MLLP listener's address, TLS, limits and
// timeouts.
void ParseMllp(const YAML::Node& m, ServerConfig* c) {
  CheckKeys(m, "mllp",
            {"listen", "tls", "max_message_bytes", "max_connections",
             "idle_timeout_ms", "read_timeout_ms", "write_timeout_ms"});
  MllpListenerOptions& o = c->mllp;
  if (m["listen"]) {
    c->mllp_listen = Scalar(m["listen"], "mllp.listen");
    Result<std::pair<std::string, uint16_t>> hp =
        ParseHostPort(c->mllp_listen, /*allow_port_zero=*/true);
    if (!hp.ok()) Fail(m["listen"], "mllp.listen", hp.error().message());
    o.host = hp->first;
    o.port = hp->second;
  }
  if (const YAML::Node tls = m["tls"]) {
    CheckKeys(tls, "mllp.tls",
              {"cert_file", "key_file", "client_ca_file", "min_version"});
    MllpTlsOptions& t = o.tls_options;
    if (tls["cert_file"]) {
      t.cert_file = Path(tls["cert_file"], "mllp.tls.cert_file");
    }
    if (tls["key_file"]) {
      t.key_file = Path(tls["key_file"], "mllp.tls.key_file");
    }
    if (tls["client_ca_file"]) {
      t.client_ca_file = Path(tls["client_ca_file"], "mllp.tls.client_ca_file");
    }
    if (tls["min_version"]) {
      t.min_version = MinVersion(tls["min_version"], "mllp.tls.min_version");
    }
    if (t.cert_file.empty() || t.key_file.empty()) {
      Fail(tls, "mllp.tls", "cert_file and key_file are both required");
    }
    o.tls = true;
  }
  if (m["max_message_bytes"]) {
    o.max_message_bytes = static_cast<size_t>(Integer(m["max_message_bytes"],
                                                      "mllp.max_message_bytes",
                                                      1024, int64_t{1} << 30));
  }
  if (m["max_connections"]) {
    o.max_connections = static_cast<size_t>(
        Integer(m["max_connections"], "mllp.max_connections", 1, 100'000));
  }
  if (m["idle_timeout_ms"]) {
    o.idle_timeout = Millis(m["idle_timeout_ms"], "mllp.idle_timeout_ms");
  }
  if (m["read_timeout_ms"]) {
    o.read_timeout = Millis(m["read_timeout_ms"], "mllp.read_timeout_ms");
  }
  if (m["write_timeout_ms"]) {
    o.write_timeout = Millis(m["write_timeout_ms"], "mllp.write_timeout_ms");
  }
}

ServerConfig ParseServer(const YAML::Node& s) {
  ServerConfig c;
  CheckKeys(
      s, "server",
      {"listen", "data_dir", "log_level", "insecure_allow_unauthenticated",
       "tls", "threads", "limits", "shutdown_grace_ms"});
  if (s["listen"]) {
    c.listen = Scalar(s["listen"], "server.listen");
    Status ok = ParseListenAddress(c.listen, &c.http.host, &c.http.port);
    if (!ok.ok()) Fail(s["listen"], "server.listen", ok.error().message());
  }
  if (s["data_dir"]) {
    c.data_dir = Scalar(s["data_dir"], "server.data_dir");
    if (c.data_dir.empty()) Fail(s["data_dir"], "server.data_dir", "empty");
  }
  if (s["log_level"]) {
    c.log_level = Scalar(s["log_level"], "server.log_level");
    LogLevel level;
    if (!ParseLogLevel(c.log_level, &level)) {
      Fail(s["log_level"], "server.log_level",
           "must be debug, info, warn or error");
    }
  }
  if (s["insecure_allow_unauthenticated"]) {
    c.insecure_allow_unauthenticated =
        Boolean(s["insecure_allow_unauthenticated"],
                "server.insecure_allow_unauthenticated");
  }
  if (const YAML::Node tls = s["tls"]) {
    CheckKeys(tls, "server.tls",
              {"cert_file", "key_file", "client_ca_file", "min_version"});
    if (tls["cert_file"]) {
      c.http.tls_cert_file = Scalar(tls["cert_file"], "server.tls.cert_file");
    }
    if (tls["key_file"]) {
      c.http.tls_key_file = Scalar(tls["key_file"], "server.tls.key_file");
    }
    if (tls["client_ca_file"]) {
      c.http.client_ca_file =
          Scalar(tls["client_ca_file"], "server.tls.client_ca_file");
    }
    if (tls["min_version"]) {
      c.http.tls_min_version =
          MinVersion(tls["min_version"], "server.tls.min_version");
    }
    if (c.http.tls_cert_file.empty() != c.http.tls_key_file.empty()) {
      Fail(tls, "server.tls", "cert_file and key_file go together");
    }
    if (!c.http.client_ca_file.empty() && c.http.tls_cert_file.empty()) {
      Fail(tls, "server.tls", "client_ca_file needs cert_file and key_file");
    }
  }
  if (const YAML::Node t = s["threads"]) {
    CheckKeys(t, "server.threads", {"network", "handlers", "queue"});
    if (t["network"]) {
      c.http.network_threads = static_cast<int>(
          Integer(t["network"], "server.threads.network", 1, 64));
    }
    if (t["handlers"]) {
      c.http.handler_threads = static_cast<int>(
          Integer(t["handlers"], "server.threads.handlers", 1, 1024));
    }
    if (t["queue"]) {
      c.http.handler_queue = static_cast<size_t>(
          Integer(t["queue"], "server.threads.queue", 0, 1'000'000));
    }
  }
  if (const YAML::Node l = s["limits"]) {
    const std::string at = "server.limits";
    CheckKeys(l, at,
              {"max_connections", "max_header_bytes", "max_body_bytes",
               "body_bytes_by_type", "header_timeout_ms", "body_timeout_ms",
               "idle_timeout_ms", "write_timeout_ms", "retry_after_seconds"});
    if (l["max_connections"]) {
      c.http.max_connections = static_cast<size_t>(
          Integer(l["max_connections"], at + ".max_connections", 1, 1'000'000));
    }
    if (l["max_header_bytes"]) {
      c.http.max_header_bytes = static_cast<size_t>(Integer(
          l["max_header_bytes"], at + ".max_header_bytes", 1024, 1 << 20));
    }
    if (l["max_body_bytes"]) {
      c.http.max_body_bytes = static_cast<size_t>(Integer(
          l["max_body_bytes"], at + ".max_body_bytes", 0, int64_t{1} << 34));
    }
    if (const YAML::Node by = l["body_bytes_by_type"]) {
      if (!by.IsMap())
        Fail(by, at + ".body_bytes_by_type", "expected a mapping");
      c.http.body_limits.clear();
      for (auto it = by.begin(); it != by.end(); ++it) {
        std::string type = Scalar(it->first, at + ".body_bytes_by_type");
        std::string key = at + ".body_bytes_by_type." + type;
        if (type.find('/') == std::string::npos ||
            type.find(';') != std::string::npos) {
          Fail(it->first, key, "expected a media type like text/x-vcf");
        }
        for (char& ch : type) {
          if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        }
        c.http.body_limits.emplace_back(
            type,
            static_cast<size_t>(Integer(it->second, key, 0, int64_t{1} << 34)));
      }
    }
    if (l["header_timeout_ms"]) {
      c.http.header_timeout =
          Millis(l["header_timeout_ms"], at + ".header_timeout_ms");
    }
    if (l["body_timeout_ms"]) {
      c.http.body_timeout =
          Millis(l["body_timeout_ms"], at + ".body_timeout_ms");
    }
    if (l["idle_timeout_ms"]) {
      c.http.idle_timeout =
          Millis(l["idle_timeout_ms"], at + ".idle_timeout_ms");
    }
    if (l["write_timeout_ms"]) {
      c.http.write_timeout =
          Millis(l["write_timeout_ms"], at + ".write_timeout_ms");
    }
    if (l["retry_after_seconds"]) {
      c.http.retry_after_seconds = static_cast<int>(Integer(
          l["retry_after_seconds"], at + ".retry_after_seconds", 1, 3600));
    }
  }
  if (s["shutdown_grace_ms"]) {
    c.shutdown_grace = std::chrono::milliseconds(Integer(
        s["shutdown_grace_ms"], "server.shutdown_grace_ms", 0, 3'600'000));
  }
  return c;
}

std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

}  // namespace

Status ParseListenAddress(std::string_view listen, std::string* host,
                          uint16_t* port) {
  std::string_view h, p;
  if (!listen.empty() && listen[0] == '[') {
    size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() ||
        listen[close + 1] != ':') {
      return Error(ErrorCode::kInvalidInput, "expected [IPv6]:PORT");
    }
    h = listen.substr(1, close - 1);
    p = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos || listen.find(':') != colon) {
      return Error(ErrorCode::kInvalidInput, "expected HOST:PORT");
    }
    h = listen.substr(0, colon);
    p = listen.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) {
    return Error(ErrorCode::kInvalidInput, "expected HOST:PORT");
  }
  uint32_t v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') {
      return Error(ErrorCode::kInvalidInput, "the port must be a number");
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return Error(ErrorCode::kInvalidInput, "port out of range");
  *host = std::string(h);
  *port = static_cast<uint16_t>(v);
  return Status::Ok();
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  if (host.substr(0, 4) != "127.") return false;
  // 127.a.b.c with numbers only.
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

Status CheckListenSafety(const ServerConfig& config) {
  // insecure_allow_unauthenticated opens MLLP only (CheckMllpListenSafety),
  // never the HTTP API.
  if (IsLoopbackHost(config.http.host)) return Status::Ok();
  if (config.authentication_configured) return Status::Ok();
  return Error(
      ErrorCode::kFailedPrecondition,
      "refusing to listen on " + config.http.host +
          " without authentication: anyone who can reach it could submit "
          "and read genomic results. Listen on 127.0.0.1 (the default), or "
          "configure callers in the config file's 'security:' section "
          "(--config FILE): api_keys (make a key and its hash with "
          "'genogate keys api-key'), jwt issuers with a JWKS, or mtls "
          "mappings of client certificates (with --tls-cert, --tls-key and "
          "--client-ca); see docs/security.md");
}

Status CheckMllpListenSafety(const ServerConfig& config,
                             std::string_view listen) {
  if (listen.empty()) return Status::Ok();
  Result<std::pair<std::string, uint16_t>> hp =
      ParseHostPort(listen, /*allow_port_zero=*/true);
  if (!hp.ok()) return hp.error().WithContext("MLLP listen address");
  if (IsLoopbackHost(hp->first)) return Status::Ok();
  const MllpListenerOptions& m = config.mllp;
  if (m.tls && !m.tls_options.client_ca_file.empty()) return Status::Ok();
  if (config.insecure_allow_unauthenticated) return Status::Ok();
  return Error(
      ErrorCode::kFailedPrecondition,
      "refusing MLLP on " + hp->first +
          " without client certificates: anyone who can reach it could "
          "submit results as any lab. Listen on 127.0.0.1, require client "
          "certificates (mllp.tls with cert_file, key_file and "
          "client_ca_file in the config), or, behind a gateway that "
          "authenticates the labs, opt in with "
          "--insecure-allow-unauthenticated "
          "(server.insecure_allow_unauthenticated: true)");
}

Result<ServerConfig> ParseServerConfigYaml(std::string_view yaml,
                                           std::string_view file_name,
                                           bool* has_endpoints) {
  const std::string file(file_name);
  if (has_endpoints != nullptr) *has_endpoints = false;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) return ServerConfig();
    CheckKeys(root, "",
              {"server", "endpoints", "redis", "queue", "security", "mllp"});
    if (has_endpoints != nullptr) {
      *has_endpoints = static_cast<bool>(root["endpoints"]);
    }
    ServerConfig c;
    if (root["server"]) c = ParseServer(root["server"]);
    if (const YAML::Node r = root["redis"]) {
      CheckKeys(r, "redis", {"url", "password_env"});
      if (r["url"]) {
        c.redis_url = Scalar(r["url"], "redis.url");
        Result<RedisOptions> parsed = RedisOptions::FromUrl(c.redis_url);
        if (!parsed.ok()) Fail(r["url"], "redis.url", parsed.error().message());
      }
      if (r["password_env"]) {
        c.redis_password_env = Scalar(r["password_env"], "redis.password_env");
      }
    }
    if (const YAML::Node q = root["queue"]) {
      CheckKeys(q, "queue",
                {"key_file", "high_water_mark", "reclaim_idle_ms",
                 "report_lease_ms"});
      if (q["key_file"]) {
        c.queue_key_file = Scalar(q["key_file"], "queue.key_file");
      }
      if (q["reclaim_idle_ms"]) {
        c.queue.reclaim_idle = std::chrono::milliseconds(Integer(
            q["reclaim_idle_ms"], "queue.reclaim_idle_ms", 1000, 86'400'000));
      }
      if (q["report_lease_ms"]) {
        c.queue.report_lease = std::chrono::milliseconds(Integer(
            q["report_lease_ms"], "queue.report_lease_ms", 1000, 86'400'000));
      }
      if (q["high_water_mark"]) {
        c.queue_high_water_mark = Integer(
            q["high_water_mark"], "queue.high_water_mark", 0, 1'000'000'000);
      }
    }
    if (const YAML::Node m = root["mllp"]; m && !m.IsNull()) {
      ParseMllp(m, &c);
    }
    return c;
  } catch (...) {
    return yaml_util::CurrentConfigError(file);
  }
}

Result<ServerConfig> LoadServerConfigFile(const std::string& path,
                                          bool* has_endpoints) {
  Result<std::string> text = ReadFile(path, 1 << 20);
  if (!text.ok()) return text.error().WithContext(path);
  Result<ServerConfig> config =
      ParseServerConfigYaml(*text, path, has_endpoints);
  if (!config.ok()) return config;
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  config->data_dir = Resolve(dir, config->data_dir);
  config->http.tls_cert_file = Resolve(dir, config->http.tls_cert_file);
  config->http.tls_key_file = Resolve(dir, config->http.tls_key_file);
  config->http.client_ca_file = Resolve(dir, config->http.client_ca_file);
  config->queue_key_file = Resolve(dir, config->queue_key_file);
  MllpTlsOptions& mt = config->mllp.tls_options;
  mt.cert_file = Resolve(dir, mt.cert_file);
  mt.key_file = Resolve(dir, mt.key_file);
  mt.client_ca_file = Resolve(dir, mt.client_ca_file);
  return config;
}

}  // namespace genogate::gateway

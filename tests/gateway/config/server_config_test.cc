#include "gateway/config/server_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace genogate::gateway {
namespace {

TEST(ServerConfigTest, ParsesEverySetting) {
  bool has_endpoints = false;
  Result<ServerConfig> c = ParseServerConfigYaml(R"(
server:
  listen: "[::1]:9443"
  data_dir: /var/lib/genogate
  log_level: warn
  insecure_allow_unauthenticated: true
  tls:
    cert_file: gw.pem
    key_file: gw.key
    client_ca_file: labs.pem
  threads: {network: 2, handlers: 16, queue: 100}
  limits:
    max_connections: 64
    max_header_bytes: 8192
    max_body_bytes: 1000000
    body_bytes_by_type:
      Text/X-VCF: 500000000
      application/fhir+json: 2000000
    header_timeout_ms: 5000
    body_timeout_ms: 60000
    idle_timeout_ms: 15000
    write_timeout_ms: 20000
    retry_after_seconds: 9
  shutdown_grace_ms: 1234
redis:
  url: redis://127.0.0.1:6380/2
  password_env: GW_REDIS_PASSWORD
queue: {key_file: /etc/genogate/queue.key, high_water_mark: 250,
        reclaim_idle_ms: 4000, report_lease_ms: 9000}
security: {api_keys_file: keys.yaml}
mllp: {listen: "0.0.0.0:2575"}
endpoints:
  - name: ehr
    url: https://ehr.example.org/fhir
)",
                                                 "gw.yaml", &has_endpoints);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_TRUE(has_endpoints);
  EXPECT_EQ(c->http.host, "::1");
  EXPECT_EQ(c->http.port, 9443);
  EXPECT_EQ(c->data_dir, "/var/lib/genogate");
  EXPECT_EQ(c->redis_url, "redis://127.0.0.1:6380/2");
  EXPECT_EQ(c->redis_password_env, "GW_REDIS_PASSWORD");
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_TRUE(c->insecure_allow_unauthenticated);
  EXPECT_EQ(c->http.tls_cert_file, "gw.pem");
  EXPECT_EQ(c->http.client_ca_file, "labs.pem");
  EXPECT_EQ(c->http.network_threads, 2);
  EXPECT_EQ(c->http.handler_threads, 16);
  EXPECT_EQ(c->http.handler_queue, 100u);
  EXPECT_EQ(c->http.max_connections, 64u);
  EXPECT_EQ(c->http.max_header_bytes, 8192u);
  EXPECT_EQ(c->http.max_body_bytes, 1000000u);
  ASSERT_EQ(c->http.body_limits.size(), 2u);
  EXPECT_EQ(c->http.body_limits[0].first, "text/x-vcf");
  EXPECT_EQ(c->http.body_limits[0].second, 500000000u);
  EXPECT_EQ(c->http.header_timeout.count(), 5000);
  EXPECT_EQ(c->http.body_timeout.count(), 60000);
  EXPECT_EQ(c->http.idle_timeout.count(), 15000);
  EXPECT_EQ(c->http.write_timeout.count(), 20000);
  EXPECT_EQ(c->http.retry_after_seconds, 9);
  EXPECT_EQ(c->shutdown_grace.count(), 1234);
  EXPECT_EQ(c->queue_key_file, "/etc/genogate/queue.key");
  EXPECT_EQ(c->queue_high_water_mark, 250);
  EXPECT_EQ(c->queue.reclaim_idle.count(), 4000);
  EXPECT_EQ(c->queue.report_lease.count(), 9000);
  EXPECT_EQ(c->mllp_listen, "0.0.0.0:2575");
}

TEST(ServerConfigTest, DefaultsAreSafe) {
  Result<ServerConfig> empty = ParseServerConfigYaml("", "gw.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->http.host, "127.0.0.1");
  EXPECT_EQ(empty->http.port, 8080);
  EXPECT_TRUE(empty->redis_url.empty());
  EXPECT_EQ(empty->queue_high_water_mark, 10'000);
  EXPECT_TRUE(CheckListenSafety(*empty).ok());
}

TEST(ServerConfigTest, ErrorsNameFileLineAndKey) {
  auto err = [](const std::string& yaml) {
    Result<ServerConfig> c = ParseServerConfigYaml(yaml, "gw.yaml");
    return c.ok() ? std::string("ok") : c.error().message();
  };
  EXPECT_EQ(err("server:\n  listen: nowhere\n"),
            "gw.yaml:2: server.listen: expected HOST:PORT");
  EXPECT_EQ(err("server:\n  colour: red\n"),
            "gw.yaml:2: server.colour: unknown key");
  EXPECT_EQ(err("server:\n  limits:\n    max_connections: 0\n"),
            "gw.yaml:3: server.limits.max_connections: must be at least 1");
  EXPECT_EQ(err("server:\n  tls:\n    cert_file: a.pem\n"),
            "gw.yaml:3: server.tls: cert_file and key_file go together");
  EXPECT_EQ(err("redis:\n  url: http://x\n").substr(0, 22),
            "gw.yaml:2: redis.url: ");
  EXPECT_EQ(err("server:\n  redis: redis://x/0\n"),
            "gw.yaml:2: server.redis: unknown key");
  EXPECT_EQ(err("server:\n  log_level: loud\n"),
            "gw.yaml:2: server.log_level: must be debug, info, warn or error");
  EXPECT_EQ(err("servers: {}\n"), "gw.yaml:1: servers: unknown key");
  EXPECT_EQ(err("queue:\n  high_water_mark: lots\n"),
            "gw.yaml:2: queue.high_water_mark: expected a whole number");
  EXPECT_EQ(err("queue:\n  reclaim_idle: 5\n"),
            "gw.yaml:2: queue.reclaim_idle: unknown key");
  EXPECT_EQ(err("queue:\n  reclaim_idle_ms: 10\n"),
            "gw.yaml:2: queue.reclaim_idle_ms: must be at least 1000");
  EXPECT_EQ(err("server:\n  insecure_allow_unauthenticated: yes please\n"),
            "gw.yaml:2: server.insecure_allow_unauthenticated: expected true "
            "or false");
}

TEST(ServerConfigTest, MllpSectionSetsEveryListenerOption) {
  Result<ServerConfig> c = ParseServerConfigYaml(R"(
server:
  tls: {cert_file: gw.pem, key_file: gw.key, min_version: "1.3"}
mllp:
  listen: "[::]:2576"
  tls:
    cert_file: /etc/gg/mllp.pem
    key_file: /etc/gg/mllp.key
    client_ca_file: /etc/gg/labs.pem
    min_version: 1.3
  max_message_bytes: 2097152
  max_connections: 32
  idle_timeout_ms: 120000
  read_timeout_ms: 7000
  write_timeout_ms: 8000
)",
                                                 "gw.yaml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->http.tls_min_version, TlsMinVersion::kTls13);
  EXPECT_EQ(c->mllp_listen, "[::]:2576");
  const MllpListenerOptions& m = c->mllp;
  EXPECT_EQ(m.host, "::");
  EXPECT_EQ(m.port, 2576);
  EXPECT_TRUE(m.tls);
  EXPECT_EQ(m.tls_options.cert_file, "/etc/gg/mllp.pem");
  EXPECT_EQ(m.tls_options.key_file, "/etc/gg/mllp.key");
  EXPECT_EQ(m.tls_options.client_ca_file, "/etc/gg/labs.pem");
  EXPECT_EQ(m.tls_options.min_version, TlsMinVersion::kTls13);
  EXPECT_EQ(m.max_message_bytes, 2097152u);
  EXPECT_EQ(m.max_connections, 32u);
  EXPECT_EQ(m.idle_timeout.count(), 120000);
  EXPECT_EQ(m.read_timeout.count(), 7000);
  EXPECT_EQ(m.write_timeout.count(), 8000);
}

TEST(ServerConfigTest, MllpDefaults) {
  Result<ServerConfig> c =
      ParseServerConfigYaml("mllp:\n  listen: 127.0.0.1:2575\n", "gw.yaml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->mllp.host, "127.0.0.1");
  EXPECT_EQ(c->mllp.port, 2575);
  EXPECT_FALSE(c->mllp.tls);
  EXPECT_EQ(c->mllp.max_message_bytes, size_t{10} << 20);  // 10 MB
  EXPECT_EQ(c->mllp.max_connections, 256u);
  EXPECT_EQ(c->mllp.tls_options.min_version, TlsMinVersion::kTls12);
  EXPECT_EQ(c->http.tls_min_version, TlsMinVersion::kTls12);
  Result<ServerConfig> none = ParseServerConfigYaml("mllp:\n", "gw.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->mllp_listen.empty());
}

TEST(ServerConfigTest, MllpBadValuesNameTheKey) {
  auto err = [](const std::string& yaml) {
    Result<ServerConfig> c = ParseServerConfigYaml(yaml, "gw.yaml");
    return c.ok() ? std::string("ok") : c.error().message();
  };
  const std::string l = "mllp:\n  listen: 127.0.0.1:2575\n";
  EXPECT_EQ(err("mllp:\n  listen: nowhere\n"),
            "gw.yaml:2: mllp.listen: expected HOST:PORT (IPv6 in brackets), "
            "got \"nowhere\"");
  EXPECT_EQ(err("mllp:\n  listen: 127.0.0.1:99999\n"),
            "gw.yaml:2: mllp.listen: bad port in \"127.0.0.1:99999\"");
  EXPECT_EQ(err("mllp: 2575\n"), "gw.yaml:1: mllp: expected a mapping");
  EXPECT_EQ(err(l + "  port: 2575\n"), "gw.yaml:3: mllp.port: unknown key");
  EXPECT_EQ(err(l + "  tls:\n    cert_file: a.pem\n"),
            "gw.yaml:4: mllp.tls: cert_file and key_file are both required");
  EXPECT_EQ(err(l + "  tls:\n    key_file: a.key\n"),
            "gw.yaml:4: mllp.tls: cert_file and key_file are both required");
  EXPECT_EQ(err(l + "  tls:\n    client_ca_file: ca.pem\n"),
            "gw.yaml:4: mllp.tls: cert_file and key_file are both required");
  EXPECT_EQ(err(l + "  tls:\n    cert_file: \"\"\n    key_file: k\n"),
            "gw.yaml:4: mllp.tls.cert_file: empty");
  EXPECT_EQ(err(l + "  tls:\n    cert_file: c\n    key_file: k\n    "
                    "min_version: \"1.1\"\n"),
            "gw.yaml:6: mllp.tls.min_version: must be \"1.2\" or \"1.3\" "
            "(older versions are refused)");
  EXPECT_EQ(err(l + "  tls:\n    cert_file: c\n    key_file: k\n    "
                    "ciphers: ALL\n"),
            "gw.yaml:6: mllp.tls.ciphers: unknown key");
  EXPECT_EQ(err(l + "  max_message_bytes: 10MB\n"),
            "gw.yaml:3: mllp.max_message_bytes: expected a whole number");
  EXPECT_EQ(err(l + "  max_message_bytes: 100\n"),
            "gw.yaml:3: mllp.max_message_bytes: must be at least 1024");
  EXPECT_EQ(err(l + "  max_message_bytes: 2147483648\n"),
            "gw.yaml:3: mllp.max_message_bytes: must be at most 1073741824");
  EXPECT_EQ(err(l + "  max_connections: 0\n"),
            "gw.yaml:3: mllp.max_connections: must be at least 1");
  EXPECT_EQ(err(l + "  idle_timeout_ms: 0\n"),
            "gw.yaml:3: mllp.idle_timeout_ms: must be at least 1");
  EXPECT_EQ(err(l + "  read_timeout_ms: -5\n"),
            "gw.yaml:3: mllp.read_timeout_ms: expected a whole number");
  EXPECT_EQ(err(l + "  write_timeout_ms: 86400001\n"),
            "gw.yaml:3: mllp.write_timeout_ms: must be at most 86400000");
  EXPECT_EQ(err("server:\n  tls:\n    min_version: TLSv1\n"),
            "gw.yaml:3: server.tls.min_version: must be \"1.2\" or \"1.3\" "
            "(older versions are refused)");
}

TEST(ServerConfigTest, MllpTlsPathsAreRelativeToTheFile) {
  std::string t =
      (std::filesystem::temp_directory_path() / "genogate-cfg-XXXXXX").string();
  ASSERT_NE(::mkdtemp(t.data()), nullptr);
  std::ofstream(t + "/gw.yaml")
      << "mllp:\n  listen: 127.0.0.1:0\n  tls:\n    cert_file: m.pem\n"
         "    key_file: /abs/m.key\n    client_ca_file: ca/labs.pem\n";
  Result<ServerConfig> c = LoadServerConfigFile(t + "/gw.yaml");
  std::filesystem::remove_all(t);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->mllp.tls_options.cert_file, t + "/m.pem");
  EXPECT_EQ(c->mllp.tls_options.key_file, "/abs/m.key");
  EXPECT_EQ(c->mllp.tls_options.client_ca_file, t + "/ca/labs.pem");
}

TEST(ServerConfigTest, NonLoopbackMllpNeedsClientCertificatesOrOptIn) {
  ServerConfig c;
  EXPECT_TRUE(CheckMllpListenSafety(c, "").ok());
  EXPECT_TRUE(CheckMllpListenSafety(c, "127.0.0.1:2575").ok());
  EXPECT_TRUE(CheckMllpListenSafety(c, "[::1]:2575").ok());
  EXPECT_EQ(CheckMllpListenSafety(c, "nowhere").error().code(),
            ErrorCode::kInvalidInput);
  Status refused = CheckMllpListenSafety(c, "0.0.0.0:2575");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("client_ca_file"),
            std::string::npos);
  // API keys or JWT authenticate HTTP callers, not MLLP senders.
  c.authentication_configured = true;
  EXPECT_FALSE(CheckMllpListenSafety(c, "0.0.0.0:2575").ok());
  c.mllp.tls = true;
  c.mllp.tls_options.cert_file = "m.pem";
  c.mllp.tls_options.key_file = "m.key";
  EXPECT_FALSE(CheckMllpListenSafety(c, "0.0.0.0:2575").ok());  // TLS alone
  c.mllp.tls_options.client_ca_file = "labs.pem";
  EXPECT_TRUE(CheckMllpListenSafety(c, "0.0.0.0:2575").ok());
  ServerConfig opt_in;
  opt_in.insecure_allow_unauthenticated = true;
  EXPECT_TRUE(CheckMllpListenSafety(opt_in, "[::]:2575").ok());
}

TEST(ServerConfigTest, ListenAddresses) {
  std::string host;
  uint16_t port = 1;
  ASSERT_TRUE(ParseListenAddress("0.0.0.0:0", &host, &port).ok());
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(ParseListenAddress("::1:80", &host, &port).ok());
  EXPECT_FALSE(ParseListenAddress("host:65536", &host, &port).ok());
  EXPECT_FALSE(ParseListenAddress(":80", &host, &port).ok());
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("127.evil.com"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
}

TEST(ServerConfigTest, NonLoopbackNeedsConfiguredCallers) {
  ServerConfig c;
  c.http.host = "0.0.0.0";
  Status refused = CheckListenSafety(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("'security:'"), std::string::npos);
  EXPECT_NE(refused.error().message().find("genogate keys api-key"),
            std::string::npos);
  c.http.tls_cert_file = "a";
  c.http.tls_key_file = "b";
  EXPECT_FALSE(CheckListenSafety(c).ok());  // TLS alone authenticates no one
  // A client CA alone maps no certificate to a caller and a role.
  c.http.client_ca_file = "ca";
  EXPECT_FALSE(CheckListenSafety(c).ok());
  ServerConfig authenticated;
  authenticated.http.host = "0.0.0.0";
  authenticated.authentication_configured = true;
  EXPECT_TRUE(CheckListenSafety(authenticated).ok());
  // The MLLP opt-in never opens the HTTP API.
  ServerConfig opt_in;
  opt_in.http.host = "192.0.2.1";
  opt_in.insecure_allow_unauthenticated = true;
  Status s = CheckListenSafety(opt_in);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("'security:'"), std::string::npos);
  EXPECT_EQ(s.error().message().find("insecure"), std::string::npos);
  opt_in.http.host = "127.0.0.1";
  EXPECT_TRUE(CheckListenSafety(opt_in).ok());
}

}  // namespace
}  // namespace genogate::gateway

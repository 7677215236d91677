#include "gateway/config/endpoint.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "base/file.h"
#include "gateway/delivery/worker.h"

namespace genogate::gateway {
namespace {

TEST(EndpointConfigTest, ParsesFullEndpoint) {
  Result<std::vector<Endpoint>> eps = ParseEndpointsYaml(R"(
endpoints:
  - name: ehr-main
    url: https://ehr.example.org/fhir
    auth:
      type: bearer
      token_env: GENOGATE_TEST_TOKEN
    tls:
      ca_file: ca.pem
      client_cert: me.pem
      client_key: me.key
    proxy: http://127.0.0.1:3128
    connect_timeout_ms: 2000
    timeout_ms: 30000
    concurrency: 3
    max_bundle_bytes: 1000
    max_attempts: 7
  - name: outbox
    url: file://out
)",
                                                         "gg.yaml");
  ASSERT_TRUE(eps.ok()) << eps.error().ToString();
  ASSERT_EQ(eps->size(), 2u);
  const Endpoint& e = (*eps)[0];
  EXPECT_EQ(e.name, "ehr-main");
  EXPECT_EQ(e.kind, Endpoint::Kind::kFhir);
  EXPECT_EQ(e.auth.type, EndpointAuth::Type::kBearer);
  EXPECT_EQ(e.auth.secret.env, "GENOGATE_TEST_TOKEN");
  EXPECT_EQ(e.client_key_file, "me.key");
  EXPECT_EQ(e.timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(e.concurrency, 3);
  EXPECT_EQ(e.max_bundle_bytes, 1000u);
  EXPECT_EQ(e.max_attempts, 7);
  EXPECT_EQ(e.HttpOptions().proxy_url, "http://127.0.0.1:3128");
  EXPECT_EQ((*eps)[1].kind, Endpoint::Kind::kFile);
  EXPECT_EQ((*eps)[1].directory, "out");

  ::setenv("GENOGATE_TEST_TOKEN", "s3cret", 1);
  Result<std::unique_ptr<AuthProvider>> auth = MakeAuthProvider(e);
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(*(*auth)->Authorization(), "Bearer s3cret");
  ::unsetenv("GENOGATE_TEST_TOKEN");
  Result<std::unique_ptr<AuthProvider>> missing = MakeAuthProvider(e);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("GENOGATE_TEST_TOKEN"),
            std::string::npos);
}

TEST(EndpointConfigTest, ErrorsNameFileLineAndKey) {
  auto err = [](const char* yaml) {
    Result<std::vector<Endpoint>> r = ParseEndpointsYaml(yaml, "conf.yaml");
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().message();
  };
  EXPECT_EQ(
      err("endpoints:\n  - name: a\n    url: http://x/\n    colour: red\n"),
      "conf.yaml:4: endpoint 'a'.colour: unknown key");
  EXPECT_EQ(
      err("endpoints:\n  - name: a\n    url: ftp://x/\n"),
      "conf.yaml:3: endpoint 'a'.url: bad URL: scheme must be http or https");
  EXPECT_EQ(err("endpoints:\n  - name: a\n    url: http://x/\n    concurrency: "
                "lots\n"),
            "conf.yaml:4: endpoint 'a'.concurrency: expected a whole number");
  EXPECT_EQ(err("endpoints:\n  - name: a\n    url: http://x/\n  - name: a\n    "
                "url: http://y/\n"),
            "conf.yaml:4: endpoints[1].name: duplicate endpoint name 'a'");
  EXPECT_EQ(err("endpoints:\n  - name: a\n    url: http://x/\n    auth:\n      "
                "type: bearer\n"),
            "conf.yaml:5: endpoint 'a'.auth: needs exactly one of token_file "
            "and token_env");
  EXPECT_EQ(err("endpoints:\n  - url: http://x/\n"),
            "conf.yaml:2: endpoints[0].name: required");
  std::string syntax = err("endpoints: [\n");
  EXPECT_EQ(syntax.rfind("conf.yaml:", 0), 0u) << syntax;
}

TEST(EndpointConfigTest, FlagAndSecrets) {
  Result<Endpoint> e = ParseEndpointFlag("ehr=http://127.0.0.1:8080/fhir");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "ehr");
  EXPECT_FALSE(ParseEndpointFlag("no-url").ok());
  EXPECT_FALSE(ParseEndpointFlag("bad name=http://x/").ok());
  EXPECT_FALSE(ParseEndpointFlag("a=http://user:pw@x/").ok());

  std::string dir = (std::filesystem::temp_directory_path() /
                     ("genogate-secret-" + std::to_string(::getpid())))
                        .string();
  std::filesystem::create_directories(dir);
  std::string f = dir + "/token";
  ASSERT_TRUE(WriteFileAtomic(f, "abc\n").ok());
  ::chmod(f.c_str(), 0600);
  SecretRef ref;
  ref.file = f;
  EXPECT_EQ(*LoadSecret(ref), "abc");
  ::chmod(f.c_str(), 0644);
  Result<std::string> loose = LoadSecret(ref);
  ASSERT_FALSE(loose.ok());
  EXPECT_EQ(loose.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(loose.error().message().find("abc"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// The same file holds the `server:` section (server_config.h parses it).
TEST(EndpointConfigTest, AcceptsTheServerSection) {
  Result<std::vector<Endpoint>> eps = ParseEndpointsYaml(
      "server:\n  listen: 127.0.0.1:1\nendpoints:\n  - name: a\n    url: "
      "file:///srv/out\n",
      "gw.yaml");
  ASSERT_TRUE(eps.ok()) << eps.error().ToString();
  EXPECT_EQ(eps->size(), 1u);
}

}  // namespace
}  // namespace genogate::gateway

namespace genogate::gateway {
namespace {

TEST(EndpointConfigTest, RetryAndCircuitSettings) {
  Result<std::vector<Endpoint>> eps = ParseEndpointsYaml(R"(
endpoints:
  - name: ehr
    url: http://ehr.example.org/fhir
    backoff_base_ms: 200
    backoff_cap_ms: 5000
    circuit_failures: 3
    circuit_cool_down_ms: 4000
)",
                                                         "gg.yaml");
  ASSERT_TRUE(eps.ok()) << eps.error().ToString();
  const Endpoint& e = (*eps)[0];
  EXPECT_EQ(e.backoff_base, std::chrono::milliseconds(200));
  EXPECT_EQ(e.circuit_failures, 3);
  EXPECT_EQ(e.circuit_cool_down, std::chrono::milliseconds(4000));
  WorkerOptions w = WorkerOptionsFor(e, "c");
  EXPECT_EQ(w.backoff_cap, std::chrono::milliseconds(5000));
  Result<std::vector<Endpoint>> bad = ParseEndpointsYaml(
      "endpoints:\n  - name: e\n    url: http://x.org/fhir\n"
      "    backoff_base_ms: 100\n    backoff_cap_ms: 50\n",
      "gg.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "gg.yaml:5: endpoint 'e'.backoff_cap_ms: must be at least "
            "backoff_base_ms");
}

}  // namespace
}  // namespace genogate::gateway

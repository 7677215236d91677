#include "gateway/security/security_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gateway/security/api_key.h"

namespace genogate::gateway {
namespace {

std::string Hash(const std::string& key) { return *HashApiKey(key); }

const std::string kKeyA = "gg_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

TEST(SecurityConfigTest, ParsesEverySection) {
  std::string yaml = R"(endpoints: []
security:
  clock_skew_seconds: 30
  jwt:
    - issuer: https://idp.test
      audience: [genogate, https://genogate.test]
      jwks_file: keys/jwks.json
      algorithms: [RS256, ES256]
      lab_claim: genogate_lab
      role_claims: scope
      role_mapping:
        genogate/lab.submit: lab
        genogate/admin: admin
      subjects:
        - subject: acme-client
          roles: [lab]
          lab: acme
    - issuer: https://other.test
      audience: genogate
      jwks_url: https://other.test/jwks
      jwks_ttl_seconds: 600
      jwks_min_refresh_seconds: 10
  api_keys:
    - identity: acme-uploader
      hash: )" + Hash(kKeyA) +
                     R"(
      roles: [lab]
    - identity: dpo
      hash: )" + Hash(kKeyA + "b") +
                     R"(
      roles: [auditor]
  mtls:
    - subject: "CN=acme-lab,O=Acme Genomics,C=GB"
      identity: acme-lab
      roles: lab
      lab: acme
    - san: "DNS:ops.hospital.test"
      identity: ops
      roles: [admin, auditor]
  audit:
    pseudonym_key_file: secrets/audit.key
)";
  Result<SecurityConfig> c = ParseSecurityYaml(yaml, "genogate.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->clock_skew, std::chrono::seconds(30));
  ASSERT_EQ(c->jwt.size(), 2u);
  EXPECT_EQ(c->jwt[0].audiences,
            (std::vector<std::string>{"genogate", "https://genogate.test"}));
  EXPECT_EQ(c->jwt[0].jwks_file, "keys/jwks.json");
  EXPECT_EQ(c->jwt[0].role_claims, std::vector<std::string>{"scope"});
  EXPECT_EQ(c->jwt[0].role_mapping.at("genogate/admin"), "admin");
  EXPECT_EQ(c->jwt[0].subjects.at("acme-client").lab, "acme");
  EXPECT_EQ(c->jwt[1].jwks_url, "https://other.test/jwks");
  EXPECT_EQ(c->jwt[1].jwks_ttl, std::chrono::seconds(600));
  EXPECT_EQ(c->jwt[1].role_claims,
            (std::vector<std::string>{"scope", "scp", "roles"}));
  ASSERT_EQ(c->api_keys.size(), 2u);
  EXPECT_EQ(c->api_keys[0].grant.identity, "acme-uploader");
  EXPECT_EQ(c->api_keys[0].grant.lab, "acme-uploader");  // defaulted
  EXPECT_EQ(c->api_keys[1].grant.lab, "");
  ASSERT_EQ(c->mtls.size(), 2u);
  EXPECT_EQ(c->mtls[0].grant.roles, std::vector<std::string>{"lab"});
  EXPECT_EQ(c->mtls[1].san, "DNS:ops.hospital.test");
  EXPECT_EQ(c->pseudonym_key_file, "secrets/audit.key");
  EXPECT_TRUE(AuthConfigured(*c));

  // Plain http only for a loopback identity provider.
  EXPECT_TRUE(ParseSecurityYaml("security:\n  jwt:\n    - {issuer: x, "
                                "audience: a, jwks_url: "
                                "\"http://127.0.0.1:8081/jwks\"}\n",
                                "g.yaml")
                  .ok());

  // No section: nothing configured.
  Result<SecurityConfig> none = ParseSecurityYaml("endpoints: []\n", "g.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(AuthConfigured(*none));
  EXPECT_TRUE(ParseSecurityYaml("", "g.yaml").ok());
}

TEST(SecurityConfigTest, ErrorsNameFileLineAndKey) {
  const std::string h = Hash(kKeyA);
  struct Case {
    std::string yaml;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"security:\n  colour: red\n", "g.yaml:2: security.colour: unknown key"},
      {"security:\n  jwt:\n    - issuer: x\n      audience: a\n",
       "g.yaml:3: security.jwt[0]: needs exactly one of jwks_file and "
       "jwks_url"},
      {"security:\n  jwt:\n    - issuer: x\n      audience: a\n"
       "      jwks_file: a\n      algorithms: [HS256]\n",
       "g.yaml:6: security.jwt[0].algorithms: algorithm 'HS256' is not "
       "accepted (RS256, RS384, PS256, PS384, ES256, ES384)"},
      {"security:\n  jwt:\n    - issuer: x\n      jwks_file: a\n",
       "g.yaml:3: security.jwt[0].audience: required"},
      {"security:\n  jwt:\n    - issuer: x\n      audience: a\n"
       "      jwks_url: ftp://x/\n",
       "g.yaml:5: security.jwt[0].jwks_url: must be an https:// URL"},
      {"security:\n  jwt:\n    - issuer: x\n      audience: a\n"
       "      jwks_url: http://idp.example.org/jwks\n",
       "g.yaml:5: security.jwt[0].jwks_url: must be an https:// URL (http:// "
       "only on a loopback address)"},
      {"security:\n  jwt:\n    - issuer: x\n      audience: a\n"
       "      jwks_file: a\n      role_mapping:\n        s: superuser\n",
       "g.yaml:7: security.jwt[0].role_mapping.s: unknown role 'superuser' "
       "(lab, admin, auditor, registry)"},
      {"security:\n  jwt:\n    - {issuer: x, audience: a, jwks_file: a}\n"
       "    - {issuer: x, audience: b, jwks_file: b}\n",
       "g.yaml:4: security.jwt[1].issuer: duplicate issuer"},
      {"security:\n  api_keys:\n    - identity: a\n      hash: plain-key\n"
       "      roles: [lab]\n",
       "g.yaml:4: security.api_keys[0].hash: an API key hash must be "
       "\"sha256:\" and 64 hex digits (make one with 'genogate keys "
       "api-key'; never the key itself)"},
      {"security:\n  api_keys:\n    - identity: a\n      hash: " + h +
           "\n      roles: [lab]\n    - identity: b\n      hash: " + h +
           "\n      roles: [lab]\n",
       "g.yaml:7: security.api_keys[1].hash: same hash as an earlier key"},
      {"security:\n  api_keys:\n    - identity: a\n      hash: " + h + "\n",
       "g.yaml:3: security.api_keys[0].roles: required"},
      {"security:\n  api_keys:\n    - identity: a b\n      hash: " + h +
           "\n      roles: [lab]\n",
       "g.yaml:3: security.api_keys[0].lab: a lab id is 1..64 characters of "
       "[A-Za-z0-9._-]"},
      {"security:\n  api_keys:\n    - identity: a\n      hash: " + h +
           "\n      roles: [admin]\n      lab: acme\n",
       "g.yaml:6: security.api_keys[0].lab: only for a caller with role lab"},
      {"security:\n  mtls:\n    - identity: a\n      roles: [lab]\n",
       "g.yaml:3: security.mtls[0]: needs exactly one of subject and san"},
      {"security:\n  mtls:\n    - san: host.test\n      identity: a\n"
       "      roles: [lab]\n",
       "g.yaml:3: security.mtls[0].san: must start with DNS:, URI:, email: "
       "or IP:"},
      {"security:\n  require_mtls: true\n",
       "g.yaml:2: security.require_mtls: needs at least one mapping under "
       "security.mtls"},
      {"security:\n  clock_skew_seconds: 9000\n",
       "g.yaml:2: security.clock_skew_seconds: must be at most 600"},
      {"security:\n  audit:\n    pseudonym_key_file: a\n"
       "    pseudonym_key_env: B\n",
       "g.yaml:3: security.audit: needs one of pseudonym_key_file and "
       "pseudonym_key_env"},
      {"security: [1\n", "g.yaml:2: "},
  };
  for (const Case& c : cases) {
    Result<SecurityConfig> r = ParseSecurityYaml(c.yaml, "g.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(r.error().message().substr(0, c.error.size()), c.error)
        << r.error().message();
    // Hash values are never quoted.
    EXPECT_EQ(r.error().message().find(h.substr(7)), std::string::npos);
  }
}

TEST(SecurityConfigTest, LoadFileResolvesPathsAndKeyFilesMustBePrivate) {
  std::string dir = ::testing::TempDir() + "/secconf-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  {
    std::ofstream f(dir + "/genogate.yaml");
    f << "security:\n  jwt:\n    - {issuer: x, audience: a, jwks_file: "
         "k.json}\n  audit:\n    pseudonym_key_file: audit.key\n";
  }
  Result<SecurityConfig> c = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->jwt[0].jwks_file, dir + "/k.json");
  EXPECT_EQ(c->pseudonym_key_file, dir + "/audit.key");

  EXPECT_EQ(LoadPseudonymKey(*c).error().code(), ErrorCode::kNotFound);
  const std::string key(40, 'k');
  {
    std::ofstream f(dir + "/audit.key");
    f << key << "\n";
  }
  ASSERT_EQ(chmod((dir + "/audit.key").c_str(), 0644), 0);
  Result<std::string> refused = LoadPseudonymKey(*c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.error().message().find(key), std::string::npos);
  ASSERT_EQ(chmod((dir + "/audit.key").c_str(), 0600), 0);
  Result<std::string> loaded = LoadPseudonymKey(*c);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(*loaded, key);

  SecurityConfig env;
  env.pseudonym_key_env = "GENOGATE_TEST_AUDIT_KEY";
  ::setenv("GENOGATE_TEST_AUDIT_KEY", "short", 1);
  EXPECT_EQ(LoadPseudonymKey(env).error().code(),
            ErrorCode::kFailedPrecondition);
  ::unsetenv("GENOGATE_TEST_AUDIT_KEY");
  EXPECT_EQ(LoadPseudonymKey(env).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(LoadPseudonymKey(SecurityConfig()).error().code(),
            ErrorCode::kFailedPrecondition);
  std::filesystem::remove_all(dir);
}

// The Helm chart mounts the API-key entries as a separate file.
TEST(SecurityConfigTest, ApiKeysFileEntriesAreAppended) {
  std::string dir = ::testing::TempDir() + "/seckeys-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string a = *HashApiKey(std::string(40, 'a'));
  const std::string b = *HashApiKey(std::string(40, 'b'));
  std::ofstream(dir + "/genogate.yaml")
      << "security:\n  api_keys:\n    - {identity: ops, hash: " << a
      << ", roles: [admin]}\n  api_keys_file: keys/api-keys.yaml\n";
  // Missing file: named.
  Result<SecurityConfig> c = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.error().message().find("keys/api-keys.yaml"), std::string::npos);
  std::filesystem::create_directories(dir + "/keys");
  // An empty file: no extra keys.
  std::ofstream(dir + "/keys/api-keys.yaml") << "";
  c = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->api_keys.size(), 1u);
  // Entries as `genogate keys api-key --identity` prints them.
  std::ofstream(dir + "/keys/api-keys.yaml")
      << "- identity: acme-uploader\n  hash: " << b
      << "\n  roles: [lab]\n  lab: acme\n";
  c = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->api_keys_file, dir + "/keys/api-keys.yaml");
  ASSERT_EQ(c->api_keys.size(), 2u);
  EXPECT_EQ(c->api_keys[1].grant.identity, "acme-uploader");
  EXPECT_EQ(c->api_keys[1].grant.lab, "acme");
  EXPECT_TRUE(AuthConfigured(*c));
  // A hash already in the config, or a bad entry: file, line and key.
  std::ofstream(dir + "/keys/api-keys.yaml")
      << "- identity: x\n  hash: " << b << "\n  roles: [lab]\n"
      << "- identity: y\n  hash: " << a << "\n  roles: [lab]\n";
  c = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("api-keys.yaml:5: api_keys[1].hash: "
                                     "same hash as an earlier key"),
            std::string::npos)
      << c.error().message();
  std::ofstream(dir + "/keys/api-keys.yaml") << "identity: x\n";
  c = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("identity: unknown key"),
            std::string::npos)
      << c.error().message();
  std::filesystem::remove_all(dir);
}

// The Helm chart keeps the API-key hashes in a Secret mounted as a file
// (security.api_keys_file), apart from the ConfigMap.
TEST(SecurityConfigTest, ApiKeysFileAddsKeysAndNamesItsOwnLines) {
  std::string dir = ::testing::TempDir() + "/secconf-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string kKeyB = "gg_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  {
    std::ofstream f(dir + "/genogate.yaml");
    f << "security:\n  api_keys:\n    - {identity: a, hash: \"" << Hash(kKeyA)
      << "\", roles: [admin]}\n"
      << "  api_keys_file: auth/keys.yaml\n";
  }
  std::filesystem::create_directories(dir + "/auth");
  // Parsing names the file without reading it.
  Result<SecurityConfig> parsed =
      ParseSecurityYaml("security: {api_keys_file: auth/keys.yaml}\n", "x");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->api_keys_file, "auth/keys.yaml");
  EXPECT_FALSE(AuthConfigured(*parsed));

  Result<SecurityConfig> missing = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("security.api_keys_file"),
            std::string::npos)
      << missing.error().message();

  {
    std::ofstream f(dir + "/auth/keys.yaml");
    f << "- identity: lab-b\n  hash: \"" << Hash(kKeyB)
      << "\"\n  roles: [lab]\n";
  }
  Result<SecurityConfig> c = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->api_keys_file, dir + "/auth/keys.yaml");
  ASSERT_EQ(c->api_keys.size(), 2u);
  EXPECT_EQ(c->api_keys[1].grant.identity, "lab-b");
  EXPECT_EQ(c->api_keys[1].grant.lab, "lab-b");

  // Under `api_keys:` too; a hash of the config's own list is a duplicate.
  {
    std::ofstream f(dir + "/auth/keys.yaml");
    f << "api_keys:\n  - identity: again\n    hash: \"" << Hash(kKeyA)
      << "\"\n    roles: [lab]\n";
  }
  Result<SecurityConfig> dup = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message(),
            dir +
                "/auth/keys.yaml:3: api_keys[0].hash: same hash as an "
                "earlier key");
  // An empty file holds no keys.
  { std::ofstream f(dir + "/auth/keys.yaml"); }
  Result<SecurityConfig> none = LoadSecurityFile(dir + "/genogate.yaml");
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_EQ(none->api_keys.size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(LoopbackTest, RecognisesLoopbackAddressesOnly) {
  for (const char* h :
       {"127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "[::1]",
        "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "[::ffff:127.0.0.2]",
        "localhost", "LOCALHOST", "localhost.", "gateway.localhost"}) {
    EXPECT_TRUE(IsLoopbackAddress(h)) << h;
  }
  for (const char* h : {"",
                        "0.0.0.0",
                        "::",
                        "[::]",
                        "10.0.0.1",
                        "192.168.1.10",
                        "128.0.0.1",
                        "126.255.255.255",
                        "::2",
                        "fe80::1",
                        "::ffff:10.0.0.1",
                        "2001:db8::1",
                        "example.org",
                        "localhost.example.org",
                        "notlocalhost",
                        "127.0.0.1.nip.io",
                        "127.0.0.01x",
                        "[::1",
                        "::1]",
                        "1.2.3.4.5"}) {
    EXPECT_FALSE(IsLoopbackAddress(h)) << h;
  }
}

TEST(LoopbackTest, ListenHostSplitsPorts) {
  EXPECT_EQ(*ListenHost("127.0.0.1:8080"), "127.0.0.1");
  EXPECT_EQ(*ListenHost("[::1]:8080"), "::1");
  EXPECT_EQ(*ListenHost("[::]:8080"), "::");
  EXPECT_EQ(*ListenHost("localhost:80"), "localhost");
  EXPECT_EQ(*ListenHost("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(*ListenHost("::1"), "::1");
  EXPECT_EQ(*ListenHost(":8080"), "");
  EXPECT_FALSE(ListenHost("[::1:8080").ok());
  EXPECT_FALSE(ListenHost("[::1]x").ok());
}

TEST(LoopbackTest, RefusesPublicListeningWithoutAuthentication) {
  SecurityConfig none;
  EXPECT_TRUE(CheckListenAllowed(none, "127.0.0.1:8080").ok());
  EXPECT_TRUE(CheckListenAllowed(none, "[::1]:8080").ok());
  EXPECT_TRUE(CheckListenAllowed(none, "localhost:8080").ok());
  for (const char* l : {"0.0.0.0:8080", "[::]:8080", ":8080", "10.1.2.3:443",
                        "gateway.example.org:443"}) {
    Status s = CheckListenAllowed(none, l);
    ASSERT_FALSE(s.ok()) << l;
    EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(s.error().message().find("security:"), std::string::npos);
    EXPECT_NE(s.error().message().find("127.0.0.1"), std::string::npos);
  }
  SecurityConfig with_keys;
  ApiKeyEntry e;
  e.hash = Hash(kKeyA);
  e.grant = {"acme", {"lab"}, "acme"};
  with_keys.api_keys.push_back(e);
  EXPECT_TRUE(CheckListenAllowed(with_keys, "0.0.0.0:8080").ok());
}

TEST(ApiKeyTest, HashesGeneratesAndMatches) {
  Result<std::string> k1 = GenerateApiKey();
  Result<std::string> k2 = GenerateApiKey();
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_NE(*k1, *k2);
  EXPECT_EQ(k1->size(), 3u + 43u);
  EXPECT_EQ(k1->substr(0, 3), "gg_");
  Result<std::string> h = HashApiKey(*k1);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 7u + 64u);
  EXPECT_EQ(h->find(*k1), std::string::npos);
  // The digest sha256sum gives for the same bytes.
  EXPECT_EQ(*HashApiKey("abcdefghijklmnopqrstuvwxyz012345"),
            "sha256:"
            "653bb1245e828fcda4fa53fcd5a3def5bd7654e651f54b4132b73d74e64435c4");
  EXPECT_FALSE(HashApiKey("short").ok());
  EXPECT_FALSE(HashApiKey(std::string(40, 'a') + " ").ok());

  Result<ApiKeyTable> t = ApiKeyTable::Create({*HashApiKey(*k1), *h});
  EXPECT_EQ(t.error().code(), ErrorCode::kConflict);
  std::string upper = *HashApiKey(*k2);
  for (size_t i = 7; i < upper.size(); ++i) {
    upper[i] = static_cast<char>(std::toupper(upper[i]));
  }
  t = ApiKeyTable::Create({*h, upper});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Match(*k1), 0u);
  EXPECT_EQ(t->Match(*k2), 1u);
  EXPECT_FALSE(t->Match(*k1 + "x").has_value());
  EXPECT_FALSE(t->Match("").has_value());
  EXPECT_FALSE(t->Match(*h).has_value());  // the hash is not the key
  EXPECT_FALSE(ApiKeyTable::Create({"sha256:xyz"}).ok());
  EXPECT_FALSE(ApiKeyTable::Create({"md5:" + std::string(64, '0')}).ok());
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace genogate::gateway

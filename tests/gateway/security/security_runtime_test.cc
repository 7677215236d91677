#include "gateway/security/security_runtime.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/file.h"
#include "gateway/security/api_key.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;

class SecurityRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = RedisServer::Start();
    ASSERT_NE(redis_, nullptr);
    dir_ = ::testing::TempDir() + "/secrt-XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SecurityRuntimeOptions Options(std::string listen,
                                 std::string config_file = "") {
    SecurityRuntimeOptions o;
    o.listen = std::move(listen);
    o.config_file = std::move(config_file);
    o.data_dir = dir_;
    o.redis = *RedisOptions::FromUrl(redis_->url());
    return o;
  }

  std::unique_ptr<RedisServer> redis_;
  std::string dir_;
  FakeClock clock_;
};

TEST_F(SecurityRuntimeTest, WithoutConfigurationServesLoopbackOnly) {
  Result<SecurityRuntime> rt =
      StartSecurity(Options("127.0.0.1:8080"), &clock_, nullptr);
  ASSERT_TRUE(rt.ok()) << rt.error().message();
  EXPECT_EQ(rt->authenticator, nullptr);
  EXPECT_NE(rt->summary.find("loopback only"), std::string::npos);
  HttpRequest r;
  r.method = "POST";
  r.path = "/submissions";
  ASSERT_TRUE(rt->access->Check(&r).allowed);
  EXPECT_EQ(r.caller, "local");
  // The generated audit key: private, and kept across restarts.
  const std::string key_file = dir_ + "/audit-pseudonym.key";
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string key = *ReadFile(key_file);
  EXPECT_EQ(key.size(), 65u);
  AuditRecord rec;
  rec.when = clock_.Now();
  rec.submission_id = "s-1";
  ASSERT_TRUE(rt->audit->Record(rec).ok());
  rt = StartSecurity(Options("[::1]:8080"), &clock_, nullptr);
  ASSERT_TRUE(rt.ok());
  EXPECT_EQ(*ReadFile(key_file), key);
  Result<std::string> nd =
      rt->audit->ReadNdjson(Timestamp::min(), Timestamp::max(), 10);
  ASSERT_TRUE(nd.ok());
  EXPECT_NE(nd->find("\"s-1\""), std::string::npos);

  // Anywhere else: refused, saying how to fix it.
  Result<SecurityRuntime> open =
      StartSecurity(Options("0.0.0.0:8080"), &clock_, nullptr);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(open.error().message().find("security:"), std::string::npos);

  // A generated key that others can read is refused.
  ASSERT_EQ(chmod(key_file.c_str(), 0644), 0);
  Result<SecurityRuntime> leaky =
      StartSecurity(Options("127.0.0.1:8080"), &clock_, nullptr);
  ASSERT_FALSE(leaky.ok());
  EXPECT_EQ(leaky.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(SecurityRuntimeTest, WithApiKeysServesAnyAddressAndAuthenticates) {
  const std::string key = *GenerateApiKey();
  {
    std::ofstream f(dir_ + "/genogate.yaml");
    f << "security:\n  api_keys:\n    - identity: acme\n      hash: "
      << *HashApiKey(key) << "\n      roles: [lab]\n";
  }
  Result<SecurityRuntime> rt = StartSecurity(
      Options("0.0.0.0:8443", dir_ + "/genogate.yaml"), &clock_, nullptr);
  ASSERT_TRUE(rt.ok()) << rt.error().message();
  ASSERT_NE(rt->authenticator, nullptr);
  EXPECT_EQ(rt->summary, "authentication: 1 API key(s)");
  HttpRequest anon;
  anon.method = "POST";
  anon.path = "/submissions";
  EXPECT_EQ(rt->access->Check(&anon).response.status, 401);
  HttpRequest with = anon;
  with.headers.emplace_back("X-API-Key", key);
  ASSERT_TRUE(rt->access->Check(&with).allowed);
  EXPECT_EQ(with.caller_lab, "acme");

  // A bad section stops start-up with file:line.
  {
    std::ofstream f(dir_ + "/bad.yaml");
    f << "security:\n  api_keys: 3\n";
  }
  Result<SecurityRuntime> bad = StartSecurity(
      Options("127.0.0.1:1", dir_ + "/bad.yaml"), &clock_, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("bad.yaml:2: security.api_keys"),
            std::string::npos);
}

}  // namespace
}  // namespace genogate::gateway

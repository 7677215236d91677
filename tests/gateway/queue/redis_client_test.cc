#include "gateway/queue/redis_client.h"

#include <gtest/gtest.h>

#include <memory>

#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;

TEST(RedisOptionsTest, ParsesTcpUrls) {
  Result<RedisOptions> o = RedisOptions::FromUrl("redis://example:7000/3");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "example");
  EXPECT_EQ(o->port, 7000);
  EXPECT_EQ(o->db, 3);
  EXPECT_TRUE(o->password.empty());

  o = RedisOptions::FromUrl("redis://:s%40cret@10.0.0.1:6380/0");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "10.0.0.1");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->password, "s@cret");
  EXPECT_TRUE(o->username.empty());
  EXPECT_EQ(o->Describe().find("s@cret"), std::string::npos);
  EXPECT_NE(o->Describe().find("***"), std::string::npos);

  o = RedisOptions::FromUrl("redis://gateway:pw@redis");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->username, "gateway");
  EXPECT_EQ(o->password, "pw");
  EXPECT_EQ(o->port, 6379);
  EXPECT_EQ(o->db, 0);

  o = RedisOptions::FromUrl("redis://[::1]:6390");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 6390);
}

TEST(RedisOptionsTest, ParsesUnixUrls) {
  Result<RedisOptions> o = RedisOptions::FromUrl("unix:///run/redis.sock");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->unix_path, "/run/redis.sock");
  EXPECT_EQ(o->db, 0);
  o = RedisOptions::FromUrl("unix:///run/redis.sock?db=2");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->db, 2);
}

TEST(RedisOptionsTest, RejectsBadUrls) {
  for (const char* url :
       {"http://x", "redis://", "redis://h:0", "redis://h:99999",
        "redis://h:port", "redis://h/db", "unix://relative", "unix:///s?x=1"}) {
    Result<RedisOptions> o = RedisOptions::FromUrl(url);
    ASSERT_FALSE(o.ok()) << url;
    EXPECT_EQ(o.error().code(), ErrorCode::kInvalidInput);
  }
  Result<RedisOptions> o = RedisOptions::FromUrl("redis://:topsecret@h:x");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().message().find("topsecret"), std::string::npos);
}

TEST(RedisClientTest, UnreachableServerIsUnavailable) {
  RedisOptions o;
  o.port = 1;  // nothing listens on port 1
  o.connect_timeout = std::chrono::milliseconds(300);
  Result<std::unique_ptr<RedisClient>> c = RedisClient::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(c.error().retryable());
}

class RedisClientServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = RedisServer::Start().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    Result<RedisOptions> o = RedisOptions::FromUrl(server_->url());
    ASSERT_TRUE(o.ok());
    Result<std::unique_ptr<RedisClient>> c = RedisClient::Connect(*o);
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    client_ = std::move(c).value();
  }
  static RedisServer* server_;
  std::unique_ptr<RedisClient> client_;
};
RedisServer* RedisClientServerTest::server_ = nullptr;

TEST_F(RedisClientServerTest, CommandsAndReplyTypes) {
  Result<RedisReply> r = client_->Command({"SET", "k", std::string("a\0b", 3)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, RedisReply::Type::kStatus);
  EXPECT_EQ(r->str, "OK");
  r = client_->Command({"GET", "k"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, RedisReply::Type::kString);
  EXPECT_EQ(r->str, std::string("a\0b", 3));
  r = client_->Command({"GET", "missing"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_nil());
  r = client_->Command({"RPUSH", "l", "x", "y"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->integer, 2);
  r = client_->Command({"LRANGE", "l", "0", "-1"});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->is_array());
  ASSERT_EQ(r->elements.size(), 2u);
  EXPECT_EQ(r->elements[1].str, "y");
}

TEST_F(RedisClientServerTest, ErrorRepliesAreErrors) {
  Result<RedisReply> r = client_->Command({"NOSUCHCOMMAND"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInternal);
  EXPECT_FALSE(r.error().retryable());
}

TEST_F(RedisClientServerTest, EvalFallsBackOnNoscriptAndMapsScriptErrors) {
  RedisScript script("return {KEYS[1], ARGV[1]}");
  ASSERT_TRUE(client_->Command({"SCRIPT", "FLUSH"}).ok());
  Result<RedisReply> r = client_->Eval(script, {"key"}, {"arg"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->elements.size(), 2u);
  EXPECT_EQ(r->elements[0].str, "key");
  EXPECT_EQ(r->elements[1].str, "arg");
  // Now cached: EVALSHA path.
  Result<RedisReply> exists =
      client_->Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->elements[0].integer, 1);
  EXPECT_TRUE(client_->Eval(script, {"k2"}, {"a2"}).ok());

  RedisScript failing(
      "return redis.error_reply('GG_CONFLICT idempotency key reused')");
  r = client_->Eval(failing, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(r.error().message(), "idempotency key reused");
  RedisScript missing("return redis.error_reply('GG_NOTFOUND no job x')");
  r = client_->Eval(missing, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

TEST_F(RedisClientServerTest, ReconnectsAfterServerRestart) {
  ASSERT_TRUE(client_->Command({"PING"}).ok());
  server_->Kill();
  Result<RedisReply> r = client_->Command({"PING"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(client_->connected());
  ASSERT_TRUE(server_->Restart());
  r = client_->Command({"PING"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->str, "PONG");
}

TEST_F(RedisClientServerTest, CommandTimeoutIsUnavailable) {
  Result<RedisOptions> o = RedisOptions::FromUrl(server_->url());
  ASSERT_TRUE(o.ok());
  o->command_timeout = std::chrono::milliseconds(100);
  Result<std::unique_ptr<RedisClient>> c = RedisClient::Connect(*o);
  ASSERT_TRUE(c.ok());
  Result<RedisReply> r = (*c)->Command({"BLPOP", "never-pushed", "5"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find("timed out"), std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace genogate::gateway

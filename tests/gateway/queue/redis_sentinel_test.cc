// RedisClient in Sentinel mode against a real master, replica and Sentinel:
// it finds the master through the Sentinel and follows a failover.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "gateway/queue/redis_client.h"
#include "testing/redis_server.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;

TEST(RedisSentinelUrl, ParsesNodesMasterAndDatabase) {
  Result<RedisOptions> o = RedisOptions::FromUrl(
      "redis+sentinel://:s%40cret@10.0.0.1:26380,[::1],sentinel-c/genogate/3");
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(o->sentinel_master, "genogate");
  EXPECT_EQ(o->db, 3);
  EXPECT_EQ(o->password, "s@cret");
  ASSERT_EQ(o->sentinels.size(), 3u);
  EXPECT_EQ(o->sentinels[0], (std::pair<std::string, int>{"10.0.0.1", 26380}));
  EXPECT_EQ(o->sentinels[1], (std::pair<std::string, int>{"::1", 26379}));
  EXPECT_EQ(o->sentinels[2],
            (std::pair<std::string, int>{"sentinel-c", 26379}));
  std::string d = o->Describe();
  EXPECT_EQ(d.find("s@cret"), std::string::npos) << d;
  EXPECT_NE(d.find("/genogate/3"), std::string::npos) << d;
}

TEST(RedisSentinelUrl, RefusesMissingMasterOrBadNodes) {
  for (const char* url :
       {"redis+sentinel://h1:26379", "redis+sentinel://h1:26379/",
        "redis+sentinel://h1:0/m", "redis+sentinel://h1,,h2/m",
        "redis+sentinel://h1/m/x"}) {
    Result<RedisOptions> o = RedisOptions::FromUrl(url);
    EXPECT_FALSE(o.ok()) << url;
    if (!o.ok()) {
      EXPECT_EQ(o.error().code(), ErrorCode::kInvalidInput);
    }
  }
}

TEST(RedisSentinel, UnreachableSentinelsAreUnavailable) {
  RedisOptions o;
  o.sentinel_master = "m";
  o.sentinels = {{"127.0.0.1", 1}};
  o.connect_timeout = std::chrono::milliseconds(500);
  Result<std::unique_ptr<RedisClient>> c = RedisClient::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kUnavailable);
}

bool WaitFor(const std::function<bool()>& done, int seconds) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

TEST(RedisSentinel, FindsTheMasterAndFollowsAFailover) {
  auto master = RedisServer::Start();
  ASSERT_NE(master, nullptr);
  RedisServer::Options replica_options;
  replica_options.extra_args = {"--replicaof", "127.0.0.1",
                                std::to_string(master->port())};
  auto replica = RedisServer::Start(replica_options);
  ASSERT_NE(replica, nullptr);
  RedisServer::Options sentinel_options;
  sentinel_options.config_file_text =
      "sentinel monitor m 127.0.0.1 " + std::to_string(master->port()) +
      " 1\n"
      "sentinel down-after-milliseconds m 1000\n"
      "sentinel failover-timeout m 4000\n";
  sentinel_options.extra_args = {"--sentinel"};
  auto sentinel = RedisServer::Start(sentinel_options);
  ASSERT_NE(sentinel, nullptr);

  Result<RedisOptions> o = RedisOptions::FromUrl(
      "redis+sentinel://127.0.0.1:" + std::to_string(sentinel->port()) + "/m");
  ASSERT_TRUE(o.ok());
  o->connect_timeout = std::chrono::milliseconds(500);
  o->command_timeout = std::chrono::milliseconds(1000);
  Result<std::unique_ptr<RedisClient>> client = RedisClient::Connect(*o);
  ASSERT_TRUE(client.ok()) << client.error().message();
  ASSERT_TRUE((*client)->Command({"SET", "report", "v1"}).ok());
  EXPECT_EQ(master->Cli({"GET", "report"}), "v1\n");

  // The replica has the data, and the Sentinel knows the replica.
  ASSERT_TRUE(WaitFor(
      [&] {
        return replica->Cli({"GET", "report"}) == "v1\n";
      },
      20));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string r = sentinel->Cli({"SENTINEL", "replicas", "m"});
        return r.find(std::to_string(replica->port())) != std::string::npos;
      },
      20));

  master->Kill();
  // During the failover calls fail as kUnavailable; then they reach the
  // promoted replica.
  bool written = WaitFor(
      [&] {
        Result<RedisReply> r = (*client)->Command({"SET", "report", "v2"});
        if (!r.ok()) {
          EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
        }
        return r.ok();
      },
      45);
  ASSERT_TRUE(written);
  EXPECT_EQ(replica->Cli({"GET", "report"}), "v2\n");
  EXPECT_NE(replica->Cli({"ROLE"}).find("master"), std::string::npos);
}

}  // namespace
}  // namespace genogate::gateway

// The embedded redis-server supervisor against the real redis-server:
// durable settings, unix socket, restart after a crash with the data
// recovered from the AOF, the data-directory lock, and a clean stop.
#include "gateway/runtime/embedded_redis.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>

#include "gateway/server/log.h"

namespace genogate::gateway {
namespace {

class EmbeddedRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-emb-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  EmbeddedRedisOptions Options() {
    EmbeddedRedisOptions o;
    o.data_dir = dir_ + "/redis";
    o.logger = &logger_;
    return o;
  }

  static Result<RedisReply> Run(const EmbeddedRedis& r,
                                const std::vector<std::string>& argv) {
    Result<std::unique_ptr<RedisClient>> c =
        RedisClient::Connect(r.redis_options());
    if (!c.ok()) return c.error();
    return (*c)->Command(argv);
  }

  std::string dir_;
  std::string logs_;
  Logger logger_{LogLevel::kInfo,
                 [this](std::string_view l) { logs_ += std::string(l); }};
};

TEST_F(EmbeddedRedisTest, DurableOnAUnixSocketAndRestartedAfterACrash) {
  Result<std::unique_ptr<EmbeddedRedis>> started =
      EmbeddedRedis::Start(Options());
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  EmbeddedRedis& redis = **started;
  EXPECT_EQ(redis.url(), "unix://" + dir_ + "/redis/redis.sock");
  EXPECT_EQ(redis.redis_options().unix_path, dir_ + "/redis/redis.sock");
  // AOF with fsync on every write, no TCP port, data in the data dir.
  Result<RedisReply> fsync = Run(redis, {"CONFIG", "GET", "appendfsync"});
  ASSERT_TRUE(fsync.ok());
  ASSERT_EQ(fsync->elements.size(), 2u);
  EXPECT_EQ(fsync->elements[1].str, "always");
  Result<RedisReply> aof = Run(redis, {"CONFIG", "GET", "appendonly"});
  EXPECT_EQ(aof->elements[1].str, "yes");
  Result<RedisReply> port = Run(redis, {"CONFIG", "GET", "port"});
  EXPECT_EQ(port->elements[1].str, "0");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/redis").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  ASSERT_TRUE(Run(redis, {"SET", "k", "survives"}).ok());
  pid_t first = redis.pid();
  ASSERT_GT(first, 0);
  ::kill(first, SIGKILL);  // a crash: no shutdown, no final fsync
  // The supervisor starts a new server; the write is back from the AOF.
  for (int i = 0; i < 1000 && (redis.pid() == first || redis.pid() <= 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(redis.WaitReady(std::chrono::seconds(20)));
  EXPECT_NE(redis.pid(), first);
  EXPECT_EQ(redis.restarts(), 1);
  Result<RedisReply> v = Run(redis, {"GET", "k"});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->str, "survives");
  EXPECT_NE(logs_.find("\"event\":\"redis.exited\""), std::string::npos);

  pid_t second = redis.pid();
  redis.Stop();
  EXPECT_EQ(redis.pid(), -1);
  EXPECT_NE(::kill(second, 0), 0);  // gone (and reaped)
  EXPECT_FALSE(Run(redis, {"PING"}).ok());
}

TEST_F(EmbeddedRedisTest, OneServerPerDataDirectory) {
  Result<std::unique_ptr<EmbeddedRedis>> a = EmbeddedRedis::Start(Options());
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  Result<std::unique_ptr<EmbeddedRedis>> b = EmbeddedRedis::Start(Options());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(b.error().message().find("another process"), std::string::npos);
  // The first one is untouched.
  EXPECT_TRUE(Run(**a, {"PING"}).ok());
  (*a)->Stop();
  // After a stop the directory can be used again, with its data.
  Result<std::unique_ptr<EmbeddedRedis>> c = EmbeddedRedis::Start(Options());
  ASSERT_TRUE(c.ok()) << c.error().ToString();
}

TEST_F(EmbeddedRedisTest, MissingProgramIsAClearError) {
  EmbeddedRedisOptions o = Options();
  o.redis_server = "genogate-no-such-redis-server";
  Result<std::unique_ptr<EmbeddedRedis>> r = EmbeddedRedis::Start(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.error().message().find("not found"), std::string::npos);
}

TEST_F(EmbeddedRedisTest, LongDataDirectoryFallsBackToALoopbackPort) {
  EmbeddedRedisOptions o = Options();
  o.data_dir = dir_ + "/" + std::string(120, 'd');
  Result<std::unique_ptr<EmbeddedRedis>> r = EmbeddedRedis::Start(o);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE((*r)->redis_options().unix_path.empty());
  EXPECT_EQ((*r)->url().rfind("redis://127.0.0.1:", 0), 0u);
  EXPECT_TRUE(Run(**r, {"PING"}).ok());
}

}  // namespace
}  // namespace genogate::gateway

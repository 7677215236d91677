// `genogate queue` against a real redis-server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/file.h"
#include "cli/cli_test_util.h"
#include "gateway/queue/queue_test_util.h"
#include "testing/redis_server.h"
#include "testing/test_env.h"

extern char** environ;

namespace genogate::cli {
namespace {

using testing::CliRun;
using testing::RunGenogate;

TEST(QueueCommandTest, StatsDeadReplayDiscard) {
  auto redis = genogate::testing::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  auto queue = gateway::testing::MakeRedisQueue(*redis, {}, nullptr, "cli:");
  ASSERT_NE(queue, nullptr);
  for (std::string id : {"a", "b", "c"}) {
    gateway::Job job;
    job.id = id;
    job.report_key = id;
    job.payload = "{}";
    ASSERT_TRUE(queue->Enqueue("ehr", job).ok());
  }
  auto claimed = queue->Claim("ehr", "w", 2);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  for (const auto& job : *claimed) {
    ASSERT_TRUE(queue->DeadLetter(job, "rejected: HTTP 400", "{}").ok());
  }
  std::string dir = redis->dir();
  std::string keys = dir + "/keys";
  ASSERT_TRUE(WriteFileAtomic(
                  keys,
                  "active = test-2026\ntest-2026 = "
                  "hex:8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aab"
                  "bccddeeff\n")
                  .ok());
  ::chmod(keys.c_str(), 0600);
  std::string common =
      " --redis " + redis->url() + " --key-file '" + keys + "' --prefix cli: ";
  CliRun r = RunGenogate("queue" + common + "stats");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ehr\t1\t0\t0\t2"), std::string::npos) << r.out;
  r = RunGenogate("queue" + common + "dead ehr");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ehr/a\t"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rejected: HTTP 400"), std::string::npos) << r.out;
  r = RunGenogate("queue" + common + "replay ehr/a");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = RunGenogate("queue" + common + "discard ehr/b");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(queue->GetStatus("ehr", "a")->state, gateway::JobState::kQueued);
  EXPECT_EQ(queue->GetStatus("ehr", "b")->state, gateway::JobState::kDiscarded);
  r = RunGenogate("queue" + common + "replay ehr/zzz");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  // A key file readable by others is refused.
  ::chmod(keys.c_str(), 0644);
  r = RunGenogate("queue" + common + "stats");
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

TEST(QueueCommandTest, WorkDeliversUntilSigterm) {
  auto redis = genogate::testing::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  auto queue = gateway::testing::MakeRedisQueue(*redis, {}, nullptr, "work:");
  ASSERT_NE(queue, nullptr);
  std::string dir = redis->dir();
  std::string outbox = dir + "/outbox";
  std::filesystem::create_directories(outbox);
  for (std::string id : {"a", "b", "c"}) {
    gateway::Job job;
    job.id = id;
    job.report_key = id;
    job.payload = "{\"resourceType\":\"Bundle\",\"id\":\"" + id + "\"}";
    ASSERT_TRUE(queue->Enqueue("out", job).ok());
  }
  std::string keys = dir + "/keys";
  ASSERT_TRUE(WriteFileAtomic(
                  keys,
                  "active = test-2026\ntest-2026 = "
                  "hex:8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aab"
                  "bccddeeff\n")
                  .ok());
  ::chmod(keys.c_str(), 0600);
  std::string log = dir + "/work.log";
  std::vector<std::string> args = {genogate::testing::BinaryDir() + "/genogate",
                                   "queue",
                                   "--redis",
                                   redis->url(),
                                   "--key-file",
                                   keys,
                                   "--prefix",
                                   "work:",
                                   "work",
                                   "--endpoint",
                                   "out=file://" + outbox};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  bool all = false;
  for (int i = 0; i < 3000 && !all; ++i) {
    all = true;
    for (std::string id : {"a", "b", "c"}) {
      Result<gateway::JobStatus> st = queue->GetStatus("out", id);
      all = all && st.ok() && st->state == gateway::JobState::kDelivered;
    }
    if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string out = genogate::testing::ReadTestFile(log);
  EXPECT_TRUE(all) << out;
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_TRUE(std::filesystem::exists(outbox + "/b.json"));
  EXPECT_NE(out.find("delivering to out (1 worker)"), std::string::npos) << out;
  EXPECT_NE(out.find("out\t3\t0\t0\tclosed"), std::string::npos) << out;
  // An unknown endpoint name is a usage error.
  CliRun r = RunGenogate("queue --redis " + redis->url() + " --key-file '" +
                         keys + "' work --endpoint nowhere");
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

}  // namespace
}  // namespace genogate::cli

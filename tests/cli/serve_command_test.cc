// `genogate serve` as an operator runs it: the built binary with an
// embedded redis-server, answering /healthz and /readyz, and stopping
// cleanly (with its redis-server) on SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gateway/http/test_peers.h"
#include "testing/test_env.h"

extern char** environ;

namespace genogate::cli {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The integer after "\"key\":" in the first log line with `event`.
int LogInt(const std::string& logs, const std::string& event,
           const std::string& key) {
  size_t at = logs.find("\"event\":\"" + event + "\"");
  if (at == std::string::npos) return -1;
  size_t k = logs.find("\"" + key + "\":", at);
  size_t eol = logs.find('\n', at);
  if (k == std::string::npos || k > eol) return -1;
  return std::atoi(logs.c_str() + k + key.size() + 3);
}

std::string Get(int port, const std::string& path) {
  int fd = gateway::testing::ConnectLoopback(port);
  if (fd < 0) return "";
  gateway::testing::WriteAll(
      fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-serve-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // Starts genogate with `args`; stderr (the JSON log) to dir_/log.
  void Spawn(std::vector<std::string> args) {
    args.insert(args.begin(), genogate::testing::BinaryDir() + "/genogate");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, (dir_ + "/out").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, (dir_ + "/log").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ),
              0);
    posix_spawn_file_actions_destroy(&fa);
  }

  // Waits for the process to exit; its exit code (-1 on timeout/signal).
  int Wait(int timeout_ms = 30000) {
    for (int i = 0; i < timeout_ms / 10; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  std::string Logs() { return ReadAll(dir_ + "/log"); }

  std::string dir_;
  pid_t pid_ = -1;
};

TEST_F(ServeTest, ServesHealthAndStopsOnSigterm) {
  Spawn({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data"});
  int port = -1;
  for (int i = 0; i < 3000 && port <= 0; ++i) {
    port = LogInt(Logs(), "serve.listening", "port");
    if (port <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(port, 0) << Logs();
  std::string health = Get(port, "/healthz");
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
  EXPECT_NE(health.find("{\"status\":\"alive\"}"), std::string::npos);
  std::string ready = Get(port, "/readyz");
  EXPECT_EQ(ready.rfind("HTTP/1.1 200", 0), 0u) << ready;
  EXPECT_NE(ready.find("\"redis\":\"ok\""), std::string::npos);
  EXPECT_NE(Get(port, "/metrics").find("genogate_http_requests_total"),
            std::string::npos);
  int redis_pid = LogInt(Logs(), "redis.started", "pid");
  ASSERT_GT(redis_pid, 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/data/redis/appendonlydir"));

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"event\":\"serve.stopping\",\"signal\":\"SIGTERM\""),
            std::string::npos);
  EXPECT_NE(logs.find("\"event\":\"serve.stopped\""), std::string::npos);
  EXPECT_NE(::kill(redis_pid, 0), 0);  // the embedded redis-server is gone
  EXPECT_TRUE(Get(port, "/healthz").empty());
}

TEST_F(ServeTest, RefusesAnUnauthenticatedNonLoopbackAddress) {
  Spawn({"serve", "--listen", "0.0.0.0:0", "--data-dir", dir_ + "/data"});
  EXPECT_EQ(Wait(), 2);
  std::string logs = Logs();
  EXPECT_NE(logs.find("refusing to listen on 0.0.0.0"), std::string::npos)
      << logs;
  EXPECT_NE(logs.find("--insecure-allow-unauthenticated"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data"));
}

TEST_F(ServeTest, ConfigErrorsExit2WithFileAndLine) {
  std::ofstream(dir_ + "/gw.yaml") << "server:\n  listen: 127.0.0.1:0\n"
                                      "  limits:\n    max_connections: lots\n";
  Spawn({"serve", "--config", dir_ + "/gw.yaml"});
  EXPECT_EQ(Wait(), 2);
  EXPECT_NE(Logs().find("gw.yaml:4: server.limits.max_connections: expected a "
                        "whole number"),
            std::string::npos)
      << Logs();
}

}  // namespace
}  // namespace genogate::cli

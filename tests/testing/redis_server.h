// RedisServer: a private redis-server for one test (or test suite).
//
// Starts `redis-server` (found on PATH) bound to 127.0.0.1 on a free port,
// with its own temporary directory, `--appendonly yes` and `--save ""`, and
// waits until it answers PING. The destructor kills it and removes the
// directory. Tests never use a shared Redis.
//
//   auto redis = RedisServer::Start();
//   ASSERT_NE(redis, nullptr);
//   ... RedisOptions::FromUrl(redis->url()) ...
//   redis->Kill();     // SIGKILL, as a crash would
//   redis->Restart();  // same port and directory: recovers from the AOF
//
// Thread-safety: not thread-safe; use from the test's main thread.
#ifndef GENOGATE_TESTS_TESTING_REDIS_SERVER_H_
#define GENOGATE_TESTS_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace genogate::testing {

class RedisServer {
 public:
  struct Options {
    // "always" or "everysec" (see docs in gateway/queue/redis_queue.h).
    std::string appendfsync = "everysec";
    std::vector<std::string> extra_args;
    // When set, written to <dir>/redis.conf and passed as the config file
    // (a Sentinel needs one: add "--sentinel" to extra_args). May use
    // "{port}" for the server's own port.
    std::string config_file_text;
  };

  // Starts a server; on failure records a test failure (ADD_FAILURE) and
  // returns nullptr.
  static std::unique_ptr<RedisServer> Start(Options options);
  static std::unique_ptr<RedisServer> Start() { return Start(Options()); }

  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  // "redis://127.0.0.1:<port>/0".
  std::string url() const;
  const std::string& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }

  // SIGKILLs the server and any child it forked (AOF rewrite) and reaps it
  // (no shutdown, no final fsync).
  void Kill();
  // Starts the server again on the same port and directory (after Kill, or
  // kills it first) and waits for PING; false (and ADD_FAILURE) on failure.
  bool Restart();

  // Runs redis-cli against this server and returns its stdout.
  std::string Cli(const std::vector<std::string>& args) const;
  // Runs redis-benchmark against this server with `args`; returns stdout.
  std::string Benchmark(const std::vector<std::string>& args) const;

 private:
  RedisServer() = default;
  bool Launch();
  bool WaitForPing(int timeout_ms);

  Options options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace genogate::testing

#endif  // GENOGATE_TESTS_TESTING_REDIS_SERVER_H_

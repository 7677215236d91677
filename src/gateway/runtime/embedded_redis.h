// EmbeddedRedis: the private redis-server that `genogate serve` starts and
// supervises when no Redis URL is configured, so that one machine needs
// nothing else.
//
//   EmbeddedRedisOptions o;
//   o.data_dir = "/var/lib/genogate/redis";
//   Result<std::unique_ptr<EmbeddedRedis>> r = EmbeddedRedis::Start(o);
//   ... RedisQueue over (*r)->redis_options() ...
//   (*r)->Stop();   // or the destructor
//
// The server runs with AOF on and `appendfsync always` (an acknowledged
// enqueue survives a host crash, as the queue requires), no RDB snapshots,
// data and log in `data_dir`, and listens on a unix socket in `data_dir`
// (mode 0700 directory, socket 0700) and on no TCP port; if the socket path
// would be too long for a unix socket it listens on a free 127.0.0.1 port
// instead. A lock file in `data_dir` keeps a second gateway from starting
// another server on the same data.
//
// A supervisor thread restarts the server if it dies (1 s back-off,
// doubling up to 30 s while it keeps dying within a minute). The child
// gets SIGTERM if the gateway dies (PR_SET_PDEATHSIG). Stop() sends SIGTERM
// (redis-server finishes its AOF writes and exits), waits up to
// `stop_timeout`, then SIGKILLs.
//
// Thread-safety: Start/Stop/the destructor from one thread; the accessors
// from any thread.
#ifndef GENOGATE_GATEWAY_RUNTIME_EMBEDDED_REDIS_H_
#define GENOGATE_GATEWAY_RUNTIME_EMBEDDED_REDIS_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "gateway/queue/redis_client.h"

namespace genogate::gateway {

class Logger;

struct EmbeddedRedisOptions {
  // Created (mode 0700) if missing.
  std::string data_dir;
  // The redis-server program (searched on PATH when it has no '/').
  std::string redis_server = "redis-server";
  // Until the first PING answers.
  std::chrono::milliseconds start_timeout{20'000};
  std::chrono::milliseconds stop_timeout{10'000};
  // For start, restart and exit events (may be null; must outlive this).
  Logger* logger = nullptr;
};

class EmbeddedRedis {
 public:
  // Starts redis-server and waits until it answers PING.
  // Errors: kFailedPrecondition if redis-server is not found, the data
  // directory cannot be created, or another process holds its lock;
  // kUnavailable if it does not answer within start_timeout (the message
  // points at redis.log in the data directory).
  static Result<std::unique_ptr<EmbeddedRedis>> Start(
      EmbeddedRedisOptions options);

  ~EmbeddedRedis();  // Stop()
  EmbeddedRedis(const EmbeddedRedis&) = delete;
  EmbeddedRedis& operator=(const EmbeddedRedis&) = delete;

  // How to connect: the unix socket (or the loopback port).
  RedisOptions redis_options() const;
  // "unix:///…/redis.sock" or "redis://127.0.0.1:PORT/0".
  std::string url() const;
  // The current child's pid (-1 while it is down).
  pid_t pid() const { return pid_.load(); }
  // How many times the server was restarted after dying.
  int restarts() const { return restarts_.load(); }

  // Waits until the server answers PING (e.g. after a restart); false if it
  // does not within `timeout`.
  bool WaitReady(std::chrono::milliseconds timeout) const;

  // Stops the supervisor and the server. Idempotent.
  void Stop();

 private:
  explicit EmbeddedRedis(EmbeddedRedisOptions options);
  Status Prepare();
  bool Spawn();
  void Supervise();
  bool Ping() const;

  EmbeddedRedisOptions options_;
  std::string program_;  // absolute path of redis-server
  std::string socket_path_;
  int port_ = 0;
  int lock_fd_ = -1;
  std::atomic<pid_t> pid_{-1};
  std::atomic<int> restarts_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool spawned_once_ = false;
  bool spawn_ok_ = false;
  std::thread supervisor_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_RUNTIME_EMBEDDED_REDIS_H_

#include "gateway/runtime/embedded_redis.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "gateway/server/log.h"

namespace genogate::gateway {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? name : "";
  }
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view()
                                           : rest.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

EmbeddedRedis::EmbeddedRedis(EmbeddedRedisOptions options)
    : options_(std::move(options)) {}

Result<std::unique_ptr<EmbeddedRedis>> EmbeddedRedis::Start(
    EmbeddedRedisOptions options) {
  std::unique_ptr<EmbeddedRedis> r(new EmbeddedRedis(std::move(options)));
  Status prepared = r->Prepare();
  if (!prepared.ok()) return prepared.error();
  r->supervisor_ = std::thread([p = r.get()] { p->Supervise(); });
  bool spawned = false;
  {
    std::unique_lock lock(r->mu_);
    r->cv_.wait(lock, [&] { return r->spawned_once_; });
    spawned = r->spawn_ok_;
  }
  if (!spawned) {
    r->Stop();
    return Error(ErrorCode::kFailedPrecondition, "cannot start " + r->program_);
  }
  if (!r->WaitReady(r->options_.start_timeout)) {
    std::string dir = r->options_.data_dir;
    r->Stop();
    return Error(ErrorCode::kUnavailable,
                 "the embedded redis-server did not answer in time (see " +
                     dir + "/redis.log)");
  }
  return r;
}

EmbeddedRedis::~EmbeddedRedis() { Stop(); }

Status EmbeddedRedis::Prepare() {
  if (options_.data_dir.empty()) {
    return Error(ErrorCode::kInvalidInput, "embedded redis needs a data_dir");
  }
  program_ = FindProgram(options_.redis_server);
  if (program_.empty()) {
    return Error(ErrorCode::kFailedPrecondition,
                 options_.redis_server +
                     " not found (install redis-server, or give a Redis URL)");
  }
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(options_.data_dir, ec);
  if (!ec) std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Error(ErrorCode::kFailedPrecondition,
                 "cannot create " + options_.data_dir + ": " + ec.message());
  }
  options_.data_dir = dir.string();
  ::chmod(options_.data_dir.c_str(), 0700);
  std::string lock_path = options_.data_dir + "/genogate.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    return Error(ErrorCode::kFailedPrecondition,
                 "cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    return Error(ErrorCode::kFailedPrecondition,
                 "another process already runs the embedded Redis in " +
                     options_.data_dir);
  }
  std::string sock = options_.data_dir + "/redis.sock";
  if (sock.size() < sizeof(sockaddr_un{}.sun_path) - 1) {
    socket_path_ = sock;
  } else {
    port_ = FreeLoopbackPort();
    if (port_ == 0) {
      return Error(ErrorCode::kFailedPrecondition, "no free loopback port");
    }
  }
  return Status::Ok();
}

bool EmbeddedRedis::Spawn() {
  const std::string& d = options_.data_dir;
  std::vector<std::string> args = {
      program_,       "--dir",     d,
      "--appendonly", "yes",       "--appendfsync",
      "always",       "--save",    "",
      "--daemonize",  "no",        "--protected-mode",
      "yes",          "--logfile", d + "/redis.log"};
  if (!socket_path_.empty()) {
    args.insert(args.end(), {"--port", "0", "--unixsocket", socket_path_,
                             "--unixsocketperm", "700"});
  } else {
    args.insert(args.end(),
                {"--port", std::to_string(port_), "--bind", "127.0.0.1"});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return false;
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(devnull);
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    // Its own process group: a terminal's Ctrl-C reaches the gateway only,
    // which then stops the server after the HTTP side.
    ::setpgid(0, 0);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(devnull);
  pid_ = pid;
  if (options_.logger != nullptr) {
    options_.logger->Info("redis.started")
        .Int("pid", pid)
        .Str("address", socket_path_.empty()
                            ? "127.0.0.1:" + std::to_string(port_)
                            : "unix:" + socket_path_);
  }
  return true;
}

void EmbeddedRedis::Supervise() {
  auto backoff = std::chrono::milliseconds(1000);
  for (;;) {
    bool ok = Spawn();
    SteadyClock::time_point started = SteadyClock::now();
    {
      std::lock_guard lock(mu_);
      if (!spawned_once_) {
        spawned_once_ = true;
        spawn_ok_ = ok;
        cv_.notify_all();
        if (!ok) return;
      }
    }
    if (ok) {
      pid_t pid = pid_.load();
      if (stopping_) ::kill(pid, SIGTERM);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
      if (stopping_) return;
      if (options_.logger != nullptr) {
        options_.logger->Error("redis.exited")
            .Int("pid", pid)
            .Int("exit_status", WIFEXITED(status) ? WEXITSTATUS(status) : -1)
            .Int("signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      }
      if (SteadyClock::now() - started > std::chrono::seconds(60)) {
        backoff = std::chrono::milliseconds(1000);
      }
    }
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, backoff, [&] { return stopping_.load(); })) {
        return;
      }
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
    ++restarts_;
  }
}

void EmbeddedRedis::Stop() {
  if (stopping_.exchange(true)) {
    if (supervisor_.joinable()) supervisor_.join();
    return;
  }
  {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }
  pid_t pid = pid_.load();
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    auto deadline = SteadyClock::now() + options_.stop_timeout;
    while (pid_.load() > 0 && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_.load() > 0) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
  }
  if (supervisor_.joinable()) supervisor_.join();
  if (options_.logger != nullptr && pid > 0) {
    options_.logger->Info("redis.stopped").Int("pid", pid);
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

RedisOptions EmbeddedRedis::redis_options() const {
  RedisOptions o;
  if (!socket_path_.empty()) {
    o.unix_path = socket_path_;
  } else {
    o.host = "127.0.0.1";
    o.port = port_;
  }
  return o;
}

std::string EmbeddedRedis::url() const {
  if (!socket_path_.empty()) return "unix://" + socket_path_;
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

bool EmbeddedRedis::Ping() const {
  RedisOptions o = redis_options();
  o.connect_timeout = std::chrono::milliseconds(500);
  o.command_timeout = std::chrono::milliseconds(500);
  Result<std::unique_ptr<RedisClient>> c = RedisClient::Connect(o);
  if (!c.ok()) return false;
  Result<RedisReply> r = (*c)->Command({"PING"});
  return r.ok() && r->str == "PONG";
}

bool EmbeddedRedis::WaitReady(std::chrono::milliseconds timeout) const {
  auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (pid_.load() > 0 && Ping()) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

}  // namespace genogate::gateway

#include "testing/redis_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

namespace genogate::testing {
namespace {

// A port that was free a moment ago (the kernel picks it).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string RunCapture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace

std::unique_ptr<RedisServer> RedisServer::Start(Options options) {
  std::unique_ptr<RedisServer> s(new RedisServer());
  s->options_ = std::move(options);
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "genogate-redis-XXXXXX")
          .string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed: " << std::strerror(errno);
    return nullptr;
  }
  s->dir_ = tmpl;
  // The port may be taken between FreePort() and redis binding it: retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port_ = FreePort();
    if (s->port_ != 0 && s->Launch() && s->WaitForPing(10000)) return s;
    s->Kill();
  }
  ADD_FAILURE() << "could not start redis-server (log in " << s->dir_
                << "/redis.log)";
  return nullptr;
}

RedisServer::~RedisServer() {
  Kill();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string RedisServer::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

bool RedisServer::Launch() {
  std::vector<std::string> args = {
      "redis-server",
      "--port",
      std::to_string(port_),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir_,
      "--appendonly",
      "yes",
      "--appendfsync",
      options_.appendfsync,
      "--save",
      "",
      "--daemonize",
      "no",
      "--logfile",
      dir_ + "/redis.log",
  };
  args.insert(args.end(), options_.extra_args.begin(),
              options_.extra_args.end());
  if (!options_.config_file_text.empty()) {
    std::string text = options_.config_file_text;
    for (size_t at; (at = text.find("{port}")) != std::string::npos;) {
      text.replace(at, 6, std::to_string(port_));
    }
    std::string conf = dir_ + "/redis.conf";
    // Only on the first launch: a Sentinel rewrites its file with what it
    // learnt (the current master), which a restart must keep.
    if (!std::filesystem::exists(conf)) {
      FILE* f = std::fopen(conf.c_str(), "w");
      if (f == nullptr) return false;
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
    args.insert(args.begin() + 1, conf);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // Die with the test process, whatever happens to it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // Its own process group, so that Kill() also reaches the children it
    // forks (AOF rewrite), which would otherwise outlive it.
    ::setpgid(0, 0);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  return true;
}

bool RedisServer::WaitForPing(int timeout_ms) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited (port taken, bad option, ...)
      return false;
    }
    timeval tv{0, 200000};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c != nullptr && c->err == 0) {
      redisSetTimeout(c, tv);
      auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
      // While loading the AOF the server answers -LOADING: keep waiting.
      bool ok = r != nullptr && r->type == REDIS_REPLY_STATUS &&
                std::strcmp(r->str, "PONG") == 0;
      if (r != nullptr) freeReplyObject(r);
      redisFree(c);
      if (ok) return true;
    } else if (c != nullptr) {
      redisFree(c);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);  // the group: redis-server and its children
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool RedisServer::Restart() {
  Kill();
  if (!Launch() || !WaitForPing(20000)) {
    ADD_FAILURE() << "could not restart redis-server (log in " << dir_
                  << "/redis.log)";
    return false;
  }
  return true;
}

std::string RedisServer::Cli(const std::vector<std::string>& args) const {
  std::string cmd = "redis-cli -h 127.0.0.1 -p " + std::to_string(port_);
  for (const std::string& a : args) cmd += " " + ShellQuote(a);
  return RunCapture(cmd + " 2>&1");
}

std::string RedisServer::Benchmark(const std::vector<std::string>& args) const {
  std::string cmd = "redis-benchmark -h 127.0.0.1 -p " + std::to_string(port_);
  for (const std::string& a : args) cmd += " " + ShellQuote(a);
  return RunCapture(cmd + " 2>&1");
}

}  // namespace genogate::testing

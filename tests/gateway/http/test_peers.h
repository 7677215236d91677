// Test peers for the HTTP client: a tiny scripted HTTP/1.1 server and a
// CONNECT proxy on loopback (plain POSIX sockets, no Beast, so they compile
// fast), and a helper that runs `openssl s_server` with a test CA.
//
// Thread-safety: construct and destroy on the test's thread; the handler
// runs on the server's connection threads.
#ifndef GENOGATE_TESTS_GATEWAY_HTTP_TEST_PEERS_H_
#define GENOGATE_TESTS_GATEWAY_HTTP_TEST_PEERS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace genogate::gateway::testing {

inline int ListenLoopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// A loopback port with nothing listening (bound, then closed).
inline int FreePort() {
  int port = 0;
  int fd = ListenLoopback(&port);
  ::close(fd);
  return port;
}

inline int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Accept loop + one thread per connection; stops in the destructor.
class LoopbackServer {
 public:
  virtual ~LoopbackServer() { StopServer(); }
  int port() const { return port_; }
  int connections() const { return connections_; }

 protected:
  void StartServer() {
    listen_fd_ = ListenLoopback(&port_);
    ASSERT_GE(listen_fd_, 0);
    accept_thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) continue;
        ++connections_;
        std::lock_guard<std::mutex> lock(mu_);
        threads_.emplace_back([this, fd] {
          Serve(fd);
          ::close(fd);
        });
      }
    });
  }
  void StopServer() {
    if (stop_.exchange(true)) return;
    if (accept_thread_.joinable()) accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  virtual void Serve(int fd) = 0;

  // Reads into `buf` until it holds `needle` (or EOF/stop). false on EOF.
  bool ReadUntil(int fd, std::string* buf, std::string_view needle) {
    while (buf->find(needle) == std::string::npos) {
      if (!ReadSome(fd, buf)) return false;
    }
    return true;
  }
  bool ReadSome(int fd, std::string* buf) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 20);
      if (r == 0) continue;
      char tmp[16384];
      ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
      if (n <= 0) return false;
      buf->append(tmp, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  std::atomic<bool> stop_{false};

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

// Scripted HTTP server. The handler gets the request head (request line and
// headers) and body and returns the raw response bytes; "" closes the
// connection without answering; "HANG" answers nothing until the server
// stops.
class TestHttpServer final : public LoopbackServer {
 public:
  using Handler = std::function<std::string(const std::string& head,
                                            const std::string& body)>;
  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    StartServer();
  }
  ~TestHttpServer() override { StopServer(); }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port());
  }
  int requests() const { return requests_; }

  // A complete response with Content-Length.
  static std::string Response(int status, std::string_view body,
                              std::string extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           extra_headers + "\r\n" + std::string(body);
  }

 private:
  void Serve(int fd) override {
    std::string buf;
    for (;;) {
      if (!ReadUntil(fd, &buf, "\r\n\r\n")) return;
      size_t end = buf.find("\r\n\r\n");
      std::string head = buf.substr(0, end + 2);
      buf.erase(0, end + 4);
      size_t length = 0;
      size_t cl = head.find("Content-Length: ");
      if (cl == std::string::npos) cl = head.find("content-length: ");
      if (cl != std::string::npos) length = std::stoul(head.substr(cl + 16));
      while (buf.size() < length) {
        if (!ReadSome(fd, &buf)) return;
      }
      std::string body = buf.substr(0, length);
      buf.erase(0, length);
      ++requests_;
      std::string response = handler_(head, body);
      if (response.empty()) return;
      if (response == "HANG") {
        while (!stop_)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return;
      }
      if (!WriteAll(fd, response)) return;
      if (response.find("Connection: close") != std::string::npos) return;
    }
  }

  Handler handler_;
  std::atomic<int> requests_{0};
};

// An HTTP proxy that only does CONNECT to 127.0.0.1 ports.
class TestConnectProxy final : public LoopbackServer {
 public:
  TestConnectProxy() { StartServer(); }
  ~TestConnectProxy() override { StopServer(); }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port());
  }
  int tunnels() const { return tunnels_; }
  std::string last_request_line() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  void Serve(int fd) override {
    std::string buf;
    if (!ReadUntil(fd, &buf, "\r\n\r\n")) return;
    std::string line = buf.substr(0, buf.find("\r\n"));
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = line;
    }
    size_t colon = line.rfind(':');
    size_t space = line.rfind(' ');
    if (line.rfind("CONNECT ", 0) != 0 || colon == std::string::npos) {
      WriteAll(fd, "HTTP/1.1 405 X\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    int port = std::atoi(line.substr(colon + 1, space - colon - 1).c_str());
    int up = ConnectLoopback(port);
    if (up < 0) {
      WriteAll(fd, "HTTP/1.1 502 X\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    ++tunnels_;
    WriteAll(fd, "HTTP/1.1 200 Connection established\r\n\r\n");
    pollfd p[2] = {{fd, POLLIN, 0}, {up, POLLIN, 0}};
    char tmp[16384];
    while (!stop_) {
      if (::poll(p, 2, 20) <= 0) continue;
      bool done = false;
      for (int i = 0; i < 2; ++i) {
        if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = ::recv(p[i].fd, tmp, sizeof(tmp), 0);
          if (n <= 0 || !WriteAll(p[1 - i].fd, std::string_view(tmp, n))) {
            done = true;
          }
        }
      }
      if (done) break;
    }
    ::close(up);
  }

  std::atomic<int> tunnels_{0};
  std::mutex mu_;
  std::string last_;
};

// Runs a shell command; true if it exits 0.
inline bool Sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// A test CA and a server certificate for DNS:localhost (only), generated
// with the openssl command line into `dir`; `openssl s_server -www` on a
// free loopback port.
class TlsServer {
 public:
  explicit TlsServer(std::string dir) : dir_(std::move(dir)) {}
  ~TlsServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  bool MakeCerts() {
    const std::string d = dir_;
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
    return Sh("cd '" + d + "' && openssl req -x509 " + ec +
              " -nodes -keyout ca.key -out ca.pem -days 2 -subj "
              "/CN=genogate-test-ca 2>/dev/null && "
              "openssl req " +
              ec +
              " -nodes -keyout srv.key -out srv.csr -subj /CN=localhost "
              "2>/dev/null && printf 'subjectAltName=DNS:localhost\\n' > ext "
              "&& openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
              "-CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null");
  }

  // Starts s_server; `extra` e.g. {"-Verify", "1", "-CAfile", ca}.
  bool Start(std::vector<std::string> extra = {}) {
    port_ = FreePort();
    std::vector<std::string> args = {
        "openssl",  "s_server",
        "-accept",  "127.0.0.1:" + std::to_string(port_),
        "-cert",    dir_ + "/srv.pem",
        "-key",     dir_ + "/srv.key",
        "-www",     "-quiet",
        "-naccept", "1000"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, "openssl", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return false;
    for (int i = 0; i < 200; ++i) {
      int fd = ConnectLoopback(port_);
      if (fd >= 0) {
        ::close(fd);
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  int port() const { return port_; }
  std::string ca() const { return dir_ + "/ca.pem"; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_HTTP_TEST_PEERS_H_

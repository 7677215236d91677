// Helpers for the MLLP listener tests: a raw loopback client that sends any
// bytes and collects the frames it gets back, and test certificates.
#ifndef GENOGATE_TESTS_GATEWAY_MLLP_MLLP_TEST_UTIL_H_
#define GENOGATE_TESTS_GATEWAY_MLLP_MLLP_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gateway/http/test_peers.h"
#include "mappers/hl7v2/mllp.h"

namespace genogate::gateway::testing {

// A raw TCP connection to the listener.
class RawMllp {
 public:
  explicit RawMllp(int port) : fd_(ConnectLoopback(port)) {
    EXPECT_GE(fd_, 0) << "cannot connect to port " << port;
  }
  ~RawMllp() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  bool Write(std::string_view bytes) { return WriteAll(fd_, bytes); }
  void HalfClose() { ::shutdown(fd_, SHUT_WR); }

  // Reads until `count` frames arrived, the peer closed, or `limit` passed
  // (a safety net against hangs, not a timing assertion). Returns the
  // frames' contents.
  std::vector<std::string> ReadFrames(
      size_t count,
      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    std::vector<std::string> frames;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (frames.size() < count) {
      while (auto e = decoder_.Next()) {
        if (e->kind == mappers::hl7v2::MllpEvent::kMessage) {
          frames.push_back(std::move(e->payload));
        }
      }
      if (frames.size() >= count) break;
      if (!ReadSome(deadline)) break;
    }
    return frames;
  }

  // True when the peer closes the connection before `limit` (bytes that
  // arrive meanwhile are kept for ReadFrames).
  bool WaitForClose(
      std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!closed_) {
      if (!ReadSome(deadline) && !closed_) return false;
    }
    return true;
  }
  bool closed() const { return closed_; }

 private:
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    if (closed_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    decoder_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    return true;
  }

  int fd_;
  bool closed_ = false;
  mappers::hl7v2::MllpDecoder decoder_;
};

inline std::string Frame(std::string_view message) {
  return std::string(1, mappers::hl7v2::kMllpStart) + std::string(message) +
         mappers::hl7v2::kMllpEnd + mappers::hl7v2::kMllpCr;
}

// The segments of an ER7 text (split at CR).
inline std::vector<std::string> SegmentsOf(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\r', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// A test CA, a server certificate for localhost / 127.0.0.1 and a client
// certificate (CN=lab-client), made with the openssl command line.
class TestCerts {
 public:
  TestCerts() {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-mllp-XXXXXX")
            .string();
    char* d = ::mkdtemp(t.data());
    dir_ = d != nullptr ? d : "";
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
    ok_ = Sh("cd '" + dir_ + "' && openssl req -x509 " + ec +
             " -nodes -keyout ca.key -out ca.pem -days 2 -subj "
             "/CN=genogate-test-ca 2>/dev/null && "
             "openssl req " +
             ec +
             " -nodes -keyout srv.key -out srv.csr -subj /CN=localhost "
             "2>/dev/null && printf "
             "'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
             "-CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null && "
             "openssl req " +
             ec +
             " -nodes -keyout cli.key -out cli.csr -subj /CN=lab-client "
             "2>/dev/null && openssl x509 -req -in cli.csr -CA ca.pem -CAkey "
             "ca.key -CAcreateserial -out cli.pem -days 2 2>/dev/null && "
             "openssl req -x509 " +
             ec +
             " -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj "
             "/CN=other-ca 2>/dev/null");
  }
  ~TestCerts() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string ca() const { return dir_ + "/ca.pem"; }
  std::string other_ca() const { return dir_ + "/other-ca.pem"; }
  std::string server_cert() const { return dir_ + "/srv.pem"; }
  std::string server_key() const { return dir_ + "/srv.key"; }
  std::string client_cert() const { return dir_ + "/cli.pem"; }
  std::string client_key() const { return dir_ + "/cli.key"; }

 private:
  std::string dir_;
  bool ok_ = false;
};

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_MLLP_MLLP_TEST_UTIL_H_

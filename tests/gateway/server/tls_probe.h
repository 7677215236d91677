// Raw OpenSSL test clients and servers for the TLS tests of the HTTP server
// and the MLLP listener:
//  - TlsProbe: a client whose protocol range and security level the test
//    chooses (TLS 1.0/1.1 need security level 0 on OpenSSL 3), that tells
//    which certificate the server presented and why a handshake failed;
//  - LegacyTlsServer: a one-connection server that accepts TLS 1.0 and 1.1,
//    the control that shows the probe really speaks the old protocol (so a
//    refusal by genogate is the server's doing, not the client's);
//  - MakeServerCert: a server certificate for localhost / 127.0.0.1 with a
//    chosen CN, signed by a test CA.
#ifndef GENOGATE_TESTS_GATEWAY_SERVER_TLS_PROBE_H_
#define GENOGATE_TESTS_GATEWAY_SERVER_TLS_PROBE_H_

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "gateway/http/test_peers.h"

namespace genogate::gateway::testing {

// "<dir>/<name>.pem" and "<dir>/<name>.key": a P-256 server certificate
// with subject CN=<name> and subjectAltName DNS:localhost, IP:127.0.0.1,
// signed by <dir>/ca.pem (made with the CA when it does not exist).
inline bool MakeServerCert(const std::string& dir, const std::string& name) {
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  return Sh("cd '" + dir + "' && ( test -f ca.pem || openssl req -x509 " + ec +
            " -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=probe-ca "
            "2>/dev/null ) && openssl req " +
            ec + " -nodes -keyout " + name + ".key -out " + name +
            ".csr -subj /CN=" + name +
            " 2>/dev/null && printf "
            "'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > " +
            name + ".ext && openssl x509 -req -in " + name +
            ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + name +
            ".pem -days 2 -extfile " + name + ".ext 2>/dev/null");
}

inline std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// One TLS client connection to 127.0.0.1:port.
class TlsProbe {
 public:
  struct Options {
    int min_version = TLS1_2_VERSION;
    int max_version = 0;  // 0: the highest
    // Security level 0 and every cipher: lets OpenSSL 3 offer TLS 1.0/1.1.
    bool legacy = false;
    std::string ca_file;              // set: verify the server against it
    std::string cert_file, key_file;  // client certificate (mTLS)
  };

  // Connects and handshakes; see ok() / error().
  TlsProbe(int port, const Options& o) {
    ERR_clear_error();
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) {
      Fail("SSL_CTX_new");
      return;
    }
    SSL_CTX_set_min_proto_version(ctx_, o.min_version);
    if (o.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, o.max_version);
    if (o.legacy) {
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "ALL:@SECLEVEL=0");
    }
    if (!o.ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx_, o.ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    if (!o.cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, o.cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM);
    }
    fd_ = ConnectLoopback(port);
    if (fd_ < 0) {
      Fail("connect");
      return;
    }
    timeval tv{20, 0};  // a safety net against hangs
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    if (SSL_connect(ssl_) != 1) {
      unsigned long e = ERR_peek_error();
      protocol_version_alert_ =
          ERR_GET_REASON(e) == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION;
      Fail("handshake");
      return;
    }
    ok_ = true;
    version_ = SSL_version(ssl_);
    if (X509* cert = SSL_get1_peer_certificate(ssl_)) {
      char cn[256] = {0};
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                sizeof(cn));
      server_cn_ = cn;
      X509_free(cert);
    }
  }
  ~TlsProbe() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }
  TlsProbe(const TlsProbe&) = delete;
  TlsProbe& operator=(const TlsProbe&) = delete;

  bool ok() const { return ok_; }
  // Why the connection or handshake failed (OpenSSL's errors).
  const std::string& error() const { return error_; }
  // The handshake failed because the server sent a protocol_version alert.
  bool protocol_version_alert() const { return protocol_version_alert_; }
  int version() const { return version_; }  // TLS1_2_VERSION, ...
  // The CN of the certificate the server presented.
  const std::string& server_cn() const { return server_cn_; }

  bool Write(const std::string& bytes) {
    return ok_ &&
           SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
               static_cast<int>(bytes.size());
  }
  // Reads until `stop` occurs in what was read, the peer closes, or the
  // 20 s safety net; returns what was read.
  std::string ReadUntil(const std::string& stop) {
    std::string out;
    char buf[4096];
    while (ok_ && out.find(stop) == std::string::npos) {
      int n = SSL_read(ssl_, buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  void Fail(const std::string& what) { error_ = what + ": " + OpenSslErrors(); }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
  bool protocol_version_alert_ = false;
  int version_ = 0;
  std::string server_cn_;
  std::string error_;
};

// Accepts one connection on a loopback port and handshakes with TLS 1.0
// up to 1.2 at security level 0; handshake_ok() after Join().
class LegacyTlsServer {
 public:
  LegacyTlsServer(const std::string& cert, const std::string& key) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_security_level(ctx_, 0);
    SSL_CTX_set_cipher_list(ctx_, "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
    ready_ =
        SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) == 1 &&
        SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) == 1;
    listen_fd_ = ListenLoopback(&port_);
    ready_ = ready_ && listen_fd_ >= 0;
    if (!ready_) return;
    thread_ = std::thread([this] {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      timeval tv{20, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      handshake_ok_ = SSL_accept(ssl) == 1;
      if (handshake_ok_) SSL_shutdown(ssl);
      SSL_free(ssl);
      ::close(fd);
    });
  }
  ~LegacyTlsServer() {
    Join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    SSL_CTX_free(ctx_);
  }
  bool ready() const { return ready_; }
  int port() const { return port_; }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool handshake_ok() const { return handshake_ok_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  bool ready_ = false;
  bool handshake_ok_ = false;
  std::thread thread_;
};

// Asserts that a client limited to `version` (TLS1_VERSION or
// TLS1_1_VERSION) completes a handshake with a permissive server (the
// control) and is refused by the server on `port` with a protocol_version
// alert. `cert`/`key`: any certificate for the control server.
inline void ExpectLegacyVersionRefused(int port, int version,
                                       const std::string& cert,
                                       const std::string& key) {
  TlsProbe::Options o;
  o.min_version = version;
  o.max_version = version;
  o.legacy = true;
  {
    LegacyTlsServer control(cert, key);
    ASSERT_TRUE(control.ready());
    TlsProbe probe(control.port(), o);
    control.Join();
    ASSERT_TRUE(probe.ok())
        << "the client cannot speak this version here: " << probe.error();
    EXPECT_EQ(probe.version(), version);
    EXPECT_TRUE(control.handshake_ok());
  }
  TlsProbe refused(port, o);
  EXPECT_FALSE(refused.ok()) << "version " << std::hex << version;
  EXPECT_TRUE(refused.protocol_version_alert()) << refused.error();
}

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_SERVER_TLS_PROBE_H_

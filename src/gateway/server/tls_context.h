// ServerTlsContext: the TLS server context of the HTTP server and the MLLP
// listener, built from PEM files and swapped for a new one when the files
// change or Reload() is called (SIGHUP in `genogate serve`).
//
//   ServerTlsFiles f;  f.cert_file = "gw.pem";  f.key_file = "gw.key";
//   auto tls = ServerTlsContext::Create(f, "HTTP", on_reload);
//   if (!tls.ok()) ...                       // start-up: stop with the error
//   // per accepted connection:
//   std::shared_ptr<boost::asio::ssl::context> ctx = (*tls)->Current();
//   ssl::stream<tcp::socket> stream(std::move(socket), *ctx);  // keep ctx
//
// Policy (both servers): TLS 1.2 or later (1.3 only with min_version
// kTls13), ECDHE + AEAD cipher suites for TLS 1.2, no compression, no
// renegotiation of older protocols; with client_ca_file clients must
// present a certificate that chains to it (mTLS).
//
// Reload: each attempt builds a complete new context from the files. On
// success it replaces the current one: connections accepted afterwards
// handshake with it, connections already open keep the context they
// started with (each holds a reference), so nothing in flight is dropped.
// On failure (unreadable file, bad PEM, key not matching the certificate,
// encrypted key, key file readable or writable by other users) the current
// context stays and the failure is reported;
// messages name the files and OpenSSL's reason, never key material.
// A watcher thread checks the files' identity (device, inode, size,
// modification and change time, following symlinks as certificate
// rotation tools and Kubernetes secret mounts use them) every
// watch_interval and reloads when any changed; a change that fails to load
// is retried only when the files change again.
//
// Thread-safety: every method may be called from any thread.
#ifndef GENOGATE_GATEWAY_SERVER_TLS_CONTEXT_H_
#define GENOGATE_GATEWAY_SERVER_TLS_CONTEXT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace genogate::gateway {

enum class TlsMinVersion { kTls12, kTls13 };

// "1.2" or "1.3"; false otherwise.
bool ParseTlsMinVersion(std::string_view text, TlsMinVersion* out);

struct ServerTlsFiles {
  std::string cert_file;       // PEM chain, server certificate first
  std::string key_file;        // PEM private key, unencrypted
  std::string client_ca_file;  // PEM; set: require client certificates
  TlsMinVersion min_version = TlsMinVersion::kTls12;
  // How often the watcher checks the files; zero: no watcher (Reload()
  // only).
  std::chrono::milliseconds watch_interval{5000};
};

class ServerTlsContext {
 public:
  // Called after every reload attempt (watcher or Reload()), on the calling
  // thread: `result` is the outcome; on success `summary` describes the new
  // certificate ("subject CN=gw, expires Jan  1 00:00:00 2027 GMT"). Must not
  // block for long and must be thread-safe.
  using OnReload =
      std::function<void(const Status& result, const std::string& summary)>;

  // Builds the first context and starts the watcher. `label` starts error
  // messages ("MLLP TLS"). kInvalidInput without cert or key file;
  // kFailedPrecondition when a file cannot be loaded (the message names
  // it).
  static Result<std::unique_ptr<ServerTlsContext>> Create(
      const ServerTlsFiles& files, std::string label, OnReload on_reload);

  ~ServerTlsContext();  // stops the watcher
  ServerTlsContext(const ServerTlsContext&) = delete;
  ServerTlsContext& operator=(const ServerTlsContext&) = delete;

  // The context for a new connection; never null. The caller keeps the
  // pointer for the connection's lifetime.
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  // Builds a new context from the files now, whether they changed or not.
  // Ok: it is current. Errors as Create; the previous context stays.
  Status Reload();

  // Contexts installed since Create (0 before the first reload).
  uint64_t reloads() const;

  // Stops the watcher thread (idempotent); Current() keeps working.
  void StopWatching();

  // The certificate's description as in OnReload's summary.
  std::string summary() const;

  class Impl;

 private:
  explicit ServerTlsContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SERVER_TLS_CONTEXT_H_

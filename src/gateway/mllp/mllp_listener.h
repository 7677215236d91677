// MllpListener: an asynchronous MLLP server (HL7 v2 over TCP, optionally
// TLS) that hands each framed message to an MllpHandler and writes back the
// ACK the handler returns.
//
//   class MyHandler : public MllpHandler { ... };
//   MllpListenerOptions o;  o.host = "0.0.0.0";  o.port = 2575;
//   MyHandler handler;
//   auto listener = MllpListener::Start(o, &handler);   // binds, listens
//   if (!listener.ok()) ...                             // bad address, TLS
//   ...
//   (*listener)->Stop();                                // graceful
//
// Framing is 0x0B message 0x1C 0x0D (mappers/hl7v2/mllp.h). Per connection
// exactly one message is in flight, in order: the next frame is read only
// after the previous one was answered (MLLP is request / ACK). Framing
// errors (oversize frame, truncated frame, bytes outside a frame, end block
// without CR) are answered in the same order through
// MllpHandler::OnFramingError, so the sender always gets one answer per
// attempt. CR, LF, space and tab between frames are ignored.
//
// Threads: the network runs on `network_threads` threads that never block;
// OnMessage / OnFramingError run on a pool of `handler_threads` threads
// (they may block, e.g. on Redis), several connections at once.
//
// Limits and timeouts (each closes the connection when exceeded, except the
// size limit, which is answered):
//  - max_message_bytes: larger frames are skipped and answered through
//    OnFramingError (kOversize);
//  - idle_timeout: no frame started and nothing in flight for this long;
//  - read_timeout: a frame that has started must keep receiving bytes (gap
//    between two reads), and a TLS handshake must finish, within it;
//  - write_timeout: writing one ACK;
//  - max_connections: further connections are accepted and closed at once.
//  The handler itself has no timeout (it cannot be cancelled): it must bound
//  its own blocking calls.
//
// TLS (optional): TLS 1.2 or later (1.3 only with min_version kTls13),
// the server's certificate chain and key (PEM); with client_ca_file,
// clients must present a certificate signed by that CA (mTLS) and its
// subject is passed to the handler. The files are reloaded when they change
// (checked every watch_interval) or on ReloadTls(); connections already
// open keep their session, new ones use the new certificate, and a reload
// that fails keeps the old one (see gateway/server/tls_context.h). Each
// attempt is logged through `log`.
//
// Stop(): stops accepting, closes idle connections, lets every message in
// flight finish and its ACK be written (up to stop_grace), then closes what
// is left and joins all threads. The destructor calls Stop().
//
// Logging: `log` (optional) receives one line per connection event (open,
// close and why, framing errors, timeouts); lines name the peer address and
// connection number, never message content. It is called from network
// threads: it must be thread-safe and must not block.
//
// Thread-safety: Start/Stop/port/stats may be called from any thread;
// Stop is idempotent.
#ifndef GENOGATE_GATEWAY_MLLP_MLLP_LISTENER_H_
#define GENOGATE_GATEWAY_MLLP_MLLP_LISTENER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "gateway/server/tls_context.h"
#include "mappers/hl7v2/er7.h"
#include "mappers/hl7v2/mllp.h"

namespace genogate::gateway {

// Who sent a message.
struct MllpPeer {
  std::string address;         // "127.0.0.1:51234", "[::1]:51234"
  uint64_t connection_id = 0;  // 1, 2, ... per listener
  bool tls = false;
  // mTLS: the client certificate's subject ("/CN=lab-1/O=..."), else "".
  std::string client_subject;
  // mTLS: the client certificate (DER), for mapping it to a caller
  // (TlsPeerFromDer, Authenticator::AuthenticateTlsPeer); else "".
  std::string client_cert_der;
};

// What the listener calls for each message. Implementations must be
// thread-safe: messages of different connections are handled concurrently
// (those of one connection one at a time, in order).
class MllpHandler {
 public:
  virtual ~MllpHandler() = default;
  // The ACK (ER7 text, without framing) for one message `er7` (the frame's
  // content). Runs on a handler thread; may block. Must not throw. An ACK
  // that cannot be framed (holds 0x0B or 0x1C) or an empty one closes the
  // connection.
  virtual std::string OnMessage(std::string_view er7, const MllpPeer& peer) = 0;
  // The ACK (normally AR) for a framing error (event.is_error()). Runs on a
  // handler thread. Must not throw; "" sends nothing.
  virtual std::string OnFramingError(const mappers::hl7v2::MllpEvent& event,
                                     const MllpPeer& peer) = 0;
};

struct MllpTlsOptions {
  std::string cert_file;       // PEM chain, server certificate first
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM; set: require client certificates
  TlsMinVersion min_version = TlsMinVersion::kTls12;
  // How often the files are checked for changes; zero: only ReloadTls().
  std::chrono::milliseconds watch_interval{5000};
};

struct MllpListenerOptions {
  // Address to bind: an IPv4 or IPv6 literal or a host name resolving to
  // one ("0.0.0.0", "::", "127.0.0.1", "localhost"); port 0 picks a free one.
  std::string host = "127.0.0.1";
  uint16_t port = 2575;
  bool tls = false;
  MllpTlsOptions tls_options;

  size_t max_message_bytes = mappers::hl7v2::kMaxMessageBytes;
  size_t max_connections = 256;
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(10);
  std::chrono::milliseconds read_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds write_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds stop_grace = std::chrono::seconds(30);

  int network_threads = 1;
  int handler_threads = 4;

  std::function<void(std::string_view line)> log;
};

// Counters since Start (monotonic).
struct MllpListenerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t connections_open = 0;     // now
  uint64_t messages = 0;             // handed to OnMessage
  uint64_t framing_errors = 0;       // handed to OnFramingError
  uint64_t acks_written = 0;
  uint64_t idle_timeouts = 0;
  uint64_t read_timeouts = 0;
  uint64_t write_timeouts = 0;
  uint64_t tls_failures = 0;  // handshakes that failed or timed out
  uint64_t tls_reloads = 0;   // new certificates installed
};

class MllpListener {
 public:
  // Binds, listens and starts the threads. Errors: kInvalidInput for a bad
  // host or options (no threads, zero limits); kFailedPrecondition when the
  // TLS files cannot be loaded or do not match; kUnavailable when the
  // address cannot be bound (in use, no permission). `handler` must outlive
  // the listener.
  static Result<std::unique_ptr<MllpListener>> Start(
      const MllpListenerOptions& options, MllpHandler* handler);

  ~MllpListener();
  MllpListener(const MllpListener&) = delete;
  MllpListener& operator=(const MllpListener&) = delete;

  // The bound port (the real one when options.port was 0).
  uint16_t port() const;
  MllpListenerStats stats() const;
  // Reloads the TLS certificate, key and client CA from their files now
  // (see above). Ok when the new ones are in use; kFailedPrecondition
  // (naming the file) when they cannot be loaded, the old ones stay;
  // kFailedPrecondition too when the listener has no TLS.
  Status ReloadTls();
  // Graceful stop (see above); returns when every thread has finished.
  void Stop();

  class Impl;

 private:
  explicit MllpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "HOST:PORT" ("127.0.0.1:2575", "[::1]:2575", "lis.example:2575").
// kInvalidInput when there is no port, it is not 1..65535 (0 allowed when
// allow_port_zero), or the host is empty.
Result<std::pair<std::string, uint16_t>> ParseHostPort(
    std::string_view text, bool allow_port_zero = false);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_MLLP_MLLP_LISTENER_H_

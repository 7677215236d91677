// ServerConfig: the `server:` section of genogate's YAML configuration
// (the file that also holds `endpoints:`, see endpoint.h), and the rules
// `genogate serve` applies to it.
//
//   server:
//     listen: 127.0.0.1:8080          # HOST:PORT, [IPv6]:PORT
//     data_dir: /var/lib/genogate     # embedded Redis data, outboxes
//     log_level: info                 # debug | info | warn | error
//     insecure_allow_unauthenticated: false
//     tls:
//       cert_file: certs/gateway.pem  # chain, PEM
//       key_file: certs/gateway.key
//       client_ca_file: certs/labs-ca.pem   # mTLS: clients must present a cert
//       min_version: "1.2"            # "1.2" (default) or "1.3"
//     threads:
//       network: 1
//       handlers: 8
//       queue: 64                     # requests waiting for a handler
//     limits:
//       max_connections: 512
//       max_header_bytes: 16384
//       max_body_bytes: 16777216      # any media type not listed below
//       body_bytes_by_type:
//         text/x-vcf: 268435456
//       header_timeout_ms: 10000
//       body_timeout_ms: 300000
//       idle_timeout_ms: 30000
//       write_timeout_ms: 60000
//       retry_after_seconds: 5
//     shutdown_grace_ms: 30000
//   queue:
//     high_water_mark: 10000          # ready + delayed jobs; above: 503
//   redis:                            # absent: embedded redis-server
//     url: redis://redis.internal:6379/0
//     password_env: GENOGATE_REDIS_PASSWORD   # optional
//   mllp:                             # HL7 v2 listener; absent: none
//     listen: 0.0.0.0:2575            # HOST:PORT, [IPv6]:PORT (--mllp-listen)
//     tls:                            # absent: plain TCP
//       cert_file: certs/mllp.pem     # chain, PEM (both required)
//       key_file: certs/mllp.key
//       client_ca_file: certs/labs-ca.pem   # mTLS: labs must present a cert
//       min_version: "1.2"            # "1.2" (default) or "1.3"
//     max_message_bytes: 10485760     # larger frames get AR (ERR 104)
//     max_connections: 256            # more are closed at once
//     idle_timeout_ms: 600000         # no frame for this long: close
//     read_timeout_ms: 30000          # gap inside a frame; TLS handshake
//     write_timeout_ms: 30000         # writing one ACK
//
// TLS files of both listeners are reloaded when they change (checked every
// 5 s) and on SIGHUP; a file that cannot be loaded then keeps the previous
// certificate (gateway/server/tls_context.h).
//
//   queue:
//     key_file: secrets/queue.keys    # absent: DATA_DIR/queue.key
//     reclaim_idle_ms: 120000         # a dead replica's delivery is taken
//                                     # over after this long
//     report_lease_ms: 300000         # per-report in-flight lease
//     high_water_mark: 10000          # above: enqueueing routes answer 503
//
// The top-level section `security` belongs to another parser and is not
// checked here; any other top-level key is an error. Every `mllp:` and
// `queue:` key is checked here (mllp bounds: max_message_bytes 1024..1 GiB,
// max_connections 1..100000, timeouts 1 ms..24 h; queue times 1 s..24 h).
// reclaim_idle_ms should exceed the longest delivery attempt of any
// endpoint (see delivery_queue.h), else a live delivery can be taken over
// and sent twice (the EHR's conditional creates absorb the repeat).
//
// Every key is optional; the defaults are safe (loopback, embedded Redis).
// Relative paths are resolved against the file's directory. The file's
// `endpoints:` section is read by ParseEndpointsYaml (endpoint.h); this
// header does not include endpoint.h because the HTTP client's
// HttpRequest/HttpResponse (which it pulls in) share names with the
// server's messages.
//
// Thread-safety: plain values.
#ifndef GENOGATE_GATEWAY_CONFIG_SERVER_CONFIG_H_
#define GENOGATE_GATEWAY_CONFIG_SERVER_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/queue/delivery_queue.h"
#include "gateway/server/http_server.h"

namespace genogate::gateway {

struct ServerConfig {
  // Where to listen; http.host / http.port hold the parsed form.
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "genogate-data";
  // `redis.url`; empty: start and supervise a private redis-server in
  // data_dir/redis.
  std::string redis_url;
  // `redis.password_env`: the environment variable holding the password
  // (never the password itself in the file).
  std::string redis_password_env;
  // Set by the wiring when caller authentication (the `security:` section:
  // API keys, JWT issuers, mTLS mappings) is configured; CheckListenSafety
  // then allows any address.
  bool authentication_configured = false;
  std::string log_level = "info";
  // Opt-in to run the MLLP listener on a non-loopback address without
  // client certificates (behind an integration engine that authenticates
  // the labs). It never opens the HTTP API: CheckListenSafety ignores it.
  bool insecure_allow_unauthenticated = false;
  std::chrono::milliseconds shutdown_grace{30'000};
  // `queue.key_file`: the queue's key ring (crypto/key_ring.h); empty:
  // serve creates or loads DATA_DIR/queue.key.
  std::string queue_key_file;
  // `queue.high_water_mark`: while more jobs than this (ready + delayed, all
  // endpoints) wait, the routes that enqueue answer 503 + Retry-After.
  int64_t queue_high_water_mark = 10'000;
  // `queue.reclaim_idle_ms` and `queue.report_lease_ms` (the rest keeps
  // QueueOptions' defaults).
  QueueOptions queue;
  // `mllp.listen`: HOST:PORT of the MLLP listener; empty: none.
  std::string mllp_listen;
  // The rest of `mllp:` (host/port parsed from mllp.listen; tls set when
  // mllp.tls is present). Threads, stop grace and log are the wiring's.
  MllpListenerOptions mllp;
  // Limits, threads, TLS files (host/port from `listen`).
  HttpServerOptions http;
};

// Parses the YAML text's `server:` and `redis:` sections (both optional;
// unknown top-level keys are refused). kInvalidInput with
// "<file>:<line>: <key>: <problem>" (as ParseEndpointsYaml) for syntax
// errors, unknown keys and bad values. *has_endpoints (if not null) tells
// whether the file has an `endpoints:` section.
Result<ServerConfig> ParseServerConfigYaml(std::string_view yaml,
                                           std::string_view file_name,
                                           bool* has_endpoints = nullptr);

// Reads and parses a file; relative paths (data_dir, TLS files of both
// listeners, queue.key_file) are
// resolved against its directory. kNotFound / kIo as ReadFile.
Result<ServerConfig> LoadServerConfigFile(const std::string& path,
                                          bool* has_endpoints = nullptr);

// Parses "HOST:PORT" or "[IPv6]:PORT" (port 0..65535; 0 picks a free one).
// kInvalidInput otherwise.
Status ParseListenAddress(std::string_view listen, std::string* host,
                          uint16_t* port);

// True for "localhost", 127.0.0.0/8 and ::1.
bool IsLoopbackHost(std::string_view host);

// The start-up rule: a non-loopback address needs caller authentication
// (authentication_configured; a client CA alone maps no caller to a role,
// so it does not count, and insecure_allow_unauthenticated does not
// either). kFailedPrecondition with a message that says how to configure
// it.
Status CheckListenSafety(const ServerConfig& config);

// The same rule for the MLLP listener at `listen` (HOST:PORT, the
// effective mllp.listen or --mllp-listen; "" : no listener, Ok). MLLP's
// only caller authentication is mTLS, so a non-loopback address needs
// config.mllp.tls with a client CA, or insecure_allow_unauthenticated.
// kInvalidInput for a bad address; kFailedPrecondition with a message that
// says how to configure it.
Status CheckMllpListenSafety(const ServerConfig& config,
                             std::string_view listen);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_CONFIG_SERVER_CONFIG_H_

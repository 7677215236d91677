// MllpClient: a synchronous MLLP sender (plain TCP or TLS), for
// `genogate mllp send`, tests and the benchmark.
//
//   auto c = MllpClient::Connect(options);      // TCP (+ TLS handshake)
//   Result<std::string> ack = (*c)->Send(er7);  // frame, write, read ACK
//
// Every operation has a deadline (connect_timeout for connect + handshake,
// timeout for one Send); when it passes the connection is closed.
//
// Thread-safety: one MllpClient per thread; SplitMessages is pure.
#ifndef GENOGATE_GATEWAY_MLLP_MLLP_CLIENT_H_
#define GENOGATE_GATEWAY_MLLP_MLLP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "mappers/hl7v2/er7.h"

namespace genogate::gateway {

struct MllpClientOptions {
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  // TLS: CA bundle (PEM) to verify the server with; empty: the system's.
  std::string ca_file;
  // TLS: client certificate chain and key (PEM) for mTLS.
  std::string cert_file;
  std::string key_file;
  // TLS: the name the server certificate must carry (and SNI); default
  // `host`.
  std::string server_name;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  size_t max_ack_bytes = mappers::hl7v2::kMaxMessageBytes;
};

class MllpClient {
 public:
  // Errors: kUnavailable when the host cannot be resolved or reached or
  // the TLS handshake fails (the message says why: refused, certificate
  // verify failed, ...); kTimeout; kFailedPrecondition when the TLS files
  // cannot be loaded.
  static Result<std::unique_ptr<MllpClient>> Connect(
      const MllpClientOptions& options);
  ~MllpClient();
  MllpClient(const MllpClient&) = delete;
  MllpClient& operator=(const MllpClient&) = delete;

  // Sends one message (ER7 text, unframed) and returns the content of the
  // next frame received (the ACK). Errors: kInvalidInput when the message
  // holds 0x0B or 0x1C; kTimeout; kUnavailable when the connection fails
  // or closes before a complete frame; kLimitExceeded for an answer larger
  // than max_ack_bytes. After an error the client is unusable.
  Result<std::string> Send(std::string_view message);

  class Impl;

 private:
  explicit MllpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits a file holding one or more ER7 messages: a message starts at each
// line beginning with "MSH" and after blank lines or MLLP framing bytes
// (0x0B, 0x1C: a captured MLLP stream); batch envelopes (FHS, BHS, BTS, FTS
// lines) are dropped. Segments of each message are joined
// with CR (LF and CRLF accepted). Empty when there is no message.
std::vector<std::string> SplitMessages(std::string_view text);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_MLLP_MLLP_CLIENT_H_

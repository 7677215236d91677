// MLLP (Minimal Lower Layer Protocol) framing: <VT> message <FS><CR>, i.e.
// 0x0B, the message, 0x1C 0x0D. A pure codec: no sockets, no clock.
//
//   MllpDecoder dec;
//   dec.Feed(bytes_from_socket);
//   while (std::optional<MllpEvent> e = dec.Next()) {
//     if (e->kind == MllpEvent::kMessage) Handle(e->payload);
//     else Log(e->detail);            // framing problem, decoder resynced
//   }
//   dec.Finish();                     // at end of stream: truncated frame?
//
// Errors never stop the decoder: it reports and resynchronises on the next
// start block. Bytes outside a frame are reported once per run (a run ends
// at the next start block or at Finish()). A frame larger than
// max_message_bytes is reported and skipped up to its end block (or the
// next start block). A start block inside a frame means the frame was
// truncated: it is reported and the new frame begins.
//
// Thread-safety: an MllpDecoder is not synchronised; use one per
// connection. MllpEncode is a pure function.
#ifndef GENOGATE_MAPPERS_HL7V2_MLLP_H_
#define GENOGATE_MAPPERS_HL7V2_MLLP_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "mappers/hl7v2/er7.h"
#include "mappers/hl7v2/problem.h"

namespace genogate::mappers::hl7v2 {

inline constexpr char kMllpStart = 0x0B;
inline constexpr char kMllpEnd = 0x1C;
inline constexpr char kMllpCr = 0x0D;

struct MllpOptions {
  size_t max_message_bytes = kMaxMessageBytes;
  // Accept CR / LF / space / tab between frames without reporting them.
  bool ignore_whitespace_between_frames = false;
};

struct MllpEvent {
  enum Kind {
    kMessage,            // payload holds one complete message
    kBytesOutsideFrame,  // bytes before a start block
    kOversize,           // a frame exceeded max_message_bytes; skipped
    kTruncated,          // a frame ended (new start block / end of stream)
                         // without its end block
    kBadEndBlock,        // 0x1C not followed by 0x0D; the frame is dropped
  };
  Kind kind = kMessage;
  // kMessage: the message. kTruncated / kBadEndBlock: the partial frame
  // (enough, often, to answer with an ACK that names its MSH-10).
  std::string payload;
  uint64_t offset = 0;  // stream offset of the frame start / first stray byte
  uint64_t length = 0;  // bytes concerned (payload size, stray bytes, ...)
  std::string detail;   // human-readable, no content quoted

  bool is_error() const { return kind != kMessage; }
};

class MllpDecoder {
 public:
  explicit MllpDecoder(MllpOptions options = {}) : options_(options) {}

  // Consumes `bytes` (any split of the stream is fine).
  void Feed(std::string_view bytes);
  // End of stream: reports a pending truncated frame or stray bytes.
  void Finish();
  // The next event, or nullopt when none is ready.
  std::optional<MllpEvent> Next();

  // True while inside a frame (bytes of a message are buffered).
  bool in_frame() const {
    return state_ == State::kInFrame || state_ == State::kAfterEnd;
  }
  // True while skipping the rest of an oversize frame.
  bool skipping() const {
    return state_ == State::kDiscarding || state_ == State::kDiscardAfterEnd;
  }
  uint64_t bytes_consumed() const { return offset_; }

 private:
  enum class State {
    kIdle,
    kInFrame,
    kAfterEnd,
    kDiscarding,
    kDiscardAfterEnd
  };
  void Emit(MllpEvent::Kind kind, uint64_t offset, uint64_t length,
            std::string detail);
  void FlushStray();
  void StartFrame();

  MllpOptions options_;
  State state_ = State::kIdle;
  std::string buffer_;
  uint64_t offset_ = 0;  // bytes consumed so far
  uint64_t frame_start_ = 0;
  uint64_t stray_start_ = 0;
  uint64_t stray_count_ = 0;
  uint64_t discarded_ = 0;
  std::deque<MllpEvent> events_;
};

// A framing error as a Problem that rejects the message (table 0357: 104
// for oversize frames, else 100), without a segment location, for an ACK
// (see BuildFramingAck in ack.h). Precondition: e.is_error().
Problem MllpProblem(const MllpEvent& e);

// <VT> message <FS><CR>. Fails with kInvalidInput if `message` contains 0x0B
// or 0x1C (they would break the framing).
Result<std::string> MllpEncode(std::string_view message);

}  // namespace genogate::mappers::hl7v2

#endif  // GENOGATE_MAPPERS_HL7V2_MLLP_H_

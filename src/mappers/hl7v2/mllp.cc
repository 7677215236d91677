#include "mappers/hl7v2/mllp.h"

#include <cstring>
#include <string>

namespace genogate::mappers::hl7v2 {

void MllpDecoder::Emit(MllpEvent::Kind kind, uint64_t offset, uint64_t length,
                       std::string detail) {
  MllpEvent e;
  e.kind = kind;
  e.offset = offset;
  e.length = length;
  e.detail = std::move(detail);
  events_.push_back(std::move(e));
}

void MllpDecoder::FlushStray() {
  if (stray_count_ == 0) return;
  Emit(MllpEvent::kBytesOutsideFrame, stray_start_, stray_count_,
       std::to_string(stray_count_) +
           " byte(s) outside an MLLP frame at offset " +
           std::to_string(stray_start_) + " ignored");
  stray_count_ = 0;
}

void MllpDecoder::StartFrame() {
  FlushStray();
  buffer_.clear();
  frame_start_ = offset_;
  state_ = State::kInFrame;
}

void MllpDecoder::Feed(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    switch (state_) {
      case State::kIdle: {
        char b = bytes[i];
        if (b == kMllpStart) {
          StartFrame();
        } else {
          bool ws = b == '\r' || b == '\n' || b == ' ' || b == '\t';
          if (!(ws && options_.ignore_whitespace_between_frames)) {
            if (stray_count_ == 0) stray_start_ = offset_;
            ++stray_count_;
          }
        }
        ++i;
        ++offset_;
        break;
      }
      case State::kInFrame: {
        // Copy up to the next control byte in one go.
        std::string_view rest = bytes.substr(i);
        size_t n = 0;
        while (n < rest.size() && rest[n] != kMllpEnd &&
               rest[n] != kMllpStart) {
          ++n;
        }
        size_t room = options_.max_message_bytes - buffer_.size();
        if (n > room) {
          uint64_t seen = buffer_.size() + n;
          Emit(MllpEvent::kOversize, frame_start_, seen,
               "MLLP frame at offset " + std::to_string(frame_start_) +
                   " exceeds " + std::to_string(options_.max_message_bytes) +
                   " bytes; skipped to its end block");
          buffer_.clear();
          buffer_.shrink_to_fit();
          discarded_ = seen;
          state_ = State::kDiscarding;
          i += n;
          offset_ += n;
          break;
        }
        buffer_.append(rest.data(), n);
        i += n;
        offset_ += n;
        if (i < bytes.size()) {
          if (bytes[i] == kMllpEnd) {
            state_ = State::kAfterEnd;
            ++i;
            ++offset_;
          } else {  // a start block inside the frame
            Emit(MllpEvent::kTruncated, frame_start_, buffer_.size(),
                 "MLLP frame at offset " + std::to_string(frame_start_) +
                     " has no end block before the next start block; "
                     "dropped");
            events_.back().payload = std::move(buffer_);
            StartFrame();
            ++i;
            ++offset_;
          }
        }
        break;
      }
      case State::kAfterEnd: {
        if (bytes[i] == kMllpCr) {
          MllpEvent e;
          e.kind = MllpEvent::kMessage;
          e.offset = frame_start_;
          e.length = buffer_.size();
          e.payload = std::move(buffer_);
          events_.push_back(std::move(e));
          buffer_.clear();
          state_ = State::kIdle;
          ++i;
          ++offset_;
        } else {
          Emit(MllpEvent::kBadEndBlock, frame_start_, buffer_.size(),
               "MLLP end block 0x1C at offset " + std::to_string(offset_ - 1) +
                   " is not followed by 0x0D; frame dropped");
          events_.back().payload = std::move(buffer_);
          buffer_.clear();
          state_ = State::kIdle;  // the byte is read again as outside a frame
        }
        break;
      }
      case State::kDiscarding:
      case State::kDiscardAfterEnd: {
        char b = bytes[i];
        if (b == kMllpStart) {
          StartFrame();
        } else if (state_ == State::kDiscardAfterEnd && b == kMllpCr) {
          state_ = State::kIdle;
        } else {
          state_ = b == kMllpEnd ? State::kDiscardAfterEnd : State::kDiscarding;
        }
        ++i;
        ++offset_;
        break;
      }
    }
  }
}

void MllpDecoder::Finish() {
  if (state_ == State::kInFrame || state_ == State::kAfterEnd) {
    Emit(MllpEvent::kTruncated, frame_start_, buffer_.size(),
         "stream ended inside the MLLP frame at offset " +
             std::to_string(frame_start_) + "; dropped");
    events_.back().payload = std::move(buffer_);
    buffer_.clear();
  }
  FlushStray();
  state_ = State::kIdle;
}

std::optional<MllpEvent> MllpDecoder::Next() {
  if (events_.empty()) return std::nullopt;
  MllpEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Problem MllpProblem(const MllpEvent& e) {
  Problem p;
  p.rejects_message = true;
  p.reason = e.detail;
  p.code = e.kind == MllpEvent::kOversize ? Hl7Error::kValueTooLong
                                          : Hl7Error::kSegmentSequence;
  return p;
}

Result<std::string> MllpEncode(std::string_view message) {
  for (char c : message) {
    if (c == kMllpStart || c == kMllpEnd) {
      return Error(ErrorCode::kInvalidInput,
                   "message contains an MLLP control byte (0x0B or 0x1C)");
    }
  }
  std::string out;
  out.reserve(message.size() + 3);
  out.push_back(kMllpStart);
  out.append(message);
  out.push_back(kMllpEnd);
  out.push_back(kMllpCr);
  return out;
}

}  // namespace genogate::mappers::hl7v2

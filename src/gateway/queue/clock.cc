#include "gateway/queue/clock.h"

#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace genogate::gateway {

int64_t ToUnixMillis(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             t.time_since_epoch())
      .count();
}

Timestamp FromUnixMillis(int64_t ms) {
  return Timestamp(std::chrono::duration_cast<Timestamp::duration>(
      std::chrono::milliseconds(ms)));
}

const SystemClock* SystemClock::Get() {
  static const SystemClock clock;
  return &clock;
}

FakeClock::FakeClock() : ms_(1767225600000) {}  // 2026-01-01T00:00:00Z
FakeClock::FakeClock(Timestamp start) : ms_(ToUnixMillis(start)) {}
Timestamp FakeClock::Now() const { return FromUnixMillis(ms_.load()); }
void FakeClock::Set(Timestamp t) { ms_.store(ToUnixMillis(t)); }
void FakeClock::Advance(std::chrono::milliseconds d) { ms_ += d.count(); }

std::string RandomIdGenerator::NewId() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // The CSPRNG failing is not recoverable; ids must never repeat.
    std::abort();
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // variant 10
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%"
                "02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string SequentialIdGenerator::NewId() {
  return prefix_ + std::to_string(next_++);
}

}  // namespace genogate::gateway

// Clock and IdGenerator: time and unique ids behind interfaces, so that retry
// scheduling, leases and ids are testable without sleeping or randomness.
//
// Thread-safety: every implementation here is safe to use from several
// threads at once (FakeClock and SequentialIdGenerator are internally
// synchronised).
#ifndef GENOGATE_GATEWAY_QUEUE_CLOCK_H_
#define GENOGATE_GATEWAY_QUEUE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace genogate::gateway {

// Wall-clock time as used by the queue (stored with millisecond precision).
using Timestamp = std::chrono::system_clock::time_point;

// Milliseconds since the Unix epoch, and back.
int64_t ToUnixMillis(Timestamp t);
Timestamp FromUnixMillis(int64_t ms);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The system's wall clock.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance (stateless, so not mutable global state).
  static const SystemClock* Get();
};

// A clock that only moves when told to. Starts at `start` (default: a fixed
// instant, 2026-01-01T00:00:00Z).
class FakeClock final : public Clock {
 public:
  FakeClock();
  explicit FakeClock(Timestamp start);
  Timestamp Now() const override;
  void Set(Timestamp t);
  void Advance(std::chrono::milliseconds d);

 private:
  std::atomic<int64_t> ms_;
};

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // A new id, unique for the lifetime of the deployment: [0-9a-z-] only.
  virtual std::string NewId() = 0;
};

// Random 128-bit ids as UUID v4 text (from the OpenSSL CSPRNG).
class RandomIdGenerator final : public IdGenerator {
 public:
  std::string NewId() override;
};

// "<prefix>1", "<prefix>2", ... for tests.
class SequentialIdGenerator final : public IdGenerator {
 public:
  explicit SequentialIdGenerator(std::string prefix = "id-")
      : prefix_(std::move(prefix)) {}
  std::string NewId() override;

 private:
  std::string prefix_;
  std::atomic<int64_t> next_{1};
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_QUEUE_CLOCK_H_

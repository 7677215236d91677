// QueueMonitor: the delivery queue's depth, polled in the background, for
// back-pressure. While the depth (ready + delayed jobs, all endpoints) is
// above the high-water mark, overloaded() is true and the HTTP server
// answers the routes that enqueue with 503 + Retry-After
// (HttpServerOptions::overloaded) before reading their bodies.
//
//   QueueMonitor m(queue, {.high_water_mark = 10'000});
//   server_options.overloaded = [&m] { return m.overloaded(); };
//
// The first poll happens in the constructor's thread before it returns, so
// a server started afterwards never sees a stale "not overloaded". When the
// queue cannot be read (Redis down), the last answer stays.
//
// Thread-safety: overloaded() and depth() from any thread (atomics); Stop
// and the destructor from the owner.
#ifndef GENOGATE_GATEWAY_QUEUE_QUEUE_MONITOR_H_
#define GENOGATE_GATEWAY_QUEUE_QUEUE_MONITOR_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "gateway/queue/delivery_queue.h"

namespace genogate::gateway {

struct QueueMonitorOptions {
  // Overloaded while ready + delayed jobs (all endpoints) exceed this.
  int64_t high_water_mark = 10'000;
  // Time between polls.
  std::chrono::milliseconds interval{1'000};
};

class QueueMonitor {
 public:
  // Polls once, then starts the polling thread. `queue` is not owned and
  // must outlive the monitor.
  QueueMonitor(DeliveryQueue* queue, QueueMonitorOptions options);
  ~QueueMonitor();  // Stop()
  QueueMonitor(const QueueMonitor&) = delete;
  QueueMonitor& operator=(const QueueMonitor&) = delete;

  // Cheap and non-blocking: whether the last poll found the queue above
  // its high-water mark.
  bool overloaded() const { return overloaded_.load(); }
  // The depth the last successful poll found (-1 before any).
  int64_t depth() const { return depth_.load(); }

  // Stops and joins the polling thread. Idempotent.
  void Stop();

 private:
  void Poll();
  void Run();

  DeliveryQueue* queue_;
  QueueMonitorOptions options_;
  std::atomic<bool> overloaded_{false};
  std::atomic<int64_t> depth_{-1};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_QUEUE_QUEUE_MONITOR_H_

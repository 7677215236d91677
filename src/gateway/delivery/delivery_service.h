// DeliveryService: runs the delivery of every configured endpoint: per
// endpoint one DeliveryTarget (FHIR client or file:// outbox), one
// CircuitBreaker, and `Endpoint::concurrency` DeliveryWorker threads, all on
// one DeliveryQueue. It is what `genogate serve` and `genogate queue work`
// start.
//
//   Result<std::unique_ptr<DeliveryService>> s =
//       DeliveryService::Create(endpoints, queue.get(), {});
//   (*s)->Start();
//   ... (*s)->Stats() for metrics ...
//   (*s)->Stop();  // graceful; also done by the destructor
//
// Graceful stop: Stop() asks every worker to stop and waits for them; a
// worker finishes the delivery it is making (send, then ack / retry /
// dead-letter in the queue) and claims nothing more. Each worker claims one
// job at a time, so nothing else is held: the rest stays in the queue for
// the next start or for other replicas. A process killed instead (SIGKILL)
// loses nothing either: its claimed job is reclaimed after the queue's
// reclaim_idle (at-least-once; the EHR's conditional creates absorb the
// repeat).
//
// Thread-safety: Start, Stop, running and Stats may be called from any
// thread at any time (Start and Stop are serialised; Stats never waits for
// a delivery).
#ifndef GENOGATE_GATEWAY_DELIVERY_DELIVERY_SERVICE_H_
#define GENOGATE_GATEWAY_DELIVERY_DELIVERY_SERVICE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "gateway/config/endpoint.h"
#include "gateway/delivery/target.h"
#include "gateway/delivery/worker.h"
#include "gateway/queue/clock.h"
#include "gateway/queue/delivery_queue.h"

namespace genogate::gateway {

struct DeliveryServiceOptions {
  // Consumer names in the queue are "<consumer_prefix>/<endpoint>/<n>"; it
  // must be unique per process among the replicas sharing the queue. Empty:
  // "<host name>-<pid>".
  std::string consumer_prefix;
  // Builds an endpoint's target; empty: MakeTarget (tests pass targets over
  // a fake HttpClient).
  std::function<Result<std::unique_ptr<DeliveryTarget>>(const Endpoint&)>
      make_target;
  // Not owned; nullptr: the system clock / a RandomJitter owned by the
  // service.
  const Clock* clock = nullptr;
  Jitter* jitter = nullptr;
  // A worker waits this long (real time) after a pass with nothing to do,
  // after a queue error (Redis down), or while its breaker is open.
  std::chrono::milliseconds idle_wait{200};
  // Passed to every worker (worker.h): Provenance on delivered bundles, the
  // software name it gives, and where delivery events are recorded (not
  // owned; null: none).
  bool add_provenance = true;
  std::string software = "genogate";
  AuditSink* audit = nullptr;
};

// Per endpoint, for metrics. Counters are since Start (this process).
struct EndpointDeliveryStats {
  std::string endpoint;
  int workers = 0;
  int64_t delivered = 0;
  int64_t retried = 0;
  int64_t dead_lettered = 0;
  CircuitBreaker::State circuit = CircuitBreaker::State::kClosed;
  int64_t circuit_opened = 0;  // times the breaker opened
};

class DeliveryService {
 public:
  // Builds the targets, breakers and workers (no thread runs yet). `queue`
  // is not owned and must outlive the service. Errors: kInvalidInput for no
  // endpoints or a duplicate name; an endpoint's target errors (MakeTarget:
  // missing outbox, unloadable secret or key, bad TLS files) with the
  // endpoint's name in the message.
  static Result<std::unique_ptr<DeliveryService>> Create(
      std::vector<Endpoint> endpoints, DeliveryQueue* queue,
      DeliveryServiceOptions options);
  ~DeliveryService();  // Stop()
  DeliveryService(const DeliveryService&) = delete;
  DeliveryService& operator=(const DeliveryService&) = delete;

  // Starts the worker threads; no-op if running.
  void Start();
  // Graceful stop (see the top of this file); returns when every worker
  // thread has ended. Idempotent; Start may be called again afterwards.
  void Stop();
  bool running() const;

  // One entry per endpoint, in configuration order.
  std::vector<EndpointDeliveryStats> Stats() const;

 private:
  struct Lane;
  DeliveryService() = default;

  DeliveryQueue* queue_ = nullptr;
  DeliveryServiceOptions options_;
  std::unique_ptr<Jitter> own_jitter_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::mutex lifecycle_mu_;  // Start / Stop
  // Guards the lanes' worker lists and earlier counters (Stats reads them
  // while Stop waits for the threads).
  mutable std::mutex stats_mu_;
  std::atomic<bool> running_{false};
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_DELIVERY_DELIVERY_SERVICE_H_

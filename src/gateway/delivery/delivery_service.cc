#include "gateway/delivery/delivery_service.h"

#include <unistd.h>

#include <set>
#include <thread>

namespace genogate::gateway {

struct DeliveryService::Lane {
  Endpoint endpoint;
  std::unique_ptr<DeliveryTarget> target;
  std::unique_ptr<CircuitBreaker> breaker;
  std::vector<std::unique_ptr<DeliveryWorker>> workers;
  std::vector<std::thread> threads;
  // Counters of the workers of earlier runs (Start after Stop).
  WorkerStats earlier;
};

namespace {

std::string DefaultConsumerPrefix() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "host");
  }
  return std::string(host) + "-" + std::to_string(::getpid());
}

}  // namespace

Result<std::unique_ptr<DeliveryService>> DeliveryService::Create(
    std::vector<Endpoint> endpoints, DeliveryQueue* queue,
    DeliveryServiceOptions options) {
  if (endpoints.empty()) {
    return Error(ErrorCode::kInvalidInput, "no endpoints to deliver to");
  }
  if (queue == nullptr) {
    return Error(ErrorCode::kInvalidInput, "no delivery queue");
  }
  std::unique_ptr<DeliveryService> s(new DeliveryService());
  s->queue_ = queue;
  s->options_ = std::move(options);
  if (s->options_.consumer_prefix.empty()) {
    s->options_.consumer_prefix = DefaultConsumerPrefix();
  }
  if (s->options_.clock == nullptr) s->options_.clock = SystemClock::Get();
  if (s->options_.jitter == nullptr) {
    s->own_jitter_ = std::make_unique<RandomJitter>();
    s->options_.jitter = s->own_jitter_.get();
  }
  std::set<std::string> names;
  for (Endpoint& e : endpoints) {
    if (!names.insert(e.name).second) {
      return Error(ErrorCode::kInvalidInput,
                   "endpoint '" + e.name + "' is configured twice");
    }
    auto lane = std::make_unique<Lane>();
    Result<std::unique_ptr<DeliveryTarget>> target =
        s->options_.make_target ? s->options_.make_target(e)
                                : MakeTarget(e, s->options_.clock);
    if (!target.ok()) {
      const std::string& m = target.error().message();
      if (m.find("'" + e.name + "'") != std::string::npos)
        return target.error();
      return target.error().WithContext("endpoint '" + e.name + "'");
    }
    lane->target = std::move(target).value();
    CircuitBreakerOptions bo;
    bo.failure_threshold = e.circuit_failures;
    bo.cool_down = e.circuit_cool_down;
    lane->breaker = std::make_unique<CircuitBreaker>(bo, s->options_.clock);
    lane->endpoint = std::move(e);
    s->lanes_.push_back(std::move(lane));
  }
  return s;
}

DeliveryService::~DeliveryService() { Stop(); }

bool DeliveryService::running() const { return running_; }

void DeliveryService::Start() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (running_) return;
  std::lock_guard<std::mutex> lock(stats_mu_);
  for (auto& lane : lanes_) {
    for (int i = 0; i < lane->endpoint.concurrency; ++i) {
      WorkerOptions o = WorkerOptionsFor(
          lane->endpoint, options_.consumer_prefix + "/" + lane->endpoint.name +
                              "/" + std::to_string(i));
      // One job per claim: a stopping worker then holds nothing but the
      // delivery it is finishing.
      o.batch = 1;
      o.idle_wait = options_.idle_wait;
      o.add_provenance = options_.add_provenance;
      o.software = options_.software;
      o.audit = options_.audit;
      lane->workers.push_back(std::make_unique<DeliveryWorker>(
          o, queue_, lane->target.get(), lane->breaker.get(), options_.clock,
          options_.jitter));
    }
    for (auto& w : lane->workers) {
      DeliveryWorker* worker = w.get();
      lane->threads.emplace_back([worker] { worker->Run(); });
    }
  }
  running_ = true;
}

void DeliveryService::Stop() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (!running_) return;
  // The worker and thread lists change only under lifecycle_mu_, which is
  // held: no stats_mu_ needed to walk them.
  for (auto& lane : lanes_) {
    for (auto& w : lane->workers) w->Stop();
  }
  for (auto& lane : lanes_) {
    for (auto& t : lane->threads) t.join();
    lane->threads.clear();
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  for (auto& lane : lanes_) {
    for (auto& w : lane->workers) {
      WorkerStats st = w->stats();
      lane->earlier.delivered += st.delivered;
      lane->earlier.retried += st.retried;
      lane->earlier.dead_lettered += st.dead_lettered;
      lane->earlier.probes += st.probes;
      lane->earlier.skipped_open += st.skipped_open;
    }
    lane->workers.clear();
  }
  running_ = false;
}

std::vector<EndpointDeliveryStats> DeliveryService::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  std::vector<EndpointDeliveryStats> out;
  for (const auto& lane : lanes_) {
    EndpointDeliveryStats s;
    s.endpoint = lane->endpoint.name;
    s.workers = static_cast<int>(lane->workers.size());
    s.delivered = lane->earlier.delivered;
    s.retried = lane->earlier.retried;
    s.dead_lettered = lane->earlier.dead_lettered;
    for (const auto& w : lane->workers) {
      WorkerStats st = w->stats();
      s.delivered += st.delivered;
      s.retried += st.retried;
      s.dead_lettered += st.dead_lettered;
    }
    s.circuit = lane->breaker->state();
    s.circuit_opened = lane->breaker->times_opened();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace genogate::gateway

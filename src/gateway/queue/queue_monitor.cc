#include "gateway/queue/queue_monitor.h"

#include <vector>

namespace genogate::gateway {

QueueMonitor::QueueMonitor(DeliveryQueue* queue, QueueMonitorOptions options)
    : queue_(queue), options_(options) {
  Poll();
  thread_ = std::thread([this] { Run(); });
}

QueueMonitor::~QueueMonitor() { Stop(); }

void QueueMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void QueueMonitor::Poll() {
  Result<std::vector<QueueStats>> stats = queue_->AllStats();
  if (!stats.ok()) return;
  int64_t depth = 0;
  for (const QueueStats& s : *stats) depth += s.ready + s.delayed;
  depth_.store(depth);
  overloaded_.store(depth > options_.high_water_mark);
}

void QueueMonitor::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, options_.interval, [this] { return stop_; })) {
    lock.unlock();
    Poll();
    lock.lock();
  }
}

}  // namespace genogate::gateway

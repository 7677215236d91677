#include "gateway/queue/queue_metrics.h"

#include <atomic>
#include <memory>
#include <vector>

namespace genogate::gateway {

void AddQueueMetrics(MetricsRegistry* metrics, DeliveryQueue* queue) {
  // The up gauge reports what the jobs family saw at this scrape (Render
  // calls families in name order: genogate_queue_jobs before _up).
  auto up = std::make_shared<std::atomic<bool>>(false);
  metrics->AddCallback(
      "genogate_queue_jobs", "Delivery queue jobs by endpoint and state",
      MetricsRegistry::Type::kGauge, {"endpoint", "state"}, [queue, up] {
        std::vector<MetricSample> out;
        Result<std::vector<QueueStats>> stats = queue->AllStats();
        up->store(stats.ok());
        if (!stats.ok()) return out;
        for (const QueueStats& s : *stats) {
          out.push_back({{s.endpoint, "ready"}, static_cast<double>(s.ready)});
          out.push_back(
              {{s.endpoint, "in_flight"}, static_cast<double>(s.in_flight)});
          out.push_back(
              {{s.endpoint, "delayed"}, static_cast<double>(s.delayed)});
          out.push_back({{s.endpoint, "dead"}, static_cast<double>(s.dead)});
        }
        return out;
      });
  metrics->AddCallback(
      "genogate_queue_up",
      "1 when the last scrape could read the delivery queue, else 0",
      MetricsRegistry::Type::kGauge, {}, [up] {
        return std::vector<MetricSample>{{{}, up->load() ? 1.0 : 0.0}};
      });
}

}  // namespace genogate::gateway

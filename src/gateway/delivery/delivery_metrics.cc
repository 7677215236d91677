#include "gateway/delivery/delivery_metrics.h"

#include <vector>

namespace genogate::gateway {

void AddDeliveryMetrics(MetricsRegistry* metrics,
                        const DeliveryService* service) {
  metrics->AddCallback(
      "genogate_deliveries_total",
      "Delivery attempts by endpoint and outcome (since start)",
      MetricsRegistry::Type::kCounter, {"endpoint", "outcome"}, [service] {
        std::vector<MetricSample> out;
        for (const EndpointDeliveryStats& s : service->Stats()) {
          out.push_back(
              {{s.endpoint, "delivered"}, static_cast<double>(s.delivered)});
          out.push_back(
              {{s.endpoint, "retried"}, static_cast<double>(s.retried)});
          out.push_back({{s.endpoint, "dead_lettered"},
                         static_cast<double>(s.dead_lettered)});
        }
        return out;
      });
  metrics->AddCallback(
      "genogate_delivery_circuit_open",
      "1 while the endpoint's circuit breaker is not closed",
      MetricsRegistry::Type::kGauge, {"endpoint"}, [service] {
        std::vector<MetricSample> out;
        for (const EndpointDeliveryStats& s : service->Stats()) {
          out.push_back(
              {{s.endpoint},
               s.circuit == CircuitBreaker::State::kClosed ? 0.0 : 1.0});
        }
        return out;
      });
  metrics->AddCallback(
      "genogate_delivery_workers", "Delivery worker threads by endpoint",
      MetricsRegistry::Type::kGauge, {"endpoint"}, [service] {
        std::vector<MetricSample> out;
        for (const EndpointDeliveryStats& s : service->Stats()) {
          out.push_back({{s.endpoint}, static_cast<double>(s.workers)});
        }
        return out;
      });
}

}  // namespace genogate::gateway

// Prometheus metrics of the delivery workers, computed at scrape time from
// DeliveryService::Stats():
//
//   genogate_deliveries_total{endpoint,outcome}  counter; outcome is
//       delivered, retried (a retryable failure, rescheduled) or
//       dead_lettered; since this process started its workers.
//   genogate_delivery_circuit_open{endpoint}    gauge, 1 while the
//       endpoint's circuit breaker is open (or half-open), else 0.
//   genogate_delivery_workers{endpoint}          gauge, worker threads.
//
// Thread-safety: as MetricsRegistry (Stats never waits for a delivery).
#ifndef GENOGATE_GATEWAY_DELIVERY_DELIVERY_METRICS_H_
#define GENOGATE_GATEWAY_DELIVERY_DELIVERY_METRICS_H_

#include "gateway/delivery/delivery_service.h"
#include "gateway/server/metrics.h"

namespace genogate::gateway {

// Registers the families above. `service` is not owned and must outlive
// every scrape of `metrics`.
void AddDeliveryMetrics(MetricsRegistry* metrics,
                        const DeliveryService* service);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_DELIVERY_DELIVERY_METRICS_H_

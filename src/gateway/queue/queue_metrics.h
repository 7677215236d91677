// Prometheus metrics of the delivery queue, computed at scrape time:
//
//   genogate_queue_jobs{endpoint,state}  gauge, per endpoint ever enqueued
//       to; state is ready (waiting for a worker), in_flight (claimed, not
//       finished), delayed (waiting for a retry) or dead (dead letters).
//   genogate_queue_up                    gauge, 1 when the last scrape could
//       read the queue, 0 when not (Redis down; the jobs family is empty).
//
// Thread-safety: as MetricsRegistry; the queue must be thread-safe (both
// implementations are).
#ifndef GENOGATE_GATEWAY_QUEUE_QUEUE_METRICS_H_
#define GENOGATE_GATEWAY_QUEUE_QUEUE_METRICS_H_

#include "gateway/queue/delivery_queue.h"
#include "gateway/server/metrics.h"

namespace genogate::gateway {

// Registers the families above. `queue` is not owned and must outlive every
// scrape of `metrics`.
void AddQueueMetrics(MetricsRegistry* metrics, DeliveryQueue* queue);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_QUEUE_QUEUE_METRICS_H_

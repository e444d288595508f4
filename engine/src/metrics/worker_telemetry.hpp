// What `kiln worker` serves on worker.metrics_port: its metrics (WorkerMetrics, fed by the
// worker's events; CacheSizeProbe) and health (200 while NATS is connected) over
// /metrics and /healthz. With worker.metrics_port 0 there is none of it.
#pragma once

#include <memory>

#include "metrics/cache_size_probe.hpp"
#include "metrics/metrics_listener.hpp"
#include "metrics/worker_metrics.hpp"
#include "util/result.hpp"

namespace prometheus {
class Registry;
}

namespace kiln {

struct EngineContext;
class NatsConnection;

class WorkerTelemetry {
 public:
  /// nullptr when worker.metrics_port is 0; an error when the port cannot be bound.
  static Result<std::unique_ptr<WorkerTelemetry>> Start(EngineContext& engine, NatsConnection& conn);
  ~WorkerTelemetry();

  /// For Worker::set_event_observer.
  EventSink* events() { return metrics_.get(); }

 private:
  WorkerTelemetry();
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<WorkerMetrics> metrics_;
  std::unique_ptr<CacheSizeProbe> cache_;
  std::unique_ptr<MetricsListener> listener_;
};

}  // namespace kiln

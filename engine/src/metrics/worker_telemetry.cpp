#include "metrics/worker_telemetry.hpp"

#include <prometheus/registry.h>

#include "app/engine_context.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

WorkerTelemetry::WorkerTelemetry() : registry_(std::make_unique<prometheus::Registry>()) {}

// The listener goes first: no scrape reads a metric being destroyed.
WorkerTelemetry::~WorkerTelemetry() {
  listener_.reset();
  cache_.reset();
}

Result<std::unique_ptr<WorkerTelemetry>> WorkerTelemetry::Start(EngineContext& engine, NatsConnection& conn) {
  const int port = engine.config.worker.metrics_port;
  if (port == 0) return std::unique_ptr<WorkerTelemetry>();
  std::unique_ptr<WorkerTelemetry> telemetry(new WorkerTelemetry());
  telemetry->metrics_ = std::make_unique<WorkerMetrics>(*telemetry->registry_);
  telemetry->cache_ = std::make_unique<CacheSizeProbe>(engine, *telemetry->registry_);
  auto listener = MetricsListener::Start("0.0.0.0", port, *telemetry->registry_,
                                         [&conn] { return conn.connected(); }, "NATS is not connected");
  if (!listener) return MakeError(listener.error());
  telemetry->listener_ = std::move(listener.value());
  return telemetry;
}

}  // namespace kiln

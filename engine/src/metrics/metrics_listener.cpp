#include "metrics/metrics_listener.hpp"

#include <spdlog/spdlog.h>

#include "metrics/metrics_http.hpp"

namespace kiln {

MetricsListener::MetricsListener() = default;

MetricsListener::~MetricsListener() {
  if (server_) server_->Stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<MetricsListener>> MetricsListener::Start(const std::string& address, int port,
                                                                const prometheus::Registry& registry,
                                                                std::function<bool()> healthy,
                                                                std::string unhealthy_reason) {
  std::unique_ptr<MetricsListener> listener(new MetricsListener());
  HttpRouter router;
  AddMetricsRoutes(router, registry, std::move(healthy), std::move(unhealthy_reason));
  listener->server_ = std::make_unique<HttpServer>(HttpLimits(), std::move(router), "metrics (worker.metrics_port)");
  if (auto bound = listener->server_->Bind(address, port); !bound) return MakeError(bound.error());
  HttpServer* server = listener->server_.get();
  listener->thread_ = std::thread([server] { server->Serve(); });
  spdlog::info("metrics: serving /metrics and /healthz on {}:{}", address, port);
  return listener;
}

}  // namespace kiln

#include "metrics/metrics_listener.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "metrics/metrics_http.hpp"

namespace kiln {

MetricsListener::MetricsListener() : server_(std::make_unique<httplib::Server>()) {}

MetricsListener::~MetricsListener() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<MetricsListener>> MetricsListener::Start(const std::string& address, int port,
                                                                const prometheus::Registry& registry,
                                                                std::function<bool()> healthy,
                                                                std::string unhealthy_reason) {
  std::unique_ptr<MetricsListener> listener(new MetricsListener());
  AddMetricsRoutes(*listener->server_, registry, std::move(healthy), std::move(unhealthy_reason));
  if (!listener->server_->bind_to_port(address, port)) {
    return MakeError("metrics: cannot listen on " + address + ":" + std::to_string(port) +
                     " (worker.metrics_port): the port is taken or not allowed");
  }
  httplib::Server* server = listener->server_.get();
  listener->thread_ = std::thread([server] { server->listen_after_bind(); });
  spdlog::info("metrics: serving /metrics and /healthz on {}:{}", address, port);
  return listener;
}

}  // namespace kiln

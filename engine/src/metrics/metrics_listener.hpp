// An HTTP listener of its own for /metrics and /healthz (the worker's, on
// worker.metrics_port), served from a background thread until destroyed, on kiln's HTTP server (http/) with
// its default limits.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "http/http_server.hpp"
#include "util/result.hpp"

namespace prometheus {
class Registry;
}

namespace kiln {

class MetricsListener {
 public:
  /// Binds `address`:`port` now (an error names the port when it is taken) and serves.
  static Result<std::unique_ptr<MetricsListener>> Start(const std::string& address, int port,
                                                        const prometheus::Registry& registry,
                                                        std::function<bool()> healthy, std::string unhealthy_reason);
  ~MetricsListener();
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

 private:
  MetricsListener();
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

}  // namespace kiln

// /metrics and /healthz on kiln's HTTP server (http/), shared by `kiln worker` (its own
// listener, worker.metrics_port) and `kiln gateway` (on its API port). prometheus-cpp's core
// makes the text format; its civetweb "pull" exposer would be a second HTTP server, so both
// commands serve the text through http/ instead.
#pragma once

#include <functional>
#include <string>

namespace prometheus {
class Registry;
}

namespace kiln {

class HttpRouter;

/// The registry's metrics in Prometheus' text exposition format (version 0.0.4).
std::string PrometheusText(const prometheus::Registry& registry);

/// GET /metrics (the registry's text) and GET /healthz (200 "ok" when `healthy()`, else
/// 503 with {"error": unhealthy_reason}).
void AddMetricsRoutes(HttpRouter& router, const prometheus::Registry& registry, std::function<bool()> healthy,
                      std::string unhealthy_reason);

}  // namespace kiln

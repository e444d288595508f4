#include "metrics/metrics_http.hpp"

#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace kiln {

std::string PrometheusText(const prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

void AddMetricsRoutes(httplib::Server& server, const prometheus::Registry& registry, std::function<bool()> healthy,
                      std::string unhealthy_reason) {
  server.Get("/metrics", [&registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(PrometheusText(registry), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [healthy = std::move(healthy), reason = std::move(unhealthy_reason)](
                             const httplib::Request&, httplib::Response& res) {
    if (healthy()) {
      res.set_content("ok\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content(reason + "\n", "text/plain");
    }
  });
}

}  // namespace kiln

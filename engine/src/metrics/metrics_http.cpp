#include "metrics/metrics_http.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "http/http_router.hpp"

namespace kiln {

std::string PrometheusText(const prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

void AddMetricsRoutes(HttpRouter& router, const prometheus::Registry& registry, std::function<bool()> healthy,
                      std::string unhealthy_reason) {
  router.Get("/metrics", [&registry](const HttpRequest&) {
    HttpResponse res;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = PrometheusText(registry);
    return res;
  });
  router.Get("/healthz", [healthy = std::move(healthy), reason = std::move(unhealthy_reason)](const HttpRequest&) {
    if (!healthy()) return JsonError(503, reason);
    HttpResponse res;
    res.body = "ok\n";
    return res;
  });
}

}  // namespace kiln

#include "gateway/gateway_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace kiln {

GatewayMetrics::GatewayMetrics(prometheus::Registry& registry)
    : webhooks_(prometheus::BuildCounter()
                    .Name("kiln_gateway_webhooks_total")
                    .Help("GitHub webhook deliveries received, by what became of them")
                    .Register(registry)) {
  for (const char* result : {"accepted", "duplicate", "ignored", "ping", "unauthorized", "bad_request", "too_large",
                             "unavailable"}) {
    webhooks_.Add({{"result", result}});
  }
}

void GatewayMetrics::CountWebhook(const std::string& result) { webhooks_.Add({{"result", result}}).Increment(); }

}  // namespace kiln

// The gateway's own counters: kiln_gateway_webhooks_total{result} (accepted, duplicate,
// ignored, ping, unauthorized, bad_request, too_large, unavailable).
#pragma once

#include <string>

namespace prometheus {
class Counter;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace kiln {

class GatewayMetrics {
 public:
  explicit GatewayMetrics(prometheus::Registry& registry);
  void CountWebhook(const std::string& result);

 private:
  prometheus::Family<prometheus::Counter>& webhooks_;
};

}  // namespace kiln

// `kiln gateway`'s HTTP server (cpp-httplib): the routes and nothing else.
//   POST /webhooks/github   WebhookHandler (bodies over kMaxBody: 413, GitHub's own cap)
//   GET  /builds/{id}       BuildsApi, behind the bearer token (401 without)
//   GET  /builds?limit=N    BuildsApi, behind the bearer token
//   GET  /healthz           200 while NATS is connected, else 503
//   GET  /metrics           the gateway's counters (Prometheus text)
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "gateway/builds_api.hpp"
#include "gateway/delivery_ledger.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/webhook_handler.hpp"
#include "util/result.hpp"

namespace httplib {
class Server;
}
namespace prometheus {
class Registry;
}

namespace kiln {

class GatewayServer {
 public:
  static constexpr std::size_t kMaxBody = 25 * 1024 * 1024;  // GitHub caps payloads at 25 MB

  GatewayServer(const Config& config, NatsConnection& conn, DeliveryLedger& ledger, std::string webhook_secret,
                std::string api_token);
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  /// Binds gateway.address:gateway.port; the error names them.
  Result<bool> Bind();
  /// Serves until Stop() (from another thread).
  void Serve();
  void Stop();

 private:
  void AddRoutes();

  const Config& config_;
  NatsConnection& conn_;
  std::string api_token_;
  std::unique_ptr<prometheus::Registry> registry_;
  GatewayMetrics metrics_;
  WebhookHandler webhooks_;
  BuildsApi builds_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace kiln

// `kiln gateway`'s HTTP routes, on kiln's HTTP server (http/), with the limits of the
// gateway config section (gateway.max_body, header_timeout, ...; docs/security.md):
//   POST /webhooks/github   WebhookHandler (JSON or GitHub's form-encoded payload=)
//   GET  /builds/{id}       BuildsApi, behind the bearer token (401 without)
//   GET  /builds?limit=N    BuildsApi, behind the bearer token
//   GET  /builds/{id}/logs/search?q=  BuildsApi (gateway/log_search), behind the bearer token
//   POST /builds/{id}/cancel  BuildsApi (kiln cancel's CancelJob), behind the bearer token
//   POST /builds/{id}/replay  BuildsApi (kiln dlq replay's ReplayDeadLetter), behind the token
//   GET  /builds/{id}/events  BuildStreams (Server-Sent Events), behind the bearer token
//   GET  /builds/{id}/logs    BuildStreams (Server-Sent Events), behind the bearer token
//   GET  /badge/<owner>/<repo>/<branch>.svg  BranchBadges, public unless gateway.badges: false
//   GET  /healthz           200 while NATS is connected, else 503
//   GET  /metrics           the gateway's counters (Prometheus text)
// Every refusal, the server's own included, has a JSON body {"error": "..."}.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "gateway/branch_badges.hpp"
#include "gateway/build_streams.hpp"
#include "gateway/builds_api.hpp"
#include "gateway/delivery_ledger.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/webhook_handler.hpp"
#include "http/http_server.hpp"
#include "util/result.hpp"

namespace prometheus {
class Registry;
}

namespace kiln {

/// The gateway section's HTTP limits.
HttpLimits GatewayHttpLimits(const GatewayConfig& gateway);

class GatewayServer {
 public:
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
  HttpRouter Routes();

  const Config& config_;
  NatsConnection& conn_;
  std::string api_token_;
  std::unique_ptr<prometheus::Registry> registry_;
  GatewayMetrics metrics_;
  WebhookHandler webhooks_;
  BuildsApi builds_;
  BuildStreams streams_;
  BranchBadges badges_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace kiln

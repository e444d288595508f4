// `kiln gateway`'s HTTP routes, on kiln's HTTP server (http/), with the limits of the
// gateway config section (gateway.max_body, header_timeout, ...; docs/security.md). "Auth":
// the bearer token or a session of the page, and a POST by session needs the page's header
// (gateway/page_auth).
//   POST /webhooks/github     WebhookHandler (JSON or GitHub's form-encoded payload=)
//   GET  /builds/{id}         BuildsApi, auth (401 without)
//   GET  /builds?limit=N&repo=&branch=&status=&before=  BuildsApi, auth
//   GET  /builds/{id}/logs/search?q=  BuildsApi (gateway/log_search), auth
//   GET  /builds/{id}/logs/raw  BuildsApi: the whole log as text (a download), auth
//   POST /builds/{id}/cancel  BuildsApi (kiln cancel's CancelJob), auth
//   POST /builds/{id}/replay  BuildsApi (kiln dlq replay's ReplayDeadLetter), auth
//   POST /builds/{id}/rebuild BuildsApi: the same job under a new id, auth
//   GET  /builds/{id}/events  BuildStreams (Server-Sent Events), auth
//   GET  /builds/{id}/logs    BuildStreams (Server-Sent Events), auth
//   GET  /, /assets/{name}    the build page (gateway/page_assets), public: it holds no data
//   POST /login, /logout      PageAuth: a session cookie for the page
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
#include "gateway/page_auth.hpp"
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
  PageAuth auth_;
  std::unique_ptr<prometheus::Registry> registry_;
  GatewayMetrics metrics_;
  WebhookHandler webhooks_;
  BuildsApi builds_;
  BuildStreams streams_;
  BranchBadges badges_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace kiln

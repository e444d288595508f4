#include "gateway/gateway_server.hpp"

#include <httplib.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "gateway/bearer_token.hpp"
#include "metrics/metrics_http.hpp"

namespace kiln {

namespace {

constexpr const char* kWebhookPath = "/webhooks/github";

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
}

}  // namespace

GatewayServer::GatewayServer(const Config& config, NatsConnection& conn, DeliveryLedger& ledger,
                             std::string webhook_secret, std::string api_token)
    : config_(config),
      conn_(conn),
      api_token_(std::move(api_token)),
      registry_(std::make_unique<prometheus::Registry>()),
      metrics_(*registry_),
      webhooks_(config, conn, ledger, std::move(webhook_secret)),
      builds_(conn),
      server_(std::make_unique<httplib::Server>()) {
  AddRoutes();
}

GatewayServer::~GatewayServer() = default;

void GatewayServer::AddRoutes() {
  httplib::Server& server = *server_;
  server.set_payload_max_length(kMaxBody);

  server.Post(kWebhookPath, [this](const httplib::Request& req, httplib::Response& res) {
    WebhookRequest request;
    request.event = req.get_header_value("X-GitHub-Event");
    request.delivery = req.get_header_value("X-GitHub-Delivery");
    request.signature = req.get_header_value("X-Hub-Signature-256");
    request.content_type = req.get_header_value("Content-Type");
    request.body = req.body;
    WebhookReply reply = webhooks_.Handle(request);
    metrics_.CountWebhook(reply.result);
    SendJson(res, reply.status, reply.body);
  });

  auto authorized = [this](const httplib::Request& req, httplib::Response& res) {
    if (BearerTokenMatches(req.get_header_value("Authorization"), api_token_)) return true;
    res.set_header("WWW-Authenticate", "Bearer");
    SendJson(res, 401,
             {{"error", api_token_.empty() ? "no API token is configured (gateway.api_token)"
                                           : "Authorization: expected 'Bearer <gateway.api_token>'"}});
    return false;
  };
  server.Get(R"(/builds/([^/]+))", [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    ApiReply reply = builds_.Get(req.matches[1].str());
    SendJson(res, reply.status, reply.body);
  });
  server.Get("/builds", [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    ApiReply reply = builds_.List(req.has_param("limit") ? req.get_param_value("limit") : std::string());
    SendJson(res, reply.status, reply.body);
  });

  AddMetricsRoutes(server, *registry_, [this] { return conn_.connected(); }, "NATS is not connected");

  // Runs after every request, handled or not: the one place that sees the 413s the server
  // answers itself, and where each request is logged.
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (req.path == kWebhookPath && res.status == 413) metrics_.CountWebhook("too_large");
    spdlog::debug("gateway: {} {} -> {}", req.method, req.path, res.status);
  });
}

Result<bool> GatewayServer::Bind() {
  const GatewayConfig& gw = config_.gateway;
  if (!server_->bind_to_port(gw.address, gw.port)) {
    return MakeError("gateway: cannot listen on " + gw.address + ":" + std::to_string(gw.port) +
                     " (gateway.address, gateway.port): the port is taken or not allowed");
  }
  spdlog::info("gateway: listening on {}:{}", gw.address, gw.port);
  return true;
}

void GatewayServer::Serve() { server_->listen_after_bind(); }

void GatewayServer::Stop() { server_->stop(); }

}  // namespace kiln

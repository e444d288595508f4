#include "gateway/gateway_server.hpp"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "gateway/page_assets.hpp"
#include "metrics/metrics_http.hpp"

namespace kiln {

namespace {

constexpr const char* kWebhookPath = "/webhooks/github";

HttpResponse Reply(int status, const nlohmann::json& body) { return JsonResponse(status, body); }

// What a job message must be for a worker to run it: a replayed one is checked the same way.
JobRules WorkerJobRules(const Config& config) {
  JobRules rules;
  rules.allow_file_urls = config.build.allow_file_urls;
  return rules;
}

}  // namespace

HttpLimits GatewayHttpLimits(const GatewayConfig& gw) {
  HttpLimits limits;
  limits.max_body = gw.max_body;
  limits.allow_compressed_bodies = gw.allow_compressed_bodies;
  limits.header_timeout = gw.header_timeout;
  limits.request_timeout = gw.request_timeout;
  limits.idle_timeout = gw.idle_timeout;
  limits.max_connections = gw.max_connections;
  limits.max_connections_per_address = gw.max_connections_per_address;
  return limits;
}

GatewayServer::GatewayServer(const Config& config, NatsConnection& conn, DeliveryLedger& ledger,
                             std::string webhook_secret, std::string api_token)
    : config_(config),
      conn_(conn),
      auth_(std::move(api_token)),
      registry_(std::make_unique<prometheus::Registry>()),
      metrics_(*registry_),
      webhooks_(config, conn, ledger, std::move(webhook_secret)),
      builds_(conn, WorkerJobRules(config)),
      streams_(conn),
      badges_(conn) {
  // Runs after every answer, the server's own refusals included: the one place that sees the
  // 413s of webhooks over gateway.max_body, and where each request is logged.
  auto observer = [this](const HttpRequest& req, int status) {
    if (req.path == kWebhookPath && status == 413) metrics_.CountWebhook("too_large");
    spdlog::debug("gateway: {} {} from {} -> {}", req.method, req.path, req.remote_address, status);
  };
  server_ = std::make_unique<HttpServer>(GatewayHttpLimits(config.gateway), Routes(),
                                         "gateway (gateway.address, gateway.port)", observer);
}

GatewayServer::~GatewayServer() = default;

HttpRouter GatewayServer::Routes() {
  HttpRouter router;
  router.Post(kWebhookPath, [this](const HttpRequest& req) {
    WebhookRequest request;
    request.event = req.header("X-GitHub-Event");
    request.delivery = req.header("X-GitHub-Delivery");
    request.signature = req.header("X-Hub-Signature-256");
    request.content_type = req.header("Content-Type");
    request.body = req.body;
    WebhookReply reply = webhooks_.Handle(request);
    metrics_.CountWebhook(reply.result);
    return Reply(reply.status, reply.body);
  });

  auto refusal = [this](const HttpRequest& req) { return auth_.Refusal(req); };
  router.Get("/builds/{}", [this, refusal](const HttpRequest& req) {
    if (auto refused = refusal(req)) return *refused;
    ApiReply reply = builds_.Get(req.params[0]);
    return Reply(reply.status, reply.body);
  });
  router.Stream("/builds/{}/events", [this, refusal](const HttpRequest& req, const std::shared_ptr<EventStream>& stream) {
    if (auto refused = refusal(req)) return refused;
    return streams_.Events(req, stream);
  });
  router.Stream("/builds/{}/logs", [this, refusal](const HttpRequest& req, const std::shared_ptr<EventStream>& stream) {
    if (auto refused = refusal(req)) return refused;
    return streams_.Logs(req, stream);
  });
  router.Post("/builds/{}/cancel", [this, refusal](const HttpRequest& req) {
    if (auto refused = refusal(req)) return *refused;
    ApiReply reply = builds_.Cancel(req.params[0]);
    return Reply(reply.status, reply.body);
  });
  router.Get("/builds/{}/logs/search", [this, refusal](const HttpRequest& req) {
    if (auto refused = refusal(req)) return *refused;
    ApiReply reply = builds_.SearchLog(req.params[0], req.query_param("q"), req.query_param("after"),
                                       req.query_param("limit"));
    return Reply(reply.status, reply.body);
  });
  router.Post("/builds/{}/replay", [this, refusal](const HttpRequest& req) {
    if (auto refused = refusal(req)) return *refused;
    ApiReply reply = builds_.Replay(req.params[0]);
    return Reply(reply.status, reply.body);
  });
  router.Get("/builds", [this, refusal](const HttpRequest& req) {
    if (auto refused = refusal(req)) return *refused;
    BuildsQuery query{req.query_param("limit"), req.query_param("repo"), req.query_param("branch"),
                      req.query_param("status"), req.query_param("before")};
    ApiReply reply = builds_.List(query);
    return Reply(reply.status, reply.body);
  });
  router.Get("/builds/{}/logs/raw", [this, refusal](const HttpRequest& req) {
    if (auto refused = refusal(req)) return *refused;
    HttpResponse res;
    ApiReply reply = builds_.RawLog(req.params[0], res.body);
    if (reply.status != 200) return Reply(reply.status, reply.body);
    res.content_type = "text/plain; charset=utf-8";
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + req.params[0] + ".log\"");
    res.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return res;
  });
  router.Get("/builds/{}/logs/tail", [this, refusal](const HttpRequest& req) {
    if (auto refused = refusal(req)) return *refused;
    ApiReply reply = builds_.LogTail(req.params[0], req.query_param("max_bytes"));
    return Reply(reply.status, reply.body);
  });
  router.Post("/builds/{}/rebuild", [this, refusal](const HttpRequest& req) {
    if (auto refused = refusal(req)) return *refused;
    ApiReply reply = builds_.Rebuild(req.params[0]);
    return Reply(reply.status, reply.body);
  });

  // The build page: its files, and the login that gives a browser a session.
  router.Get("/", [](const HttpRequest&) { return PageAssetResponse("index.html"); });
  router.Get("/assets/{}", [](const HttpRequest& req) { return PageAssetResponse(req.params[0]); });
  router.Post("/login", [this](const HttpRequest& req) { return auth_.Login(req); });
  router.Post("/logout", [this](const HttpRequest& req) { return auth_.Logout(req); });

  if (config_.gateway.badges) {
    router.Get("/badge/{}/{}/{*}", [this](const HttpRequest& req) {
      return badges_.Get(req.params[0], req.params[1], req.params[2]);
    });
  }

  AddMetricsRoutes(router, *registry_, [this] { return conn_.connected(); }, "NATS is not connected");
  return router;
}

Result<bool> GatewayServer::Bind() {
  const GatewayConfig& gw = config_.gateway;
  if (auto bound = server_->Bind(gw.address, gw.port); !bound) return bound;
  spdlog::info("gateway: listening on {}:{}", gw.address, gw.port);
  return true;
}

void GatewayServer::Serve() { server_->Serve(); }

void GatewayServer::Stop() { server_->Stop(); }

}  // namespace kiln

// kiln gateway [--config FILE] [--nats URL]: the HTTP front of the queue (gateway/): GitHub
// webhooks in, job states out, until SIGINT/SIGTERM. Exit 2 when the config cannot work
// (no webhook secret, a secret that cannot be read, the port taken).
#include <spdlog/spdlog.h>

#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/signal_waiter.hpp"
#include "gateway/delivery_ledger.hpp"
#include "gateway/gateway_server.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/nats_connection.hpp"

namespace kiln::cli {

namespace {

// The value behind a secret reference of the gateway section; registered with the redactor.
Result<std::string> ReadGatewaySecret(EngineContext& ctx, const std::string& key, const std::string& spec) {
  if (spec.empty()) return std::string();
  SecretStore store({{key, spec}}, ctx.redactor, ProcessEnvironment());
  auto value = store.get(key);
  if (!value || value->empty()) return MakeError(key + ": the secret " + spec + " could not be read or is empty");
  return *value;
}

int RunGateway(const GlobalOptions& global) {
  SignalWaiter signals("gateway");  // before any thread exists, so all inherit the mask
  EngineSetup setup;
  setup.load_plugins = false;
  setup.configure_plugins = false;
  auto engine = SetUpEngine(global, setup);
  if (!engine) {
    std::cerr << "kiln gateway: " << engine.error() << "\n";
    return 2;
  }
  EngineContext& ctx = *engine.value();
  const GatewayConfig& gw = ctx.config.gateway;
  if (gw.webhook_secret.empty()) {
    std::cerr << "kiln gateway: gateway.webhook_secret: not set; a webhook cannot be verified without it "
                 "(e.g. webhook_secret: \"env:GITHUB_WEBHOOK_SECRET\")\n";
    return 2;
  }
  auto webhook_secret = ReadGatewaySecret(ctx, "gateway.webhook_secret", gw.webhook_secret);
  auto api_token = ReadGatewaySecret(ctx, "gateway.api_token", gw.api_token);
  for (const auto* secret : {&webhook_secret, &api_token}) {
    if (!*secret) {
      std::cerr << "kiln gateway: " << secret->error() << "\n";
      return 2;
    }
  }
  if (api_token->empty()) spdlog::warn("gateway: gateway.api_token is not set: GET /builds answers 401 to everyone");

  // The first connection is retried, as the worker does: the gateway may start before NATS.
  std::unique_ptr<NatsConnection> conn;
  while (true) {
    auto connected = NatsConnection::Connect(ctx.config.nats, "kiln gateway", &ctx.redactor,
                                              NatsConnection::Delivery::shared_pool);
    if (connected) {
      conn = std::move(connected.value());
      break;
    }
    spdlog::warn("gateway: {}; retrying", connected.error());
    if (signals.wait_for(ctx.config.nats.reconnect_wait)) return 0;
  }
  if (auto streams = EnsureStreams(*conn, ctx.config.nats, ctx.config.logs); !streams) {
    std::cerr << "kiln gateway: " << streams.error() << "\n";
    return 2;
  }
  auto ledger = DeliveryLedger::Open(*conn, ctx.config.nats, gw.delivery_ttl);
  if (!ledger) {
    std::cerr << "kiln gateway: " << ledger.error() << "\n";
    return 2;
  }

  GatewayServer server(ctx.config, *conn, *ledger.value(), webhook_secret.value(), api_token.value());
  if (auto bound = server.Bind(); !bound) {
    std::cerr << "kiln gateway: " << bound.error() << "\n";
    return 2;
  }
  std::thread serving([&server] { server.Serve(); });
  while (!signals.wait_for(std::chrono::milliseconds(500))) {
  }
  server.Stop();
  serving.join();
  spdlog::info("gateway: stopped");
  return 0;
}

}  // namespace

void AddGatewayCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "gateway", "HTTP: POST /webhooks/github, GET /builds/{id}, GET /builds, GET /builds/{id}/events|logs (SSE), "
      "GET /healthz, GET /metrics");
  AddNatsOptions(cmd, global);
  cmd->callback([&global, &exit_code] { exit_code = RunGateway(global); });
}

}  // namespace kiln::cli

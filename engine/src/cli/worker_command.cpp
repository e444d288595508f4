// kiln worker [--config FILE] [--nats URL]: serve jobs from NATS (and fire the config's
// schedules, schedule/scheduler.hpp) until SIGINT/SIGTERM, then
// drain (worker/worker.hpp) and exit 0.
#include <spdlog/spdlog.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/signal_waiter.hpp"
#include "job/job_runner.hpp"
#include "metrics/worker_telemetry.hpp"
#include "schedule/scheduler.hpp"
#include "transport/nats_connection.hpp"
#include "worker/worker.hpp"

namespace kiln::cli {

namespace {

int RunWorker(const GlobalOptions& global) {
  SignalWaiter signals("worker");  // before any thread exists, so all inherit the mask
  EngineSetup setup;
  auto engine = SetUpEngine(global, setup);
  if (!engine) {
    std::cerr << "kiln worker: " << engine.error() << "\n";
    return 2;
  }
  EngineContext& ctx = *engine.value();
  if (global.nats_url) ctx.config.nats.url = *global.nats_url;
  std::string worker_id = ctx.config.worker.id.empty() ? DefaultWorkerId() : ctx.config.worker.id;

  // The first connection is retried too: a worker may start before its NATS server.
  std::unique_ptr<NatsConnection> conn;
  while (true) {
    auto connected = NatsConnection::Connect(ctx.config.nats, "kiln worker " + worker_id, &ctx.redactor);
    if (connected) {
      conn = std::move(connected.value());
      break;
    }
    spdlog::warn("worker {}: {}; retrying", worker_id, connected.error());
    if (signals.wait_for(ctx.config.nats.reconnect_wait)) return 0;
  }

  JobRunnerDeps deps;
  deps.config = &ctx.config;
  deps.plugins = ctx.plugins.get();
  deps.secrets = ctx.secrets.get();
  deps.redactor = &ctx.redactor;
  deps.worker_id = worker_id;
  JobRunner runner(deps);
  auto telemetry = WorkerTelemetry::Start(ctx, *conn);  // outlives the worker, which feeds it
  if (!telemetry) {
    std::cerr << "kiln worker: " << telemetry.error() << "\n";
    return 2;
  }
  Worker worker(ctx.config, *conn, runner, worker_id);
  if (telemetry.value()) worker.set_event_observer(telemetry.value()->events());
  if (auto started = worker.Start(); !started) {
    std::cerr << "kiln worker: " << started.error() << "\n";
    return 2;
  }
  // The config's schedules, beside the worker on its connection (Start made the streams).
  SystemScheduleClock clock;
  Scheduler scheduler(ctx.config.schedules, *conn, clock, worker_id);
  scheduler.Start();
  std::thread stopper([&] {
    while (!signals.wait_for(std::chrono::milliseconds(500))) {
    }
    scheduler.Stop();
    worker.RequestStop();
  });
  worker.Wait();
  stopper.join();
  return 0;
}

}  // namespace

void AddWorkerCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand("worker", "serve jobs from NATS until SIGINT/SIGTERM, then drain");
  cmd->add_option_function<std::string>("--config", [&global](const std::string& v) { global.config_path = v; },
                                        "config file (else CONFIG_PATH, else built-in defaults)");
  cmd->add_option_function<std::string>("--nats", [&global](const std::string& v) { global.nats_url = v; },
                                        "NATS server URL (overrides nats.url)");
  cmd->callback([&global, &exit_code] { exit_code = RunWorker(global); });
}

}  // namespace kiln::cli

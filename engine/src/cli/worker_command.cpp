// kiln worker [--config FILE] [--nats URL]: serve jobs from NATS (and fire the config's
// schedules, schedule/scheduler.hpp) until SIGINT/SIGTERM, then
// drain (worker/worker.hpp) and exit 0.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/signal_waiter.hpp"
#include "job/job_runner.hpp"
#include "metrics/worker_telemetry.hpp"
#include "process/process_cgroup.hpp"
#include "schedule/scheduler.hpp"
#include "transport/nats_connection.hpp"
#include "worker/worker.hpp"
#include "workspace/workspace_lease.hpp"

namespace kiln::cli {

namespace {

int RunWorker(const GlobalOptions& global) {
  SignalWaiter signals("worker");  // before any thread exists, so all inherit the mask
  EngineSetup setup;
  setup.sandbox = true;
  setup.probe_sandbox = true;
  auto engine = SetUpEngine(global, setup);
  if (!engine) {
    std::cerr << "kiln worker: " << engine.error() << "\n";
    return 2;
  }
  EngineContext& ctx = *engine.value();
  if (global.nats_url) ctx.config.nats.url = *global.nats_url;
  std::string worker_id = ctx.config.worker.id.empty() ? DefaultWorkerId() : ctx.config.worker.id;

  // What a worker killed on this machine left behind (its workspaces, its steps' cgroups);
  // what a live worker sharing the workspace dir holds is left alone.
  const std::string workspace_root = ResolveConfigPath(ctx.config, ctx.config.build.workspace_path);
  WorkspaceSweep sweep = SweepAbandonedWorkspaces(workspace_root);
  if (sweep.removed + sweep.failed > 0) {
    spdlog::info("worker {}: removed {} abandoned workspace(s) under {} ({} in use by live processes, {} failed)",
                 worker_id, sweep.removed, workspace_root, sweep.in_use, sweep.failed);
  }
  if (int cgroups = SweepAbandonedCgroups(); cgroups > 0) {
    spdlog::info("worker {}: killed what was left in the step cgroups of {} kiln process(es) that are gone", worker_id,
                 cgroups);
  }
  spdlog::info("worker {}: {}", worker_id, CgroupAvailabilityNote());

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
  deps.sandbox = ctx.sandbox ? &*ctx.sandbox : nullptr;
  deps.defer_workspace_removal = true;  // removed after job.succeeded/failed is out (worker.cpp)
  JobRunner runner(deps);
  auto telemetry = WorkerTelemetry::Start(ctx, *conn);  // outlives the worker, which feeds it
  if (!telemetry) {
    std::cerr << "kiln worker: " << telemetry.error() << "\n";
    return 2;
  }
  // Setting up streams and the consumer is retried too: while a NATS cluster elects its
  // JetStream leaders (a node restarting), those requests time out for a few seconds.
  std::unique_ptr<Worker> worker;
  while (true) {
    worker = std::make_unique<Worker>(ctx.config, *conn, runner, worker_id);
    if (telemetry.value()) worker->set_event_observer(telemetry.value()->events());
    worker->set_redactor(&ctx.redactor);
    auto started = worker->Start();
    if (started) break;
    spdlog::warn("worker {}: {}; retrying", worker_id, started.error());
    worker.reset();
    if (signals.wait_for(std::max(ctx.config.nats.reconnect_wait, Duration(std::chrono::seconds(1))))) return 0;
  }
  // The config's schedules, beside the worker on its connection (Start made the streams).
  SystemScheduleClock clock;
  Scheduler scheduler(ctx.config.schedules, *conn, clock, worker_id);
  scheduler.Start();
  std::thread stopper([&] {
    while (!signals.wait_for(std::chrono::milliseconds(500))) {
    }
    scheduler.Stop();
    worker->RequestStop();
  });
  worker->Wait();
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

// kiln submit --repo URL --commit SHA [--branch B] [--before SHA] [--id ID] [--pipeline NAME]
//             [--env KEY=VALUE]... [--wait [--json]]
// Publishes a job on builds.webhook (Nats-Msg-Id: its id) and prints its id. --wait follows
// its events (builds.status.<id>) to the end and exits like `kiln run`: 0 succeeded, 1 not.
#include <iostream>

#include "cli/commands.hpp"
#include "events/job_events.hpp"
#include "job/job.hpp"
#include "state/job_state.hpp"
#include "transport/command_connection.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_publisher.hpp"
#include "transport/job_state_store.hpp"

namespace kiln::cli {

namespace {

struct SubmitOptions {
  std::string repo, commit, branch, before, id, pipeline;
  std::vector<std::string> env;
  bool wait = false;
  bool json = false;
};

// One line per event a person cares about.
void PrintEvent(const nlohmann::json& e) {
  const std::string type = e.value("type", "");
  const std::string step = e.value("step", "");
  if (type == "job.started") {
    std::cout << "started on " << e.value("worker", "?") << "\n";
  } else if (type == "step.started") {
    std::cout << "  " << step << " (attempt " << e.value("attempt", 1) << ")\n";
  } else if (type == "step.retrying") {
    std::cout << "  " << step << ": retrying in " << e.value("delay_ms", 0) << " ms: " << e.value("error", "") << "\n";
  } else if (type == "step.finished") {
    bool ok = e.value("status", "") == "ok";
    std::cout << "  " << (ok ? "\u2713 " : "\u2717 ") << step << " " << e.value("duration_ms", 0) << " ms";
    if (!ok) std::cout << " (" << e.value("status", "") << ") " << e.value("message", e.value("error", ""));
    std::cout << "\n";
  } else if (type == "job.failed" && e.value("will_retry", false)) {
    std::cout << "attempt failed: " << e.value("error", "") << "; the job runs again in " << e.value("retry_in_ms", 0)
              << " ms\n";
  } else if (type == "job.queued") {
    std::cout << "queued" << (e.contains("message") ? ": " + e.value("message", "") : "") << "\n";
  } else if (event_type::IsTerminal(type)) {
    std::cout << type.substr(4);
    if (e.contains("duration_ms")) std::cout << " in " << e["duration_ms"] << " ms";
    if (e.contains("reason")) std::cout << ": " << e.value("reason", "");
    if (e.contains("error")) std::cout << ": " << e.value("error", "");
    std::cout << "\n";
  }
}

int ExitCodeForStatus(const std::string& status) { return status == "succeeded" ? 0 : 1; }

int Submit(const GlobalOptions& global, const SubmitOptions& opts) {
  auto session = OpenCommandSession(global, "kiln submit");
  if (!session) {
    std::cerr << "kiln submit: " << session.error() << "\n";
    return 2;
  }
  const Config& config = session->engine->config;
  Job job;
  job.id = opts.id.empty() ? NewJobId() : opts.id;
  job.repo_url = opts.repo;
  job.repo_name = RepoNameFromUrl(opts.repo);
  job.commit = opts.commit;
  job.branch = opts.branch;
  job.before = opts.before;
  job.pipeline = opts.pipeline;
  for (const auto& kv : opts.env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "kiln submit: --env: expected KEY=VALUE, got '" << kv << "'\n";
      return 2;
    }
    job.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  JobRules rules;
  rules.allow_file_urls = config.build.allow_file_urls;
  if (auto valid = ValidateJob(job, rules); !valid) {
    std::cerr << "kiln submit: " << valid.error() << "\n";
    return 2;
  }
  NatsConnection& conn = *session->conn;
  natsSubscription* events = nullptr;
  std::string subject = std::string(subjects::kStatusPrefix) + job.id;
  if (opts.wait) {
    // Subscribed before publishing, so no event is missed.
    if (natsConnection_SubscribeSync(&events, conn.nc(), subject.c_str()) != NATS_OK) {
      std::cerr << "kiln submit: cannot subscribe to " << subject << "\n";
      return 2;
    }
    natsConnection_Flush(conn.nc());
  }
  JobPublication publication;
  if (auto published = PublishJob(conn, job, publication); !published) {
    std::cerr << "kiln submit: " << published.error() << "\n";
    if (events) natsSubscription_Destroy(events);
    return 2;
  }
  JobStateStore store(conn.builds_kv());
  std::cout << job.id << "\n" << std::flush;
  if (publication.duplicate || !publication.state_created) {
    std::cerr << "kiln submit: job " << job.id << " was submitted before; it runs once\n";
  }
  if (!opts.wait) return 0;

  // Follow the events; look at the KV state now and then too, in case the job ended before
  // we subscribed (a duplicate id) or an event was lost.
  int quiet_ms = 0;
  while (true) {
    natsMsg* event_msg = nullptr;
    natsStatus s = natsSubscription_NextMsg(&event_msg, events, 500);
    if (s == NATS_OK) {
      quiet_ms = 0;
      auto event = nlohmann::json::parse(natsMsg_GetData(event_msg),
                                         natsMsg_GetData(event_msg) + natsMsg_GetDataLength(event_msg), nullptr, false);
      natsMsg_Destroy(event_msg);
      if (!event.is_object()) continue;
      if (opts.json) std::cout << event.dump() << "\n" << std::flush;
      else PrintEvent(event), std::cout << std::flush;
      const std::string type = event.value("type", "");
      if (event_type::IsTerminal(type) && !event.value("will_retry", false)) {
        natsSubscription_Destroy(events);
        return type == "job.succeeded" ? 0 : 1;
      }
      continue;
    }
    quiet_ms += 500;
    if (quiet_ms >= 3000) {
      quiet_ms = 0;
      if (auto stored = store.Get(job.id)) {
        const std::string status = stored->state.value("status", "");
        if (IsTerminalStatus(status)) {
          if (!opts.json) std::cout << status << "\n";
          natsSubscription_Destroy(events);
          return ExitCodeForStatus(status);
        }
      }
    }
  }
}

}  // namespace

void AddSubmitCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto opts = std::make_shared<SubmitOptions>();
  auto* cmd = app.add_subcommand("submit", "publish a job; prints its id");
  cmd->add_option("--repo", opts->repo, "repository URL")->required();
  cmd->add_option("--commit", opts->commit, "commit id (40 or 64 hex digits)")->required();
  cmd->add_option("--branch", opts->branch, "branch name");
  cmd->add_option("--before", opts->before, "the commit before the push (NX affected base)");
  cmd->add_option("--id", opts->id, "job id (default: a new ULID); a repeat within 2 minutes is dropped");
  cmd->add_option("--pipeline", opts->pipeline, "pipeline name (pipelines/<name>.lua)");
  cmd->add_option("--env", opts->env, "KEY=VALUE for the job's env (repeatable)");
  cmd->add_flag("--wait", opts->wait, "follow the job's events to the end; exit 0 if it succeeded, else 1");
  cmd->add_flag("--json", opts->json, "with --wait: print the events, one JSON object a line");
  cmd->add_option_function<std::string>("--config", [&global](const std::string& v) { global.config_path = v; },
                                        "config file");
  cmd->add_option_function<std::string>("--nats", [&global](const std::string& v) { global.nats_url = v; },
                                        "NATS server URL (overrides nats.url)");
  cmd->callback([&global, &exit_code, opts] { exit_code = Submit(global, *opts); });
}

}  // namespace kiln::cli

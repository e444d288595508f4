// kiln status ID [--json] | kiln list [--limit N] [--json] | kiln cancel ID
// The state of jobs from KV bucket "builds"; cancel asks the worker running a job to stop
// it (builds.cancel.<id>), or marks a job that waits in the queue cancelled so no worker
// runs it.
#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "transport/command_connection.hpp"
#include "transport/job_cancel.hpp"
#include "transport/job_state_store.hpp"

namespace kiln::cli {

namespace {

void PrintState(const nlohmann::json& s) {
  std::cout << "job      " << s.value("id", "") << "\n"
            << "status   " << s.value("status", "") << "\n";
  if (s.contains("repo")) std::cout << "repo     " << s["repo"].value("url", "") << "\n";
  std::cout << "commit   " << s.value("commit", "") << "\n";
  if (s.contains("branch")) std::cout << "branch   " << s.value("branch", "") << "\n";
  if (s.contains("worker")) std::cout << "worker   " << s.value("worker", "") << " (attempt " << s.value("attempt", 0)
                                      << " of " << s.value("max_attempts", 0) << ")\n";
  for (const char* key : {"queued_at", "started_at", "finished_at"}) {
    if (s.contains(key)) std::cout << std::left << std::setw(9) << std::string(key).substr(0, std::string(key).size() - 3) << s.value(key, "") << "\n";
  }
  if (s.contains("duration_ms")) std::cout << "duration " << s["duration_ms"] << " ms\n";
  if (s.contains("steps") && s["steps"].is_array()) {
    for (const auto& step : s["steps"]) {
      std::cout << "  " << std::left << std::setw(24) << step.value("name", "") << std::setw(10)
                << step.value("status", "") << " attempts " << step.value("attempts", 0);
      if (step.contains("duration_ms")) std::cout << "  " << step["duration_ms"] << " ms";
      if (step.contains("error")) std::cout << "  " << step.value("error", "");
      std::cout << "\n";
    }
  }
  if (s.contains("outputs") && !s["outputs"].empty()) std::cout << "outputs  " << s["outputs"].dump() << "\n";
  if (s.contains("reason")) std::cout << "reason   " << s.value("reason", "") << "\n";
  if (s.contains("error")) std::cout << "error    " << s.value("error", "") << "\n";
}

int Status(const GlobalOptions& global, const std::string& id, bool json) {
  auto session = OpenCommandSession(global, "kiln status");
  if (!session) {
    std::cerr << "kiln status: " << session.error() << "\n";
    return 2;
  }
  JobStateStore store(session->conn->builds_kv());
  std::string error;
  auto stored = store.Get(id, &error);
  if (!stored) {
    std::cerr << "kiln status: " << (error.empty() ? "no job with id '" + id + "'" : error) << "\n";
    return 2;
  }
  if (json) std::cout << stored->state.dump(2) << "\n";
  else PrintState(stored->state);
  return 0;
}

int List(const GlobalOptions& global, int limit, bool json) {
  auto session = OpenCommandSession(global, "kiln list");
  if (!session) {
    std::cerr << "kiln list: " << session.error() << "\n";
    return 2;
  }
  std::string error;
  auto states = JobStateStore(session->conn->builds_kv()).Newest(limit > 0 ? static_cast<std::size_t>(limit) : 0, &error);
  if (!states) {
    std::cerr << "kiln list: " << error << "\n";
    return 2;
  }
  for (const auto& st : *states) {
    if (json) {
      std::cout << st.dump() << "\n";
      continue;
    }
    std::string repo = st.contains("repo") ? st["repo"].value("name", st["repo"].value("url", "")) : "";
    std::cout << std::left << std::setw(28) << st.value("id", "") << std::setw(11) << st.value("status", "")
              << std::setw(26) << JobStateTime(st) << std::setw(14) << st.value("commit", "").substr(0, 12) << repo << "\n";
  }
  return 0;
}

int Cancel(const GlobalOptions& global, const std::string& id) {
  if (!IsValidJobId(id)) {
    std::cerr << "kiln cancel: not a job id: '" << id << "'\n";
    return 2;
  }
  auto session = OpenCommandSession(global, "kiln cancel");
  if (!session) {
    std::cerr << "kiln cancel: " << session.error() << "\n";
    return 2;
  }
  const CancelOutcome outcome = CancelJob(*session->conn, id);
  switch (outcome.kind) {
    case CancelOutcome::Kind::worker_asked:
      std::cout << "cancelling job " << id << " on worker " << outcome.worker << "\n";
      return 0;
    case CancelOutcome::Kind::cancelled_queued:
      std::cout << "cancelled job " << id << " before it ran\n";
      return 0;
    case CancelOutcome::Kind::already_ended:
      std::cout << "job " << id << " already ended: " << outcome.status << "\n";
      return 0;
    case CancelOutcome::Kind::no_such_job:
      std::cerr << "kiln cancel: no job with id '" << id << "'\n";
      return 2;
    case CancelOutcome::Kind::unavailable:
      std::cerr << "kiln cancel: " << outcome.error << "\n";
      return 2;
    case CancelOutcome::Kind::worker_silent:
      break;
  }
  std::cerr << "kiln cancel: job " << id << " is running but its worker does not answer\n";
  return 1;
}

}  // namespace

void AddStatusCommands(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto id = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* status = app.add_subcommand("status", "the state of one job");
  status->add_option("ID", *id, "job id")->required();
  status->add_flag("--json", *json, "print the state as JSON");
  AddNatsOptions(status, global);
  status->callback([&global, &exit_code, id, json] { exit_code = Status(global, *id, *json); });

  auto limit = std::make_shared<int>(20);
  auto* list = app.add_subcommand("list", "recent jobs, newest first");
  list->add_option("--limit", *limit, "at most N jobs (default 20; 0: all)")->check(CLI::NonNegativeNumber);
  list->add_flag("--json", *json, "one JSON state a line");
  AddNatsOptions(list, global);
  list->callback([&global, &exit_code, limit, json] { exit_code = List(global, *limit, *json); });

  auto cancel_id = std::make_shared<std::string>();
  auto* cancel = app.add_subcommand("cancel", "stop a job (running: its worker stops it; queued: it never runs)");
  cancel->add_option("ID", *cancel_id, "job id")->required();
  AddNatsOptions(cancel, global);
  cancel->callback([&global, &exit_code, cancel_id] { exit_code = Cancel(global, *cancel_id); });
}

}  // namespace kiln::cli

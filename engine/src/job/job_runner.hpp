// Runs one job to its end on the calling thread: a workspace (made on first use), the
// pipeline script resolved for it, the sandboxed Lua runtime, the events from job.started
// to exactly one terminal job.* event. Used by `kiln run` and by each slot of `kiln worker`.
//
// Thread-safety: one JobRunner may run several jobs at once from different threads; the
// plugin host and config it holds are read-only while jobs run.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "events/event_sink.hpp"
#include "job/job.hpp"
#include "util/cancellation.hpp"
#include "workspace/workspace_lease.hpp"

namespace kiln {

class PluginHost;
class Redactor;
class SecretStore;
struct SandboxPolicy;

enum class JobStatus { succeeded, failed, cancelled, timed_out };
std::string_view to_string(JobStatus status);

struct JobOutcome {
  JobStatus status = JobStatus::failed;
  /// For a failed job: whether trying the whole job again may help (the last error was
  /// retryable, e.g. the network) — the worker's job-level retry uses it.
  bool retryable = false;
  std::string error;  // redacted
  std::int64_t duration_ms = 0;
  /// What the pipeline returned and each step's outputs, for the job's state entry.
  nlohmann::json outputs = nlohmann::json::object();
  /// With JobRunnerDeps::defer_workspace_removal: the job's workspace, still leased, for the
  /// caller to drop with RemoveWorkspaceLeftBy() once it has reported the result (the lease
  /// removes it then; a worker killed before that leaves it to the next start's sweep).
  std::shared_ptr<WorkspaceLease> workspace_left;
};

/// Removes the workspace a job left for its caller (JobOutcome::workspace_to_remove), if any.
void RemoveWorkspaceLeftBy(JobOutcome& outcome);

struct JobRunnerDeps {
  const Config* config = nullptr;
  const PluginHost* plugins = nullptr;
  const SecretStore* secrets = nullptr;
  Redactor* redactor = nullptr;
  std::string worker_id;
  /// The job sandbox (EngineContext::sandbox); null runs processes unsandboxed.
  const SandboxPolicy* sandbox = nullptr;
  /// Hand the workspace to the caller at the end of a job instead of deleting it before returning:
  /// deleting a build's tree (node_modules alone is thousands of files) took seconds under
  /// load, and the worker publishes the terminal event only after run() returns.
  bool defer_workspace_removal = false;
};

class JobRunner {
 public:
  explicit JobRunner(JobRunnerDeps deps);

  /// Runs `job`, publishing its events to `sink` (first seq = `first_seq`). `cancel` may be
  /// cancelled from another thread at any time; the job's own timeout (worker.timeout) is
  /// applied here. `pipeline_file`, when not empty, overrides pipeline resolution (kiln run --pipeline).
  JobOutcome run(const Job& job, EventSink& sink, CancellationToken& cancel,
                 const std::string& pipeline_file = {}, std::uint64_t first_seq = 1) const;

 private:
  JobRunnerDeps deps_;
};

}  // namespace kiln

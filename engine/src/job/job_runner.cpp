#include "job/job_runner.hpp"

#include <filesystem>
#include <mutex>

#include "events/job_events.hpp"
#include "log/logging.hpp"
#include "pipeline/pipeline_resolver.hpp"
#include "pipeline/pipeline_runtime.hpp"
#include "plugin_host/plugin_host.hpp"
#include "secrets/redactor.hpp"
#include "workspace/workspace_lease.hpp"

namespace kiln {

std::string_view to_string(JobStatus status) {
  switch (status) {
    case JobStatus::succeeded: return "succeeded";
    case JobStatus::failed: return "failed";
    case JobStatus::cancelled: return "cancelled";
    case JobStatus::timed_out: return "timed_out";
  }
  return "failed";
}

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Resolve(const std::string& path, const std::string& base_dir) {
  fs::path p(path);
  if (!p.is_absolute() && !base_dir.empty()) p = fs::path(base_dir) / p;
  return p.lexically_normal().string();
}

// Reads the repository's own .kiln/pipeline.lua through the git plugin's read_file step.
Result<std::string> ReadRepoScript(const PluginHost* plugins, JobResources& resources,
                                   const CancellationToken& token, const Job& job) {
  Plugin* git = plugins ? plugins->find("git") : nullptr;
  if (git == nullptr) return MakeError("allow_repo_scripts needs the git plugin, which is not loaded");
  if (auto ready = PrepareWorkspace(resources); !ready.error.empty()) return MakeError(ready.error);
  RuntimeStepContext ctx(resources, plugins->config_of("git"), token, StepReporter{});
  nlohmann::json args = {{"url", job.repo_url}, {"commit", job.commit}, {"path", ".kiln/pipeline.lua"}};
  StepResult result = PluginHost::RunStep(*git, "read_file", args, ctx);
  if (!result.ok()) return MakeError(result.message);
  const auto& content = result.outputs.value("content", nlohmann::json());
  return content.is_string() ? content.get<std::string>() : std::string();
}

}  // namespace

JobRunner::JobRunner(JobRunnerDeps deps) : deps_(std::move(deps)) {}

JobOutcome JobRunner::run(const Job& job, EventSink& sink, CancellationToken& cancel,
                          const std::string& pipeline_file, std::uint64_t first_seq) const {
  const Config& config = *deps_.config;
  const auto started = Clock::now();
  JobEvents events(job.id, deps_.worker_id, deps_.redactor, sink, first_seq);
  CancellationToken job_token(&cancel);
  job_token.set_timeout(config.worker.timeout);
  JobOutcome outcome;
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  };

  JobResources resources;
  resources.job = job.to_json();
  const std::string workspace_root = Resolve(config.build.workspace_path, config.base_dir);
  resources.workspace = (fs::path(workspace_root) / job.id).string();
  std::unique_ptr<WorkspaceLease> workspace;  // declared before `finish`, which may keep it
  resources.code_cache_dir = Resolve(config.build.code_cache_path, config.base_dir);
  resources.build_cache_dir = Resolve(config.build.build_cache_path, config.base_dir);
  resources.secrets = deps_.secrets;
  resources.redactor = deps_.redactor;
  resources.sandbox = deps_.sandbox;
  // The lease and the directories are taken on first use (a process, a plugin step,
  // kiln.exists): a job of pure Lua steps touches no disk. Making and removing them was a
  // third of a no-op job's worker CPU (docs/benchmarks/worker.md).
  std::mutex workspace_mutex;
  resources.prepare_workspace = [&]() -> WorkspaceReadiness {
    std::lock_guard lock(workspace_mutex);
    if (workspace) return {};
    std::error_code ec;
    for (const auto& dir : {resources.code_cache_dir, resources.build_cache_dir}) {
      fs::create_directories(dir, ec);
      if (ec) return {"cannot create " + dir + ": " + ec.message(), false};
    }
    // Another process may hold this job's workspace for a moment (an attempt whose worker
    // lost its lease and is still stopping): wait a little, then let the job come back later.
    bool busy = false;
    auto lease = WorkspaceLease::Acquire(workspace_root, job.id, std::chrono::seconds(10), &busy);
    if (!lease) return {lease.error(), busy};
    workspace = std::move(lease.value());
    return {};
  };

  auto finish = [&](JobStatus status, std::string error, bool retryable) {
    outcome.status = status;
    outcome.error = deps_.redactor ? deps_.redactor->redact(error) : error;
    outcome.retryable = status == JobStatus::failed && retryable;
    outcome.duration_ms = elapsed_ms();
    nlohmann::json fields = {{"duration_ms", outcome.duration_ms}};
    std::string_view type = event_type::kJobSucceeded;
    switch (status) {
      case JobStatus::succeeded: fields["outputs"] = outcome.outputs; break;
      case JobStatus::failed: type = event_type::kJobFailed; break;
      case JobStatus::cancelled: type = event_type::kJobCancelled; break;
      case JobStatus::timed_out: type = event_type::kJobTimedOut; break;
    }
    if (status != JobStatus::succeeded) {
      fields["error"] = outcome.error;
      fields["retryable"] = outcome.retryable;
      fields["outputs"] = outcome.outputs;
    }
    events.emit(type, std::move(fields));
    Log(status == JobStatus::succeeded ? spdlog::level::info : spdlog::level::warn,
        "job " + std::string(to_string(status)) + (outcome.error.empty() ? "" : ": " + outcome.error),
        LogFields{job.id, {}, outcome.duration_ms, deps_.worker_id});
    // The workspace itself goes when `workspace` does, on every way out of run(); with
    // defer_workspace_removal, when the caller drops outcome.workspace_left after reporting
    // (deleting node_modules takes seconds, and the result should not wait for it).
    std::lock_guard lock(workspace_mutex);
    if (workspace && status != JobStatus::succeeded && config.build.keep_failed_workspaces) {
      workspace->keep();
    } else if (workspace && deps_.defer_workspace_removal) {
      outcome.workspace_left = std::move(workspace);
    }
    return outcome;
  };

  Result<ResolvedPipeline> pipeline = MakeError("unresolved");
  if (!pipeline_file.empty()) {
    pipeline = ReadPipelineFile(pipeline_file);
  } else {
    PipelineSources sources;
    sources.dirs = PipelineDirs(config.pipelines.dir, config.base_dir);
    sources.allow_repo_scripts = config.pipelines.allow_repo_scripts;
    sources.read_repo_script = [&](const Job& j) { return ReadRepoScript(deps_.plugins, resources, job_token, j); };
    pipeline = ResolvePipeline(job, sources);
  }
  nlohmann::json started_fields = {{"repo", {{"url", job.repo_url}, {"name", job.repo_name}}},
                                   {"commit", job.commit},
                                   {"branch", job.branch}};
  if (pipeline) started_fields["pipeline"] = pipeline->name;
  events.emit(event_type::kJobStarted, std::move(started_fields));
  Log(spdlog::level::info, "job started: " + job.repo_url + " @ " + job.commit, LogFields{job.id, {}, {}, deps_.worker_id});
  if (!pipeline) return finish(JobStatus::failed, pipeline.error(), false);

  PipelineSettings settings;
  settings.limits.memory_bytes = config.pipelines.memory_limit;
  settings.limits.instructions = config.pipelines.instruction_limit;
  settings.default_timeout = config.pipelines.step_timeout;
  settings.limits.script_time = config.pipelines.script_time_limit;
  PipelineRuntime runtime(settings, deps_.plugins, resources, events, job_token);
  PipelineResult result = runtime.run(pipeline->source, pipeline->name);
  outcome.outputs = {{"steps", result.steps}};
  if (!result.returned.is_null()) outcome.outputs["result"] = result.returned;
  if (result.ok) return finish(JobStatus::succeeded, {}, false);

  std::string error = result.message;
  if (!runtime.failed_step().empty() && result.kind != ErrorKind::cancelled) {
    error = "step '" + runtime.failed_step() + "': " + error;
  }
  switch (result.kind) {
    case ErrorKind::cancelled:
      // Only a cancel from outside (kiln cancel, shutdown, a lost lease) cancels the job: a
      // script that rewrote a caught error's kind to "cancelled" merely failed.
      if (cancel.stop_reason() == StopReason::cancelled) return finish(JobStatus::cancelled, "cancelled", false);
      return finish(JobStatus::failed, error, false);
    case ErrorKind::timed_out:
      if (job_token.stop_reason() == StopReason::timed_out && cancel.stop_reason() == StopReason::none) {
        return finish(JobStatus::timed_out, "job timed out after " + FormatDuration(config.worker.timeout), false);
      }
      return finish(JobStatus::failed, error, false);
    case ErrorKind::retryable:
      return finish(JobStatus::failed, error, true);
    case ErrorKind::terminal:
      break;
  }
  return finish(JobStatus::failed, error, false);
}

void RemoveWorkspaceLeftBy(JobOutcome& outcome) { outcome.workspace_left.reset(); }

}  // namespace kiln

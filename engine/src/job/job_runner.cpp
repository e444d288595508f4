#include "job/job_runner.hpp"

#include <unistd.h>

#include <filesystem>

#include "events/job_events.hpp"
#include "log/logging.hpp"
#include "pipeline/pipeline_resolver.hpp"
#include "pipeline/pipeline_runtime.hpp"
#include "plugin_host/plugin_host.hpp"
#include "secrets/redactor.hpp"

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
  resources.workspace = (fs::path(Resolve(config.build.workspace_path, config.base_dir)) / job.id).string();
  resources.code_cache_dir = Resolve(config.build.code_cache_path, config.base_dir);
  resources.build_cache_dir = Resolve(config.build.build_cache_path, config.base_dir);
  resources.secrets = deps_.secrets;
  resources.redactor = deps_.redactor;

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
    if (status == JobStatus::succeeded || !config.build.keep_failed_workspaces) {
      std::error_code ec;
      const fs::path workspace(resources.workspace);
      // A rename in the same directory is instant; the tree goes once the result is out.
      const fs::path aside = workspace.parent_path() / (".removing-" + job.id + "-" + std::to_string(::getpid()));
      if (deps_.defer_workspace_removal && fs::exists(workspace, ec)) {
        fs::remove_all(aside, ec);
        fs::rename(workspace, aside, ec);
        if (!ec) outcome.workspace_to_remove = aside.string();
      }
      if (outcome.workspace_to_remove.empty()) fs::remove_all(workspace, ec);
    }
    return outcome;
  };

  std::error_code ec;
  fs::remove_all(resources.workspace, ec);
  for (const auto& dir : {resources.workspace, resources.code_cache_dir, resources.build_cache_dir}) {
    fs::create_directories(dir, ec);
    if (ec) {
      events.emit(event_type::kJobStarted, {{"repo", {{"url", job.repo_url}, {"name", job.repo_name}}},
                                            {"commit", job.commit}});
      return finish(JobStatus::failed, "cannot create " + dir + ": " + ec.message(), false);
    }
  }

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
      return finish(JobStatus::cancelled, "cancelled", false);
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

void RemoveWorkspaceLeftBy(JobOutcome& outcome) {
  if (outcome.workspace_to_remove.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(outcome.workspace_to_remove, ec);
  outcome.workspace_to_remove.clear();
}

}  // namespace kiln

// What an NX run did, read from NX's structured output rather than its prose:
// - the task profile NX writes when NX_PROFILE names a file (Chrome trace format: one
//   event per finished task, with args.target {project, target} and args.status, one of
//   success, failure, skipped, local-cache, local-cache-kept-existing, remote-cache);
// - the run summary NX keeps in its cache directory (run.json: each task's hash), which
//   leads to the task's own terminal output in <cache>/terminalOutputs/<hash>;
// - the project graph NX caches in its workspace data directory (project-graph.json).
// Pure functions; safe from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::nx {

struct TaskOutcome {
  std::string id;       // "api:build" (with ":configuration" when there is one)
  std::string project;  // "api"
  std::string target;   // "build"
  std::string status;   // as NX wrote it
  double duration_ms = 0;

  bool from_cache() const;
  bool failed() const { return status == "failure"; }
  bool succeeded() const { return status == "success" || from_cache(); }
};

/// The task events of an NX profile; nullopt with `error` when the text is not one.
std::optional<std::vector<TaskOutcome>> ParseProfile(const std::string& text, std::string* error);

struct BuildSummary {
  std::vector<std::string> projects;  // every project whose tasks all succeeded (run or from cache)
  std::vector<std::string> cached;    // those of them whose every task came from NX's cache
  std::vector<std::string> failed;    // projects with a failed task
  std::vector<std::string> skipped;   // projects with a task NX did not run (a dependency failed)
  std::vector<TaskOutcome> failed_tasks;
};

/// Sorted, without duplicates.
BuildSummary Summarize(const std::vector<TaskOutcome>& tasks);

/// The hash of `task_id` in NX's run summary (run.json), or empty.
std::string TaskHashFromRunSummary(const std::string& run_json, const std::string& task_id);

/// Project name -> root directory (relative to the workspace), from a project graph as
/// NX writes it (project-graph.json, or `nx graph --file`'s {"graph": {...}}).
std::map<std::string, std::string> ProjectRoots(const nlohmann::json& graph);

/// The last `max_lines` lines of `text`, at most `max_bytes`, with ANSI escapes removed.
std::string TailLines(const std::string& text, std::size_t max_lines, std::size_t max_bytes);

/// The lines of NX's streamed output (--outputStyle=stream prefixes each with
/// "<project>: ") that belong to `project`, prefix removed; empty when there are none.
std::string LinesOfProject(const std::string& output, const std::string& project);

}  // namespace kiln::nx

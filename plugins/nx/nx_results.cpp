#include "nx_results.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

namespace kiln::nx {

bool TaskOutcome::from_cache() const {
  return status == "local-cache" || status == "local-cache-kept-existing" || status == "remote-cache";
}

std::optional<std::vector<TaskOutcome>> ParseProfile(const std::string& text, std::string* error) {
  nlohmann::json profile = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!profile.is_array()) {
    *error = profile.is_discarded() ? "not JSON" : "not a list of trace events";
    return std::nullopt;
  }
  std::vector<TaskOutcome> tasks;
  for (const auto& event : profile) {
    // Metadata events ("ph": "M") name the worker groups; task events are complete events.
    if (!event.is_object() || event.value("ph", "") != "X") continue;
    const auto args = event.value("args", nlohmann::json::object());
    const auto target = args.value("target", nlohmann::json::object());
    if (!target.is_object() || !args.contains("status")) continue;
    TaskOutcome task;
    task.id = event.value("name", "");
    task.project = target.value("project", "");
    task.target = target.value("target", "");
    task.status = args.value("status", "");
    if (event.contains("dur") && event["dur"].is_number()) task.duration_ms = event["dur"].get<double>() / 1000.0;
    if (task.project.empty() || task.target.empty()) continue;
    tasks.push_back(std::move(task));
  }
  return tasks;
}

BuildSummary Summarize(const std::vector<TaskOutcome>& tasks) {
  std::set<std::string> seen, failed, skipped, not_all_cached;
  for (const auto& task : tasks) {
    seen.insert(task.project);
    if (task.failed()) failed.insert(task.project);
    if (!task.succeeded() && !task.failed()) skipped.insert(task.project);
    if (!task.from_cache()) not_all_cached.insert(task.project);
  }
  BuildSummary summary;
  for (const auto& project : seen) {
    if (failed.count(project)) {
      summary.failed.push_back(project);
    } else if (skipped.count(project)) {
      summary.skipped.push_back(project);
    } else {
      summary.projects.push_back(project);
      if (!not_all_cached.count(project)) summary.cached.push_back(project);
    }
  }
  for (const auto& task : tasks) {
    if (task.failed()) summary.failed_tasks.push_back(task);
  }
  return summary;
}

std::string TaskHashFromRunSummary(const std::string& run_json, const std::string& task_id) {
  nlohmann::json run = nlohmann::json::parse(run_json, nullptr, false);
  if (!run.is_object() || !run.contains("tasks") || !run["tasks"].is_array()) return {};
  for (const auto& task : run["tasks"]) {
    if (task.is_object() && task.value("taskId", "") == task_id) {
      const auto hash = task.value("hash", "");
      // The hash names a file: digits and letters only, never a path.
      if (!hash.empty() && std::all_of(hash.begin(), hash.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
        return hash;
      }
    }
  }
  return {};
}

std::map<std::string, std::string> ProjectRoots(const nlohmann::json& graph) {
  const nlohmann::json* nodes = nullptr;
  if (graph.is_object() && graph.contains("graph") && graph["graph"].is_object()) {
    if (graph["graph"].contains("nodes")) nodes = &graph["graph"]["nodes"];
  } else if (graph.is_object() && graph.contains("nodes")) {
    nodes = &graph["nodes"];
  }
  std::map<std::string, std::string> roots;
  if (!nodes || !nodes->is_object()) return roots;
  for (const auto& [name, node] : nodes->items()) {
    if (!node.is_object() || !node.contains("data") || !node["data"].is_object()) continue;
    const auto& data = node["data"];
    if (data.contains("root") && data["root"].is_string()) roots[name] = data["root"].get<std::string>();
  }
  return roots;
}

namespace {

std::string StripAnsi(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
      continue;
    }
    if (text[i] == '\r') continue;
    out += text[i];
  }
  return out;
}

}  // namespace

std::string TailLines(const std::string& text, std::size_t max_lines, std::size_t max_bytes) {
  std::vector<std::string> lines;
  std::istringstream in(StripAnsi(text));
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  while (!lines.empty() && lines.back().find_first_not_of(" \t") == std::string::npos) lines.pop_back();
  std::string tail;
  std::size_t taken = 0;
  for (auto it = lines.rbegin(); it != lines.rend() && taken < max_lines; ++it, ++taken) {
    if (tail.size() + it->size() + 1 > max_bytes) {
      if (taken == 0) tail = it->substr(it->size() - std::min(it->size(), max_bytes));
      break;
    }
    tail.insert(0, *it + (taken == 0 ? "" : "\n"));
  }
  return tail;
}

std::string LinesOfProject(const std::string& output, const std::string& project) {
  const std::string prefix = project + ": ";
  std::istringstream in(StripAnsi(output));
  std::string line, lines;
  while (std::getline(in, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) lines += line.substr(prefix.size()) + "\n";
  }
  return lines;
}

}  // namespace kiln::nx

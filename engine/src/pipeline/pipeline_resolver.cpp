#include "pipeline/pipeline_resolver.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln {

namespace {

constexpr std::size_t kMaxScriptBytes = 1024 * 1024;

std::filesystem::path ExecutableDir() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return {};
  self[n] = '\0';
  return std::filesystem::path(self).parent_path();
}

}  // namespace

std::vector<std::string> PipelineDirs(const std::string& configured_dir, const std::string& base_dir) {
  std::vector<std::string> dirs;
  std::filesystem::path configured(configured_dir);
  if (!configured.is_absolute() && !base_dir.empty()) configured = std::filesystem::path(base_dir) / configured;
  dirs.push_back(configured.lexically_normal().string());
  std::filesystem::path exe_dir = ExecutableDir();
  if (!exe_dir.empty()) {
    dirs.push_back((exe_dir.parent_path() / KILN_PIPELINE_RELDIR).lexically_normal().string());
    dirs.push_back((exe_dir.parent_path() / "share/kiln/pipelines").lexically_normal().string());
  }
  return dirs;
}

Result<ResolvedPipeline> ReadPipelineFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return MakeError(path + ": no such pipeline file");
  auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxScriptBytes) return MakeError(path + ": a pipeline script is limited to 1 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(path + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return ResolvedPipeline{path, text.str()};
}

Result<ResolvedPipeline> ResolvePipeline(const Job& job, const PipelineSources& sources) {
  auto find = [&](const std::string& relative) -> std::string {
    for (const auto& dir : sources.dirs) {
      std::filesystem::path candidate = std::filesystem::path(dir) / relative;
      std::error_code ec;
      if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
    }
    return {};
  };
  if (!job.pipeline.empty()) {
    if (!IsValidPipelineName(job.pipeline)) return MakeError("pipeline: invalid name '" + job.pipeline + "'");
    std::string path = find(job.pipeline + ".lua");
    if (path.empty()) return MakeError("pipeline '" + job.pipeline + "' not found (looked for " + job.pipeline + ".lua in the pipelines dirs)");
    return ReadPipelineFile(path);
  }
  if (!job.repo_name.empty() && IsValidPipelineName(job.repo_name)) {
    std::string path = find(job.repo_name + ".lua");
    if (!path.empty()) return ReadPipelineFile(path);
  }
  if (sources.allow_repo_scripts && sources.read_repo_script) {
    auto script = sources.read_repo_script(job);
    if (!script) return MakeError("reading the repository's .kiln/pipeline.lua: " + script.error());
    if (!script.value().empty()) {
      if (script.value().size() > kMaxScriptBytes) return MakeError(".kiln/pipeline.lua: a pipeline script is limited to 1 MiB");
      return ResolvedPipeline{(job.repo_name.empty() ? job.repo_url : job.repo_name) + "/.kiln/pipeline.lua",
                              std::move(script.value())};
    }
  }
  std::string path = find("default.lua");
  if (path.empty()) return MakeError("no pipeline for this job and no default.lua in the pipelines dirs");
  return ReadPipelineFile(path);
}

}  // namespace kiln

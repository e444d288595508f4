// Which script runs a job (DESIGN.md "Pipelines"): the job's `pipeline` name
// (<dir>/<name>.lua); else <dir>/<owner>/<repo>.lua; else the repository's own
// .kiln/pipeline.lua when allow_repo_scripts is on (read through git.read_file); else
// <dir>/default.lua. Each <dir> is searched in order: the configured pipelines.dir, then
// the pipelines installed with kiln.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "job/job.hpp"
#include "util/result.hpp"

namespace kiln {

class PluginHost;
class StepContext;

struct ResolvedPipeline {
  std::string name;    // how events and errors name it: a file path or "<repo>/.kiln/pipeline.lua"
  std::string source;  // the script's text
};

struct PipelineSources {
  std::vector<std::string> dirs;
  bool allow_repo_scripts = false;
  /// Reads the repository's own script at the job's commit; empty Result value when there is none.
  std::function<Result<std::string>(const Job&)> read_repo_script;
};

/// The pipelines dirs for a config: pipelines.dir (relative to the config's dir), then
/// the share dir next to the binary (../share/kiln/pipelines).
std::vector<std::string> PipelineDirs(const std::string& configured_dir, const std::string& base_dir);

Result<ResolvedPipeline> ResolvePipeline(const Job& job, const PipelineSources& sources);
Result<ResolvedPipeline> ReadPipelineFile(const std::string& path);

}  // namespace kiln

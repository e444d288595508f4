// git.sync{ url, commit, ref?, submodules?, credentials?, dir? }
//   -> { path, commit, branch?, source = "network"|"cache", fetched_objects, submodules? }
//
// Brings the repository's mirror up to date (or falls back to it when the remote cannot
// be reached and it already holds `commit`), then makes <workspace>/<dir> (default "src")
// a working copy of exactly `commit`, with its submodules when asked.
//
// Thread safety: Run may be called from several job threads at once; the step keeps no
// state of its own between calls.
#pragma once

#include <nlohmann/json.hpp>

#include "git_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"
#include "remote_fetcher.hpp"

namespace kiln::git {

class SyncStep {
 public:
  SyncStep(const GitConfig& config, const RemoteFetcher& fetcher) : config_(config), fetcher_(fetcher) {}
  StepResult Run(const nlohmann::json& args, StepContext& ctx) const;

 private:
  const GitConfig& config_;
  const RemoteFetcher& fetcher_;
};

}  // namespace kiln::git

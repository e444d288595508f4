// git.read_file{ url, commit, path, credentials? } -> { exists, content? }
//
// Reads one file of `commit` straight from the repository's mirror, fetching only when
// the mirror lacks the commit (the engine reads a repository's .kiln/pipeline.lua this
// way before the job's first step). A missing file is `exists = false`, not an error;
// a file over 1 MiB or not UTF-8 text is a terminal error.
//
// Thread safety: as SyncStep.
#pragma once

#include <nlohmann/json.hpp>

#include "git_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"
#include "remote_fetcher.hpp"

namespace kiln::git {

class ReadFileStep {
 public:
  static constexpr std::size_t kMaxBytes = 1 << 20;

  ReadFileStep(const GitConfig& config, const RemoteFetcher& fetcher) : config_(config), fetcher_(fetcher) {}
  StepResult Run(const nlohmann::json& args, StepContext& ctx) const;

 private:
  const GitConfig& config_;
  const RemoteFetcher& fetcher_;
};

}  // namespace kiln::git

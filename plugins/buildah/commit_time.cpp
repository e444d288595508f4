#include "commit_time.hpp"

#include <algorithm>
#include <regex>
#include <system_error>

namespace kiln::buildah {
namespace fs = std::filesystem;

fs::path EnclosingRepository(const fs::path& context, const fs::path& workspace) {
  std::error_code ec;
  fs::path top = fs::weakly_canonical(workspace, ec);
  fs::path dir = fs::weakly_canonical(context, ec);
  if (ec) return {};
  for (;;) {
    if (fs::exists(dir / ".git", ec)) return dir;
    if (dir == top || !dir.has_relative_path()) return {};
    // Only directories inside the workspace: a context elsewhere has no job commit.
    auto [end, unused] = std::mismatch(top.begin(), top.end(), dir.begin(), dir.end());
    if (end != top.end()) return {};
    dir = dir.parent_path();
  }
}

std::optional<std::int64_t> CommitTime(const fs::path& context, const fs::path& workspace, const std::string& commit,
                                       StepContext& ctx, std::string& why) {
  static const std::regex kCommit("[0-9a-fA-F]{4,64}");
  if (!commit.empty() && !std::regex_match(commit, kCommit)) {
    why = "the job's commit '" + commit + "' is not a commit id";
    return std::nullopt;
  }
  fs::path repository = EnclosingRepository(context, workspace);
  if (repository.empty()) {
    why = "the build context is not inside a git working copy of the workspace";
    return std::nullopt;
  }
  ProcessSpec spec;
  // safe.directory: the working copy may belong to the sandbox's user, not to the worker.
  spec.argv = {"git", "--git-dir", (repository / ".git").string(), "-c", "safe.directory=*", "--no-replace-objects",
               "rev-list", "--no-walk", "--timestamp", (commit.empty() ? std::string("HEAD") : commit) + "^{commit}",
               "--"};
  spec.env = {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_TERMINAL_PROMPT", "0"}};
  spec.isolation = Isolation::worker;  // reads the working copy's objects (and its mirror's) as data
  spec.log_output = false;
  ProcessResult result = ctx.run(spec);
  if (!result.ok()) {
    why = "git rev-list of " + (commit.empty() ? std::string("HEAD") : commit) + " in " + repository.string() +
          " failed: " + (result.started ? result.output_tail.substr(0, 300) : result.error);
    return std::nullopt;
  }
  static const std::regex kLine("(?:^|\n)([0-9]{1,12}) [0-9a-f]{40,64}\\s*$");
  std::smatch match;
  if (!std::regex_search(result.output_tail, match, kLine)) {
    why = "git rev-list printed no commit time";
    return std::nullopt;
  }
  return std::stoll(match[1].str());
}

}  // namespace kiln::buildah

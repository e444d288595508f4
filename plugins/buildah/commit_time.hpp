// The time of the job's commit, for reproducible images (the SOURCE_DATE_EPOCH convention):
// `org.opencontainers.image.created` and buildah's --timestamp default to it, so one commit
// gives one image digest on any worker instead of one per build.
//
// The job message names the commit but not its time; the working copy the git plugin made
// has it. The repository holding the build context is the nearest `.git` at or above the
// context, up to the workspace; git runs as the worker with that --git-dir named (no
// discovery) and reads nothing but the commit (`rev-list --no-walk --timestamp`, which runs
// no hook, pager, signature program or fsmonitor whatever the repository's config says).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "kiln/step_context.hpp"

namespace kiln::buildah {

/// Seconds since the epoch of `commit` ("" = HEAD) in the repository around `context`;
/// nullopt with `why` when there is no repository, no such commit or no git.
std::optional<std::int64_t> CommitTime(const std::filesystem::path& context, const std::filesystem::path& workspace,
                                       const std::string& commit, StepContext& ctx, std::string& why);

/// The nearest directory at or above `context`, not above `workspace`, holding a `.git`
/// (directory or gitfile); empty when there is none.
std::filesystem::path EnclosingRepository(const std::filesystem::path& context, const std::filesystem::path& workspace);

}  // namespace kiln::buildah

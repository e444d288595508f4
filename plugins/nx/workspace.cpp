#include "workspace.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

#include "kiln/repository_area.hpp"
#include "kiln/step_context.hpp"
#include "kiln/workspace_path.hpp"

namespace kiln::nx {
namespace fs = std::filesystem;

RepoCache RepoCacheFor(StepContext& ctx) {
  const fs::path build_cache = ctx.build_cache_dir();
  RepoCache cache{build_cache, repository_area::AreaRoot(build_cache, ctx.job())};
  repository_area::MarkUsed(cache.root);
  return cache;
}

fs::path ResolveWorkspaceDir(StepContext& ctx, const std::string& dir, std::string* error) {
  // NX runs, installs and writes its outputs in this directory: inside the job's workspace
  // once symlinks and ".." are resolved (kiln/workspace_path.hpp).
  const auto resolved = workspace_path::Resolve(ctx.workspace(), dir);
  if (!resolved) {
    *error = "dir: " + resolved.error;
    return {};
  }
  std::error_code ec;
  if (!fs::is_directory(resolved.path, ec)) {
    const fs::path shown = fs::path(dir).is_relative() ? fs::path(ctx.workspace()) / dir : fs::path(dir);
    *error = "directory " + shown.string() + " does not exist";
    return {};
  }
  return resolved.path;
}

RepoLock::RepoLock(StepContext& ctx, const fs::path& lock_file) {
  std::error_code ec;
  fs::create_directories(lock_file.parent_path(), ec);
  fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error_ = "cannot open " + lock_file.string() + ": " + std::strerror(errno);
    return;
  }
  bool told = false;
  while (!ctx.cancelled()) {
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
      held_ = true;
      return;
    }
    if (errno != EWOULDBLOCK && errno != EINTR) {
      error_ = "cannot lock " + lock_file.string() + ": " + std::strerror(errno);
      return;
    }
    if (!told) {
      ctx.log("waiting for another NX build of this repository to finish (" + lock_file.string() + ")");
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  error_ = "cancelled while waiting for " + lock_file.string();
}

RepoLock::~RepoLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

}  // namespace kiln::nx

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

#include "kiln/repository_scope.hpp"
#include "kiln/step_context.hpp"

namespace kiln::nx {
namespace fs = std::filesystem;

namespace {

/// "https://user:token@host/acme/shop.git" -> "host/acme/shop": the readable part only.
std::string UrlWithoutSchemeAndCredentials(const std::string& url) {
  std::string normalised = repository_scope::NormaliseRepositoryUrl(url);
  if (auto scheme = normalised.find("://"); scheme != std::string::npos) normalised.erase(0, scheme + 3);
  return normalised;
}

}  // namespace

std::string RepositoryKey(const nlohmann::json& job) {
  const repository_scope::JobScopes scopes = repository_scope::ScopesForJob(job);
  if (scopes.repository == repository_scope::kNoRepositoryScope) return scopes.save;
  std::string name;
  const auto& repo = job["repo"];
  if (repo.contains("name") && repo["name"].is_string()) name = repo["name"].get<std::string>();
  if (name.empty()) name = UrlWithoutSchemeAndCredentials(repo["url"].get<std::string>());
  std::string key;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
    key += plain ? c : '-';
  }
  if (key.size() > 80) key.resize(80);
  if (key.find_first_not_of('.') == std::string::npos) key = "repo";  // never "." or ".."
  // The name is for people; the scope decides: the repository's normalised URL, and the
  // ref for an untrusted job, so no other repository and no fork's pull request writes here.
  return key + "-" + scopes.save;
}

RepoCache RepoCacheFor(StepContext& ctx) {
  const fs::path build_cache = ctx.build_cache_dir();
  return RepoCache{build_cache, build_cache / RepositoryKey(ctx.job())};
}

fs::path ResolveWorkspaceDir(StepContext& ctx, const std::string& dir, std::string* error) {
  fs::path path(dir);
  if (path.is_relative()) path = fs::path(ctx.workspace()) / path;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    *error = "directory " + path.string() + " does not exist";
    return {};
  }
  fs::path canonical = fs::canonical(path, ec);
  if (ec) {
    *error = "cannot resolve " + path.string() + ": " + ec.message();
    return {};
  }
  return canonical;
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

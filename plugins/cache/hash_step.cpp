#include "hash_step.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "safe_paths.hpp"
#include "kiln/sha256.hpp"
#include "step_args.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

bool HashFile(const fs::path& path, Sha256* hash, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open \"" + path.string() + "\": " + std::error_code(errno, std::generic_category()).message();
    return false;
  }
  std::vector<char> buffer(64 * 1024);
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "cannot read \"" + path.string() + "\": " + std::error_code(errno, std::generic_category()).message();
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    hash->Update(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

bool IsRegular(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

StepResult RunHashStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig&) {
  std::string error = CheckArgs("hash", args, {"files"});
  std::vector<std::string> patterns;
  if (!error.empty() || !StringListArg("hash", args, "files", true, &patterns, &error)) {
    return StepResult::Terminal(error);
  }
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(ctx.workspace()), ec);
  std::map<std::string, fs::path> found;  // workspace-relative -> resolved; sorted, no repeats
  for (const auto& pattern : patterns) {
    const bool wildcard = pattern.find_first_of("*?[") != std::string::npos;
    if (!wildcard) {
      fs::path resolved;
      if (!ResolveInWorkspace(ctx.workspace(), pattern, &resolved, &error)) return StepResult::Terminal("cache.hash: " + error);
      if (IsRegular(resolved)) found[resolved.lexically_relative(root).generic_string()] = resolved;
      continue;
    }
    const fs::path given(pattern);
    const std::string leaf = given.filename().string();
    if (given.parent_path().string().find_first_of("*?[") != std::string::npos) {
      return StepResult::Terminal("cache.hash: \"" + Escape(pattern) +
                                  "\": wildcards are allowed only in the last path component");
    }
    fs::path dir;
    const std::string parent = given.parent_path().string();
    if (parent.empty()) {
      dir = root;
    } else if (!ResolveInWorkspace(ctx.workspace(), parent, &dir, &error)) {
      return StepResult::Terminal("cache.hash: " + error);
    }
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (::fnmatch(leaf.c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
      fs::path resolved;
      std::string ignored;
      if (ResolveInWorkspace(ctx.workspace(), (dir / name).string(), &resolved, &ignored) && IsRegular(resolved)) {
        found[resolved.lexically_relative(root).generic_string()] = resolved;
      }
    }
  }
  if (found.empty()) {
    std::string names;
    for (const auto& p : patterns) names += (names.empty() ? "\"" : ", \"") + Escape(p) + "\"";
    return StepResult::Terminal("cache.hash: no file matches " + names);
  }
  // Each file contributes its path, length and content, so moving bytes between files
  // or renaming one changes the hash.
  Sha256 hash;
  nlohmann::json files = nlohmann::json::array();
  for (const auto& [relative, path] : found) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    const std::string head = relative + '\0' + std::to_string(st.st_size) + '\0';
    hash.Update(head);
    if (!HashFile(path, &hash, &error)) return StepResult::Retryable("cache.hash: " + error);
    files.push_back(relative);
  }
  const std::string digest = hash.HexDigest();
  ctx.log("cache.hash: " + std::to_string(found.size()) + " file(s) -> " + digest.substr(0, 16));
  return StepResult::Ok({{"hash", digest}, {"files", files}});
}

}  // namespace kiln::cache

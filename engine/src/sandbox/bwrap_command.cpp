#include "sandbox/bwrap_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>

namespace kiln {

namespace {

namespace fs = std::filesystem;

// Debian's merged /usr makes these links (/bin -> usr/bin); older layouts have directories.
constexpr std::array<const char*, 6> kTopLevelSystemDirs = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};

void Add(std::vector<std::string>& argv, std::initializer_list<std::string> items) {
  argv.insert(argv.end(), items.begin(), items.end());
}

void AddSystem(std::vector<std::string>& argv) {
  Add(argv, {"--ro-bind", "/usr", "/usr"});
  for (const char* dir : kTopLevelSystemDirs) {
    struct stat st {};
    if (::lstat(dir, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(dir, ec);
      if (!ec) Add(argv, {"--symlink", target.string(), dir});
    } else if (S_ISDIR(st.st_mode)) {
      Add(argv, {"--ro-bind", dir, dir});
    }
  }
  Add(argv, {"--ro-bind", "/etc", "/etc"});
}

// The roots a hidden path can be visible under: hiding anything else would make bwrap
// create a mount point in the read-only root, and there is nothing to hide there.
std::vector<std::string> VisibleRoots(const SandboxPolicy& policy, const SandboxedCommand& command) {
  std::vector<std::string> roots = {"/usr", "/etc"};
  for (const char* dir : kTopLevelSystemDirs) roots.emplace_back(dir);
  roots.insert(roots.end(), policy.read_only_paths.begin(), policy.read_only_paths.end());
  roots.push_back(command.workspace);
  for (const auto& mount : command.mounts) roots.push_back(mount.path);
  return roots;
}

void AddHidden(std::vector<std::string>& argv, const SandboxPolicy& policy, const SandboxedCommand& command) {
  const std::vector<std::string> roots = VisibleRoots(policy, command);
  for (const auto& path : policy.private_paths) {
    bool visible = false;
    for (const auto& root : roots) visible = visible || IsWithin(path, root);
    struct stat st {};
    if (!visible || ::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      Add(argv, {"--tmpfs", path, "--remount-ro", path});
    } else {
      Add(argv, {"--ro-bind", "/dev/null", path});
    }
  }
}

// A path shown below the sandbox's /tmp or /var/tmp (a workspace under /tmp) needs directories
// above it, which bwrap would make in the job's writable tmp: they get a tmpfs of their own
// instead, read-only once everything is mounted, as the root is.
std::vector<std::string> TmpParentsOf(const SandboxPolicy& policy, const SandboxedCommand& command) {
  std::vector<std::string> shown = {command.workspace};
  for (const auto& mount : command.mounts) shown.push_back(mount.path);
  shown.insert(shown.end(), policy.read_only_paths.begin(), policy.read_only_paths.end());
  std::vector<std::string> tops;
  for (const std::string tmp : {"/tmp", "/var/tmp"}) {
    for (const auto& path : shown) {
      if (!IsWithin(path, tmp) || path == tmp) continue;
      const std::size_t end = path.find('/', tmp.size() + 1);
      const std::string top = path.substr(0, end);
      if (top != path && std::find(tops.begin(), tops.end(), top) == tops.end()) tops.push_back(top);
    }
  }
  return tops;
}

}  // namespace

bool IsWithin(const std::string& path, const std::string& root) {
  if (root.empty()) return false;
  if (path == root) return true;
  const std::string prefix = root.back() == '/' ? root : root + "/";
  return path.rfind(prefix, 0) == 0;
}

std::vector<std::string> BwrapArgv(const SandboxPolicy& policy, const SandboxedCommand& command) {
  std::vector<std::string> argv = {policy.bwrap};
  // --as-pid-1: the command is the namespace's first process, without bwrap's reaper in
  // between: one fork less per process (~7 ms here, docs/benchmarks/sandbox.md). Everything in
  // the namespace still dies with it, and bwrap's SIGKILL reaches it when the step ends.
  Add(argv, {"--unshare-all", "--unshare-user", "--disable-userns", "--uid", std::to_string(policy.uid), "--gid",
             std::to_string(policy.gid), "--hostname", "kiln-job", "--die-with-parent", "--new-session",
             "--as-pid-1"});
  AddSystem(argv);
  Add(argv, {"--proc", "/proc", "--dev", "/dev"});
  // /tmp first: what is bound later below /tmp (a workspace under /tmp) stays visible.
  Add(argv, {"--bind", command.tmp_dir, "/tmp", "--bind", command.tmp_dir, "/var/tmp"});
  const std::vector<std::string> tmp_parents = TmpParentsOf(policy, command);
  for (const auto& top : tmp_parents) Add(argv, {"--tmpfs", top});
  for (const auto& path : policy.read_only_paths) Add(argv, {"--ro-bind-try", path, path});
  Add(argv, {"--bind", command.workspace, command.workspace});
  for (const auto& mount : command.mounts) {
    Add(argv, {mount.writable ? "--bind" : "--ro-bind", mount.path, mount.path});
  }
  AddHidden(argv, policy, command);
  for (const auto& top : tmp_parents) Add(argv, {"--remount-ro", top});
  Add(argv, {"--remount-ro", "/"});
  if (command.info_fd >= 0) Add(argv, {"--info-fd", std::to_string(command.info_fd)});
  if (command.block_fd >= 0) Add(argv, {"--block-fd", std::to_string(command.block_fd)});
  Add(argv, {"--chdir", command.cwd.empty() ? command.workspace : command.cwd});
  argv.emplace_back("--");
  argv.push_back(command.executable);
  argv.insert(argv.end(), command.argv.begin() + (command.argv.empty() ? 0 : 1), command.argv.end());
  return argv;
}

}  // namespace kiln

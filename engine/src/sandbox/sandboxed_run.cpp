#include "sandbox/sandboxed_run.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "config/config_value.hpp"
#include "sandbox/bwrap_command.hpp"
#include "sandbox/egress_network.hpp"
#include "sandbox/workspace_handover.hpp"

namespace kiln {

namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds kNetworkSetupTimeout{10};

ProcessResult Failed(std::string error) {
  ProcessResult result;
  result.error = std::move(error);
  return result;
}

std::string Normal(const std::string& path) { return fs::path(path).lexically_normal().string(); }

// bwrap binds the workspace at its own path as the sandbox uid, which must be able to enter
// every directory above it. Said here, naming the directory, instead of as bwrap's "Can't
// find source path: Permission denied".
std::string FirstDirectoryClosedTo(const std::string& path, unsigned uid, unsigned gid) {
  fs::path walked = "/";
  for (const auto& part : fs::path(path).parent_path().relative_path()) {
    walked /= part;
    struct stat st {};
    if (::stat(walked.c_str(), &st) != 0) return {};  // bwrap will say what is missing
    const bool open = st.st_uid == uid   ? (st.st_mode & S_IXUSR) != 0
                      : st.st_gid == gid ? (st.st_mode & S_IXGRP) != 0
                                         : (st.st_mode & S_IXOTH) != 0;
    if (!open) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      return "the job sandbox's uid " + std::to_string(uid) + " cannot enter " + walked.string() + " (mode " + mode +
             ") to reach " + path + ": chmod o+x it (docs/security.md, \"Deploying\")";
    }
  }
  return {};
}

}  // namespace

std::string SandboxTmpDir(const std::string& workspace) { return (fs::path(workspace) / ".kiln-tmp").string(); }

ProcessResult RunSandboxed(const SandboxPolicy& policy, const std::string& workspace, const ProcessSpec& spec,
                           ProcessRunOptions options) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Failed("no command given");
  std::map<std::string, std::string> env = options.base_env;
  for (const auto& [key, value] : spec.env) env[key] = value;

  SandboxedCommand command;
  command.workspace = Normal(workspace);
  command.tmp_dir = SandboxTmpDir(command.workspace);
  command.cwd = Normal(spec.cwd.empty() ? options.default_cwd : spec.cwd);
  command.argv = spec.argv;
  command.executable = ResolveExecutable(spec.argv[0], env);
  if (command.executable.empty()) return Failed("command not found: " + spec.argv[0]);
  for (const auto& mount : spec.mounts) {
    std::error_code ec;
    if (mount.path.empty() || mount.path.front() != '/' || !fs::exists(mount.path, ec)) {
      return Failed("sandbox mount '" + mount.path + "' is not an existing absolute path");
    }
    command.mounts.push_back({Normal(mount.path), mount.writable});
  }
  // The cwd must be somewhere the process can see; the workspace is the usual place.
  bool cwd_visible = IsWithin(command.cwd, command.workspace);
  for (const auto& mount : command.mounts) cwd_visible = cwd_visible || IsWithin(command.cwd, mount.path);
  if (!cwd_visible) return Failed("working directory " + command.cwd + " is outside the job's workspace");

  if (policy.switch_user) {
    std::string closed = FirstDirectoryClosedTo(command.workspace, policy.uid, policy.gid);
    for (const auto& mount : command.mounts) {
      if (closed.empty()) closed = FirstDirectoryClosedTo(mount.path, policy.uid, policy.gid);
    }
    if (!closed.empty()) return Failed(closed);
  }
  std::error_code ec;
  fs::create_directories(command.tmp_dir, ec);
  if (ec) return Failed("cannot create the sandbox's /tmp " + command.tmp_dir + ": " + ec.message());
  if (policy.switch_user) {
    std::string error = HandOverWorkspace(command.workspace, policy.uid, policy.gid);
    for (const auto& mount : command.mounts) {
      if (error.empty() && mount.writable && fs::is_directory(mount.path, ec)) {
        error = HandOverWorkspace(mount.path, policy.uid, policy.gid);
      }
    }
    if (!error.empty()) return Failed(error);
  }

  std::unique_ptr<EgressNetwork> network;
  if (spec.network == Network::egress) {
    auto prepared = EgressNetwork::Prepare(policy.slirp4netns);
    if (!prepared) return Failed(prepared.error());
    network = std::move(prepared.value());
    command.info_fd = network->info_fd_for_bwrap();
    command.block_fd = network->block_fd_for_bwrap();
    options.child.inherited_fds = {command.info_fd, command.block_fd};
    options.after_start = [&network](int) { return network->Attach(kNetworkSetupTimeout); };
  }

  options.child.switch_user = policy.switch_user;
  options.child.uid = policy.uid;
  options.child.gid = policy.gid;
  options.child.max_processes = static_cast<std::uint64_t>(policy.max_processes);
  options.child.max_file_size = policy.disk_quota;
  const std::uint64_t quota = policy.disk_quota;
  // A walk of a large tree (node_modules) takes a while: walk again only after twenty times
  // as long as the last walk took, so the watch costs at most ~5% of a core.
  auto next_walk = std::chrono::steady_clock::now();
  options.watchdog = [quota, dir = command.workspace, next_walk]() mutable -> std::string {
    const auto start = std::chrono::steady_clock::now();
    if (start < next_walk) return {};
    const std::uint64_t used = DiskUsage(dir, quota);
    next_walk = start + 20 * (std::chrono::steady_clock::now() - start);
    if (used <= quota) return {};
    return "the job's workspace passed its disk quota of " + config_value::FormatSize(quota) +
           " (sandbox.disk_quota)";
  };

  ProcessSpec sandboxed = spec;
  sandboxed.argv = BwrapArgv(policy, command);
  sandboxed.cwd = "/";  // bwrap's own; the command's is --chdir
  ProcessResult result = RunProcess(sandboxed, options);
  if (!result.started && result.error.rfind("cannot start ", 0) == 0) {
    result.error = "cannot start the sandbox (" + policy.bwrap + "): " + result.error;
  }
  return result;
}

}  // namespace kiln

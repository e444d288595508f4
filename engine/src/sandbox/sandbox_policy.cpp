#include "sandbox/sandbox_policy.hpp"

#include <unistd.h>

#include <filesystem>

#include "process/process_runner.hpp"

namespace kiln {

namespace {

namespace fs = std::filesystem;

// Absolute path of `name` in kiln's own PATH (and the sbin directories), empty when absent.
std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  const char* path = ::getenv("PATH");
  const std::string dirs = path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
  return ResolveExecutable(name, {{"PATH", dirs + ":/usr/sbin:/sbin"}});
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

}  // namespace

Result<SandboxPolicy> MakeSandboxPolicy(const SandboxConfig& config, std::vector<std::string> private_files) {
  SandboxPolicy policy;
  policy.bwrap = FindExecutable(config.bwrap);
  if (policy.bwrap.empty()) {
    return MakeError("sandbox.bwrap: '" + config.bwrap +
                     "' not found (install bubblewrap, or set sandbox.enabled: false to run jobs unsandboxed)");
  }
  policy.slirp4netns = FindExecutable(config.slirp4netns);
  policy.switch_user = ::geteuid() == 0;
  policy.uid = policy.switch_user ? static_cast<unsigned>(config.uid) : ::geteuid();
  policy.gid = policy.switch_user ? static_cast<unsigned>(config.gid) : ::getegid();
  policy.private_paths = config.private_paths;
  for (auto& file : private_files) {
    if (!file.empty()) policy.private_paths.push_back(Absolute(file));
  }
  policy.read_only_paths = config.read_only_paths;
  policy.disk_quota = config.disk_quota;
  policy.max_processes = config.max_processes;
  return policy;
}

std::vector<std::string> PrivateFilesOf(const Config& config, const std::string& config_file) {
  std::vector<std::string> files;
  if (!config_file.empty()) files.push_back(config_file);
  for (const auto& [name, spec] : config.secrets) {
    if (spec.rfind("file:", 0) == 0) files.push_back(ResolveConfigPath(config, spec.substr(5)));
  }
  for (const std::string* reference : {&config.nats.password, &config.nats.token, &config.gateway.webhook_secret,
                                       &config.gateway.api_token}) {
    if (reference->rfind("file:", 0) == 0) files.push_back(ResolveConfigPath(config, reference->substr(5)));
  }
  for (const std::string* file : {&config.nats.credentials, &config.nats.tls_key}) {
    if (!file->empty()) files.push_back(ResolveConfigPath(config, *file));
  }
  return files;
}

}  // namespace kiln

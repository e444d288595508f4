// The job sandbox's settings, resolved once when kiln starts: what every sandboxed process
// of every job runs under (docs/security.md says what each part stops).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "util/result.hpp"

namespace kiln {

struct SandboxPolicy {
  std::string bwrap;        // absolute path
  std::string slirp4netns;  // absolute path; empty when not installed (egress then fails, naming it)
  /// kiln runs as root: processes run as uid/gid. Otherwise they keep kiln's own uid, which
  /// is already unprivileged (a developer's `kiln run`).
  bool switch_user = false;
  unsigned uid = 0;
  unsigned gid = 0;
  /// Hidden inside (an empty file or directory over them) where they would be visible.
  std::vector<std::string> private_paths;
  /// Shown read-only besides the system (/usr, /etc and the top-level links into /usr).
  std::vector<std::string> read_only_paths;
  std::uint64_t disk_quota = 0;
  int max_processes = 0;
};

/// The policy for `config`; `private_files` are hidden as well (the config file, the files
/// of `file:` secrets and NATS credentials). An error names the missing tool and the key.
Result<SandboxPolicy> MakeSandboxPolicy(const SandboxConfig& config, std::vector<std::string> private_files);

/// Every file the config names that a job must not read: the config file itself, `file:`
/// secrets, nats.credentials and nats.tls_key.
std::vector<std::string> PrivateFilesOf(const Config& config, const std::string& config_file);

}  // namespace kiln

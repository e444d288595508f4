// The `nx:` section of kiln's configuration, and the defaults it gives nx.build.
//
//   nx:
//     install: auto      # auto | ci | none: how nx.build installs the workspace's packages
//     parallel: 0        # NX's --parallel when a step gives none; 0 leaves NX's own default
//
// Parsed once by NxPlugin::configure; a plain value, safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace kiln::nx {

/// How a step gets the workspace's node_modules.
enum class InstallMode {
  /// Install with the lockfile's package manager unless node_modules is already in step
  /// with the lockfile; `npm install` when there is no lockfile.
  automatic,
  /// Always the lockfile's frozen install (`npm ci`, `pnpm install --frozen-lockfile`, ...);
  /// no lockfile is an error.
  ci,
  /// Never install: NX must already be in node_modules.
  none,
};

std::optional<InstallMode> ParseInstallMode(std::string_view text);
std::string_view ToString(InstallMode mode);

struct NxConfig {
  InstallMode install = InstallMode::automatic;
  int parallel = 0;
};

/// A value, or the message that names what is wrong.
template <typename T>
using Parsed = std::variant<T, std::string>;

/// Parses the `nx:` section (null or an object). Errors name the key: "nx.install: ...".
Parsed<NxConfig> ParseConfig(const nlohmann::json& section);

}  // namespace kiln::nx

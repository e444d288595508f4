// Helpers shared by the config tests: a map-backed environment (tests never read the real
// one) and loading a config written into a temp dir.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {

inline EnvLookup MapEnv(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

/// Writes `yaml` to <dir>/config.yaml and loads it with `env`.
inline Result<Config> LoadYaml(const TempDir& dir, const std::string& yaml,
                               std::map<std::string, std::string> env = {}) {
  const std::string path = (dir / "config.yaml").string();
  WriteFile(path, yaml);
  return LoadConfig(path, MapEnv(std::move(env)));
}

}  // namespace kiln::testing

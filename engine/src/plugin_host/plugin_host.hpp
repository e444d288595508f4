// Finds, checks and loads phase plugins (Boost.DLL), and calls their steps.
//
// Loading order per file: the plain-C descriptor (ABI version, build id) is read before
// any C++ type is touched; then the versioned factory alias; then name/steps are checked.
// A file that fails any check is recorded as a problem, by file name and reason, and
// skipped: the others still load. Libraries stay loaded for the host's lifetime, and the
// plugin objects are destroyed before their libraries are unloaded.
//
// Thread-safety: load and configure from one thread before any job runs; afterwards
// find() and run_step() may be called from every job thread at once.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/plugin.hpp"

namespace kiln {

struct PluginInfo {
  std::string name;
  std::string version;
  std::string file;
  std::vector<std::string> steps;
  double load_ms = 0;
};

struct PluginProblem {
  std::string file;
  std::string reason;
};

class PluginHost {
 public:
  PluginHost();
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  /// The default plugin dirs: next to the running binary (../lib/kiln/plugins), then `extra`.
  static std::vector<std::string> DefaultDirs(const std::vector<std::string>& extra);

  /// Loads every regular file ending in .so in each dir, sorted by name. A plugin name
  /// seen before is a problem (the first one wins).
  void load_dirs(const std::vector<std::string>& dirs);
  /// Loads one file; false (and a problem recorded) when it is not a usable plugin.
  bool load_file(const std::filesystem::path& file);

  /// Hands each plugin its config section (null when absent) and collects the errors; a
  /// section that no loaded plugin claims is an error too.
  std::vector<std::string> configure(const std::map<std::string, nlohmann::json>& sections);

  const std::vector<PluginInfo>& plugins() const { return infos_; }
  const std::vector<PluginProblem>& problems() const { return problems_; }
  Plugin* find(std::string_view name) const;
  const nlohmann::json& config_of(std::string_view name) const;

  /// Calls plugin.run and catches anything it throws into a terminal error naming the plugin.
  static StepResult RunStep(Plugin& plugin, std::string_view step, const nlohmann::json& args, StepContext& ctx);

 private:
  struct Loaded;
  std::vector<std::unique_ptr<Loaded>> loaded_;
  std::vector<PluginInfo> infos_;
  std::vector<PluginProblem> problems_;
};

}  // namespace kiln

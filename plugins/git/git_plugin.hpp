// The git phase plugin: steps `sync` and `read_file` (see sync_step.hpp, read_file_step.hpp).
// This is the implementation, linked against libgit2 and loaded on the first git step by
// the front in git_plugin.cpp (kiln/deferred_plugin.hpp).
//
// Thread safety: configure() runs once before any run(); run() may then be called from
// several job threads at once and only reads the plugin's state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "git_config.hpp"
#include "kiln/plugin.hpp"
#include "plugin_identity.hpp"
#include "remote_fetcher.hpp"

namespace kiln::git {

class GitPlugin final : public Plugin {
 public:
  GitPlugin();

  std::string_view name() const override { return kPluginName; }
  std::string_view version() const override { return kPluginVersion; }
  std::vector<std::string> steps() const override { return PluginSteps(); }
  std::string configure(const nlohmann::json& section) override;
  StepResult run(std::string_view step, const nlohmann::json& args, StepContext& ctx) override;

  const GitConfig& config() const { return config_; }

 private:
  GitConfig config_;
  std::unique_ptr<RemoteFetcher> fetcher_;
};

}  // namespace kiln::git

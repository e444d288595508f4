// kiln plugins: the plugins found, with version, ABI version and steps; bad ones with why.
#include <iostream>

#include "cli/commands.hpp"

namespace kiln::cli {

void AddPluginsCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("plugins", "List the plugins found, and the files that are not usable plugins.");
  cmd->add_option("--config", global.config_path, "config file (plugins.dirs)");
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([json, &global, &exit_code] {
    EngineSetup setup;
    setup.configure_plugins = false;
    auto engine = SetUpEngine(global, setup);
    if (!engine) {
      std::cerr << "kiln plugins: " << engine.error() << "\n";
      exit_code = 2;
      return;
    }
    const PluginHost& host = *engine.value()->plugins;
    if (*json) {
      nlohmann::json out = {{"abi_version", kPluginAbiVersion}, {"plugins", nlohmann::json::array()},
                            {"problems", nlohmann::json::array()}};
      for (const auto& info : host.plugins()) {
        out["plugins"].push_back({{"name", info.name}, {"version", info.version}, {"abi_version", kPluginAbiVersion},
                                  {"steps", info.steps}, {"file", info.file}, {"load_ms", info.load_ms}});
      }
      for (const auto& problem : host.problems()) out["problems"].push_back({{"file", problem.file}, {"reason", problem.reason}});
      std::cout << out.dump(2) << "\n";
    } else {
      if (host.plugins().empty()) std::cout << "no plugins found\n";
      for (const auto& info : host.plugins()) {
        std::cout << info.name << " " << info.version << " (ABI " << kPluginAbiVersion << ")  steps:";
        for (const auto& step : info.steps) std::cout << " " << step;
        std::cout << "\n    " << info.file << "\n";
      }
      for (const auto& problem : host.problems()) {
        std::cout << "✗ " << problem.file << "\n    " << problem.reason << "\n";
      }
    }
    exit_code = 0;
  });
}

}  // namespace kiln::cli

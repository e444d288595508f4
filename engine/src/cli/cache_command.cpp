// kiln cache gc | stats: the cache plugin's maintenance steps, run here through the plugin
// host (the engine knows nothing of the cache's layout; the plugin owns it).
#include <iostream>

#include "cli/commands.hpp"
#include "app/maintenance_step.hpp"

namespace kiln::cli {

namespace {

int RunCacheStep(EngineContext& engine, const std::string& step, const nlohmann::json& args) {
  Plugin* cache = engine.plugins->find("cache");
  if (cache == nullptr) {
    std::cerr << "kiln cache " << step << ": the cache plugin is not loaded (see `kiln plugins`)\n";
    return 2;
  }
  StepResult result =
      RunMaintenanceStep(engine, *cache, step, args, [](std::string_view line) { std::cerr << line << "\n"; });
  if (!result.ok()) {
    std::cerr << "kiln cache " << step << ": " << result.message << "\n";
    return result.status == StepResult::Status::terminal ? 2 : 1;
  }
  std::cout << result.outputs.dump(2) << "\n";
  return 0;
}

}  // namespace

void AddCacheCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand("cache", "Dependency cache maintenance (the cache plugin's gc and stats).");
  cmd->require_subcommand(1);
  auto max_size = std::make_shared<std::string>();
  auto max_age = std::make_shared<std::string>();
  auto* gc = cmd->add_subcommand("gc", "Evict least recently used entries down to the size cap and maximum age.");
  gc->add_option("--max-size", *max_size, "size cap, e.g. 10GiB (default: cache.max_size)");
  gc->add_option("--max-age", *max_age, "maximum age, e.g. 14d or 336h (default: cache.max_age)");
  gc->add_option("--config", global.config_path, "config file");
  gc->callback([&global, &exit_code, max_size, max_age] {
    auto engine = SetUpEngine(global, EngineSetup{});
    if (!engine) {
      std::cerr << "kiln cache gc: " << engine.error() << "\n";
      exit_code = 2;
      return;
    }
    nlohmann::json args = nlohmann::json::object();
    if (!max_size->empty()) args["max_size"] = *max_size;
    if (!max_age->empty()) args["max_age"] = *max_age;
    exit_code = RunCacheStep(*engine.value(), "gc", args);
  });
  auto* stats = cmd->add_subcommand("stats", "Size and entry count per cache area.");
  stats->add_option("--config", global.config_path, "config file");
  stats->callback([&global, &exit_code] {
    auto engine = SetUpEngine(global, EngineSetup{});
    if (!engine) {
      std::cerr << "kiln cache stats: " << engine.error() << "\n";
      exit_code = 2;
      return;
    }
    exit_code = RunCacheStep(*engine.value(), "stats", nlohmann::json::object());
  });
}

}  // namespace kiln::cli

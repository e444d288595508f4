// The cache phase plugin: dependency cache areas per language and keyed save/restore of
// workspace trees, under `build.build_cache_path`. See docs/plugins/cache.md.
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cache_config.hpp"
#include "hash_step.hpp"
#include "keyed_steps.hpp"
#include "kiln/plugin.hpp"
#include "maintenance_steps.hpp"
#include "paths_step.hpp"
#include "remote_level.hpp"

namespace kiln::cache {

class CachePlugin final : public Plugin {
 public:
  std::string_view name() const override { return "cache"; }
  std::string_view version() const override { return "0.1.0"; }
  std::vector<std::string> steps() const override { return {"paths", "hash", "restore", "save", "stats", "gc"}; }

  std::string configure(const nlohmann::json& section) override {
    try {
      return ParseCacheConfig(section, &config_);
    } catch (const std::exception& e) {
      return std::string("cache: ") + e.what();
    }
  }

  // config_ is written only by configure(), before any run(): reading it here is safe
  // from any number of job threads.
  StepResult run(std::string_view step, const nlohmann::json& args, StepContext& ctx) override {
    try {
      if (step == "paths") return RunPathsStep(args, ctx, config_);
      if (step == "hash") return RunHashStep(args, ctx, config_);
      if (step == "restore") return RunRestoreStep(args, ctx, config_, remote_);
      if (step == "save") return RunSaveStep(args, ctx, config_, remote_);
      if (step == "stats") {
        StepResult result = RunStatsStep(args, ctx, config_);
        // This process's remote counts, which the worker exports as kiln_cache_remote_total.
        if (result.ok() && config_.remote.enabled()) result.outputs["remote"] = remote_.Counters();
        return result;
      }
      if (step == "gc") return RunGcStep(args, ctx, config_);
      return StepResult::Terminal("cache: no step named '" + std::string(step) + "'");
    } catch (const std::exception& e) {
      return StepResult::Retryable("cache." + std::string(step) + ": " + e.what());
    }
  }

 private:
  CacheConfig config_;
  // Declared last: destroyed first, so the pusher stops before the config it reads.
  RemoteLevel remote_;
};

// For the tests, which compile this file into their binary and make the plugin directly.
std::unique_ptr<Plugin> MakeCachePlugin() { return std::make_unique<CachePlugin>(); }

}  // namespace kiln::cache

KILN_PLUGIN(kiln::cache::CachePlugin)

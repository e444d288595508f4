// The NX phase plugin: nx.build, nx.projects and nx.package_manager (see their *_step.hpp).
#include <mutex>
#include <shared_mutex>

#include "build_step.hpp"
#include "kiln/plugin.hpp"
#include "nx_config.hpp"
#include "package_manager_step.hpp"
#include "projects_step.hpp"

namespace kiln::nx {

class NxPlugin final : public Plugin {
 public:
  std::string_view name() const override { return "nx"; }
  std::string_view version() const override { return "0.1.0"; }
  std::vector<std::string> steps() const override { return {"build", "projects", "package_manager"}; }

  std::string configure(const nlohmann::json& section) override {
    auto parsed = ParseConfig(section);
    if (auto* error = std::get_if<std::string>(&parsed)) return *error;
    std::unique_lock lock(mutex_);
    config_ = std::get<NxConfig>(parsed);
    return {};
  }

  StepResult run(std::string_view step, const nlohmann::json& args, StepContext& ctx) override {
    try {
      NxConfig config;
      {
        std::shared_lock lock(mutex_);
        config = config_;
      }
      if (step == "build") return RunBuild(ctx, args, config);
      if (step == "projects") return RunProjects(ctx, args, config);
      if (step == "package_manager") return RunPackageManager(ctx, args);
      return StepResult::Terminal("nx: no step '" + std::string(step) + "' (steps: build, projects, package_manager)");
    } catch (const std::exception& e) {
      return StepResult::Terminal("nx." + std::string(step) + ": internal error: " + e.what());
    } catch (...) {
      return StepResult::Terminal("nx." + std::string(step) + ": internal error");
    }
  }

 private:
  std::shared_mutex mutex_;
  NxConfig config_;
};

}  // namespace kiln::nx

KILN_PLUGIN(kiln::nx::NxPlugin)

// The image phase plugin: builds, tags and pushes OCI images with the buildah CLI.
// Steps: build, push, tag (see build_step.hpp, push_step.hpp, tag_step.hpp).
// Thread safety: configure() runs once before any run(); run() only reads the config and
// keeps everything else on its stack, so jobs may build at once (buildah locks its store).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "buildah_config.hpp"
#include "kiln/plugin.hpp"

namespace kiln::buildah {

class BuildahPlugin final : public Plugin {
 public:
  std::string_view name() const override { return "buildah"; }
  std::string_view version() const override { return "0.1.0"; }
  std::vector<std::string> steps() const override { return {"build", "push", "tag"}; }
  std::string configure(const nlohmann::json& section) override;
  StepResult run(std::string_view step, const nlohmann::json& args, StepContext& ctx) override;

  const BuildahConfig& config() const { return config_; }

 private:
  BuildahConfig config_;
};

}  // namespace kiln::buildah

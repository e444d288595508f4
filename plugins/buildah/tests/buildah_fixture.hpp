// Shared set-up for the buildah step tests that run real buildah: a temp store, a step
// harness whose job workspace holds the build contexts, and the plugin pointed at both.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "buildah_plugin.hpp"
#include "support/base_image.hpp"
#include "support/step_harness.hpp"
#include "support/temp_dir.hpp"

namespace kiln::buildah {

class BuildahStepTest : public ::testing::Test {
 protected:
  static constexpr const char* kBase = "localhost/kiln-test/busybox:latest";

  void SetUp() override {
    ASSERT_TRUE(kiln::testing::BuildahAvailable()) << "these tests need buildah, unshare and /bin/busybox";
    store_ = std::make_unique<kiln::testing::BuildahStore>(dir_.path() / "store");
    harness_ = std::make_unique<kiln::testing::StepHarness>(dir_.path() / "job");
    harness_->plugin_config = store_->plugin_config();
    ASSERT_EQ(plugin_.configure(store_->plugin_config()), "");
  }

  void TearDown() override {
    harness_.reset();
    store_.reset();  // before dir_ goes: buildah unmounts and removes its containers first
  }

  /// Writes a build context under the job's workspace: its Dockerfile and other files.
  std::filesystem::path Context(const std::string& name, const std::string& dockerfile,
                                const std::map<std::string, std::string>& files = {}) {
    std::filesystem::path dir = harness_->workspace() / name;
    kiln::testing::WriteFile(dir / "Dockerfile", dockerfile);
    for (const auto& [path, content] : files) kiln::testing::WriteFile(dir / path, content);
    return dir;
  }

  /// The busybox base image in this test's store, built on first use.
  void NeedBase() {
    if (base_built_) return;
    std::string error = kiln::testing::BuildBusyboxBase(*store_, kBase);
    ASSERT_EQ(error, "") << "building the busybox base image failed";
    base_built_ = true;
  }

  StepResult Run(std::string_view step, const nlohmann::json& args) {
    return harness_->run(plugin_, step, args);
  }

  /// `buildah <store> args`, asserting success; returns the output.
  std::string Buildah(const std::string& args) {
    std::string output;
    EXPECT_EQ(store_->Buildah(args, &output), 0) << "buildah " << args << ":\n" << output;
    return output;
  }

  kiln::testing::TempDir dir_{"kiln-buildah"};
  BuildahPlugin plugin_;
  std::unique_ptr<kiln::testing::BuildahStore> store_;
  std::unique_ptr<kiln::testing::StepHarness> harness_;
  bool base_built_ = false;
};

}  // namespace kiln::buildah

// A cache plugin over a StepHarness in a temp dir.
#pragma once

#include <gtest/gtest.h>

#include "kiln/plugin.hpp"
#include "support/step_harness.hpp"
#include "support/temp_dir.hpp"

namespace kiln::cache {

/// Made by cache_plugin.cpp's factory; declared here so tests need not load the .so.
std::unique_ptr<Plugin> MakeCachePlugin();

class CachePluginTest : public ::testing::Test {
 protected:
  CachePluginTest() : dir("kiln-cache-test"), harness(dir.path()), plugin(MakeCachePlugin()) {}

  StepResult Run(std::string_view step, const nlohmann::json& args) { return harness.run(*plugin, step, args); }

  kiln::testing::TempDir dir;
  kiln::testing::StepHarness harness;
  std::unique_ptr<Plugin> plugin;
};

}  // namespace kiln::cache

// A cache plugin over a StepHarness in a temp dir.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "kiln/plugin.hpp"
#include "kiln/repository_scope.hpp"
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

/// cache.save and cache.restore of workspace paths.
class KeyedCacheTest : public CachePluginTest {
 protected:
  /// `restore: copy`: for tests of the pack and the copy, or of eviction's accounting;
  /// overlay_restore_test.cpp is about the default, overlays.
  void CopyOnly() { ASSERT_EQ(plugin->configure({{"restore", "copy"}}), ""); }
  std::filesystem::path ws(const std::string& name) const { return harness.workspace() / name; }
  StepResult Save(const std::string& key, const nlohmann::json& paths) {
    return Run("save", {{"key", key}, {"paths", paths}});
  }
  StepResult Restore(const std::string& key, const nlohmann::json& paths,
                     const nlohmann::json& restore_keys = nullptr) {
    nlohmann::json args = {{"key", key}, {"paths", paths}};
    if (!restore_keys.is_null()) args["restore_keys"] = restore_keys;
    return Run("restore", args);
  }
  /// Where the harness's job saves: its repository's scope (it is trusted).
  std::string scope() const { return repository_scope::ScopesForJob(harness.job).save; }
  /// That scope's store: keyed/<scope>.
  std::filesystem::path keyed() const { return harness.build_cache_dir() / "keyed" / scope(); }
  std::filesystem::path entry(const std::string& key) const { return keyed() / key; }
};

}  // namespace kiln::cache

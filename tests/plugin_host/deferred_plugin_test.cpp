// Deferred plugins (kiln/deferred_plugin.hpp) on real shared libraries: the front loads
// with kiln and checks its config; the implementation loads on the first step, once, even
// when many jobs call at the same moment; a missing or mismatched implementation fails the
// step with an error that names the file.
#include <dlfcn.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "plugin_host/plugin_host.hpp"
#include "support/step_harness.hpp"
#include "support/temp_dir.hpp"

namespace kiln {
namespace {

const std::filesystem::path kDir = KILN_DEFERRED_PLUGIN_DIR;

bool IsLoaded(const std::filesystem::path& library) {
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  ::dlclose(handle);
  return true;
}

class DeferredPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host.load_dirs({kDir.string()});
    ASSERT_TRUE(host.problems().empty()) << host.problems()[0].file << ": " << host.problems()[0].reason;
  }
  PluginHost host;
  testing::TempDir temp;
};

TEST_F(DeferredPluginTest, TheFrontLoadsWithItsStepsAndTheImplementationWaitsForTheFirstStep) {
  Plugin* plugin = host.find("deferred");
  ASSERT_NE(plugin, nullptr);
  const auto& infos = host.plugins();
  auto info = std::find_if(infos.begin(), infos.end(), [](const PluginInfo& i) { return i.name == "deferred"; });
  ASSERT_NE(info, infos.end());
  EXPECT_EQ(info->steps, (std::vector<std::string>{"hello", "instances"}));
  ASSERT_TRUE(host.configure({{"deferred", {{"greeting", "hej"}}}}).empty());
  EXPECT_FALSE(IsLoaded(kDir / "deferred.d" / "work.so"));

  testing::StepHarness harness(temp.path());
  StepResult result = harness.run(*plugin, "hello", {{"to", "kiln"}});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs["greeting"], "hej");  // the implementation got the config section
  EXPECT_EQ(result.outputs["to"], "kiln");
  EXPECT_TRUE(IsLoaded(kDir / "deferred.d" / "work.so"));
}

TEST_F(DeferredPluginTest, ABadConfigIsReportedAtStartWithoutLoadingTheImplementation) {
  auto errors = host.configure({{"deferred", {{"greting", "typo"}}}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("deferred.greting: unknown key"), std::string::npos) << errors[0];
  EXPECT_FALSE(IsLoaded(kDir / "deferred.d" / "work.so"));
}

TEST_F(DeferredPluginTest, ManyFirstCallsAtOnceMakeOneImplementation) {
  ASSERT_TRUE(host.configure({}).empty());
  Plugin* plugin = host.find("deferred");
  ASSERT_NE(plugin, nullptr);
  std::vector<std::thread> threads;
  std::vector<StepResult> results(8);
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      testing::TempDir own;
      testing::StepHarness harness(own.path());
      results[i] = harness.run(*plugin, "instances", nlohmann::json::object());
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.message;
    EXPECT_EQ(result.outputs["instances"], 1);
  }
}

TEST_F(DeferredPluginTest, AMissingImplementationFailsTheStepNamingTheFile) {
  ASSERT_TRUE(host.configure({}).empty());
  Plugin* plugin = host.find("deferred_missing");
  ASSERT_NE(plugin, nullptr);
  testing::StepHarness harness(temp.path());
  StepResult result = harness.run(*plugin, "hello", nlohmann::json::object());
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("deferred_missing.hello: cannot load its implementation"), std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("deferred_missing.d/nothing.so"), std::string::npos) << result.message;
}

TEST_F(DeferredPluginTest, AnImplementationWithOtherStepsIsRefused) {
  ASSERT_TRUE(host.configure({}).empty());
  Plugin* plugin = host.find("deferred_mismatch");
  ASSERT_NE(plugin, nullptr);
  testing::StepHarness harness(temp.path());
  StepResult result = harness.run(*plugin, "hello", nlohmann::json::object());
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("its steps differ from its front's"), std::string::npos) << result.message;
}

}  // namespace
}  // namespace kiln

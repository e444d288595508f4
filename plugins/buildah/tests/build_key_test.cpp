#include "build_key.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;
using kiln::testing::TempDir;
using kiln::testing::WriteFile;

class BuildKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(context_);
    WriteFile(context_ / "Dockerfile", "FROM base\nCOPY . /\n");
    WriteFile(context_ / "src" / "a", "a");
  }
  BuildKeyInputs Inputs() const {
    return BuildKeyInputs{context_, context_ / "Dockerfile", "", {}, {}, {{"base", "sha256:1"}}, {"isolation=chroot"}};
  }
  std::string Key(const BuildKeyInputs& inputs) const {
    std::string error;
    std::string key = BuildKey(inputs, &error);
    EXPECT_EQ(key.size(), 64u) << error;
    return key;
  }

  TempDir dir_{"kiln-build-key"};
  fs::path context_ = dir_.path() / "ctx";
};

TEST_F(BuildKeyTest, TheSameInputsGiveTheSameKey) { EXPECT_EQ(Key(Inputs()), Key(Inputs())); }

TEST_F(BuildKeyTest, EveryInputCounts) {
  const std::string key = Key(Inputs());
  BuildKeyInputs other = Inputs();
  other.base_images[0].second = "sha256:2";  // the base image was rebuilt under the same name
  EXPECT_NE(Key(other), key);
  other = Inputs();
  other.target = "final";
  EXPECT_NE(Key(other), key);
  other = Inputs();
  other.build_args["X"] = "1";
  EXPECT_NE(Key(other), key);
  other = Inputs();
  other.labels["team"] = "b";
  EXPECT_NE(Key(other), key);
  other = Inputs();
  other.settings.push_back("network=host");
  EXPECT_NE(Key(other), key);

  fs::permissions(context_ / "src" / "a", fs::perms::owner_exec, fs::perm_options::add);
  EXPECT_NE(Key(Inputs()), key);
  const std::string executable = Key(Inputs());
  fs::create_symlink("a", context_ / "src" / "link");
  EXPECT_NE(Key(Inputs()), executable);
  const std::string with_link = Key(Inputs());
  fs::create_directories(context_ / "empty");
  EXPECT_NE(Key(Inputs()), with_link);
}

TEST_F(BuildKeyTest, FieldsCannotBeShiftedIntoEachOther) {
  // Without a length on each field, "a=b" + "c" and "a" + "b=c" would hash alike.
  BuildKeyInputs one = Inputs();
  one.build_args = {{"A", "B\narg C"}};
  BuildKeyInputs two = Inputs();
  two.build_args = {{"A", "B"}, {"C", ""}};
  EXPECT_NE(Key(one), Key(two));
  WriteFile(context_ / "x\nfile y", "");
  const std::string odd_name = Key(Inputs());
  fs::remove(context_ / "x\nfile y");
  WriteFile(context_ / "x", "");
  WriteFile(context_ / "y", "");
  EXPECT_NE(Key(Inputs()), odd_name);
}

TEST_F(BuildKeyTest, PlainIgnoredPathsAreLeftOutAndPatternsAreNotInterpreted) {
  WriteFile(context_ / ".dockerignore", "# comment\n./node_modules/\n/dist\n*.log\nsrc/**/gen\n../up\n\n");
  EXPECT_EQ(PlainIgnoredPaths(context_), (std::vector<std::string>{"node_modules", "dist"}));
  const std::string key = Key(Inputs());
  WriteFile(context_ / "node_modules" / "m" / "index.js", "x");
  WriteFile(context_ / "dist" / "out", "x");
  EXPECT_EQ(Key(Inputs()), key);
  WriteFile(context_ / "debug.log", "x");  // *.log is not interpreted: counted, so a rebuild
  EXPECT_NE(Key(Inputs()), key);
  WriteFile(context_ / "node_modules_other", "x");  // not under node_modules/
  const std::string with_log = Key(Inputs());
  fs::remove(context_ / "node_modules_other");
  EXPECT_NE(Key(Inputs()), with_log);
}

TEST_F(BuildKeyTest, AnExceptionLineTurnsLeavingOutOff) {
  WriteFile(context_ / ".containerignore", "dist\n!dist/keep\n");
  EXPECT_TRUE(PlainIgnoredPaths(context_).empty());
  const std::string key = Key(Inputs());
  WriteFile(context_ / "dist" / "keep", "x");
  EXPECT_NE(Key(Inputs()), key);
}

TEST_F(BuildKeyTest, AnUnreadableContextIsAnError) {
  BuildKeyInputs inputs = Inputs();
  inputs.context = dir_.path() / "missing";
  std::string error;
  EXPECT_EQ(BuildKey(inputs, &error), "");
  EXPECT_NE(error.find("missing"), std::string::npos) << error;
}

}  // namespace
}  // namespace kiln::buildah

// A copy of tests/fixtures/nx-workspace with real NX in node_modules, for the step tests.
//
// `npm ci` of the fixture runs once per build tree, not once per test: ctest starts every
// test in a process of its own, so the installed node_modules is kept under the build
// directory, keyed by the lockfile's content, made under a lock (ctest -j), and each test
// hard-links it into its own workspace copy.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "support/step_harness.hpp"
#include "support/temp_dir.hpp"

namespace kiln::nx::testing {

inline std::filesystem::path FixtureDir() { return KILN_NX_FIXTURE_DIR; }

/// <build dir>/nx-fixture-modules/<lockfile hash>/node_modules, installed on first use.
/// Empty with a failure recorded when npm ci fails.
inline std::filesystem::path InstalledFixtureModules() {
  namespace fs = std::filesystem;
  const std::string lockfile = kiln::testing::ReadFile(FixtureDir() / "package-lock.json");
  const fs::path root = fs::path(KILN_BINARY_DIR) / "nx-fixture-modules" /
                        std::to_string(std::hash<std::string>{}(lockfile + kiln::testing::ReadFile(FixtureDir() / "package.json")));
  fs::create_directories(root);
  const int fd = ::open((root / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ::flock(fd, LOCK_EX);
  if (!fs::exists(root / ".ready")) {
    fs::remove_all(root / "node_modules");
    fs::copy_file(FixtureDir() / "package.json", root / "package.json", fs::copy_options::overwrite_existing);
    fs::copy_file(FixtureDir() / "package-lock.json", root / "package-lock.json", fs::copy_options::overwrite_existing);
    std::string output;
    const int code = kiln::testing::Shell("cd '" + root.string() + "' && npm ci --no-audit --no-fund --cache '" +
                                              (root / "npm-cache").string() + "'",
                                          &output);
    if (code != 0) {
      ::close(fd);
      ADD_FAILURE() << "npm ci of the NX fixture failed:\n" << output;
      return {};
    }
    kiln::testing::WriteFile(root / ".ready", "");
  }
  ::close(fd);
  return root / "node_modules";
}

/// Copies the fixture to `dest`; with `with_modules`, hard-links the installed node_modules
/// in (keeping its times, so install = "auto" sees it in step with the lockfile).
inline bool CopyFixture(const std::filesystem::path& dest, bool with_modules = true) {
  std::string output;
  std::filesystem::create_directories(dest.parent_path());
  if (kiln::testing::Shell("cp -a '" + FixtureDir().string() + "' '" + dest.string() + "'", &output) != 0) {
    ADD_FAILURE() << "copy of the fixture failed: " << output;
    return false;
  }
  if (!with_modules) return true;
  const auto modules = InstalledFixtureModules();
  if (modules.empty()) return false;
  if (kiln::testing::Shell("cp -al '" + modules.string() + "' '" + (dest / "node_modules").string() + "'", &output) != 0) {
    ADD_FAILURE() << "linking node_modules failed: " << output;
    return false;
  }
  return true;
}

/// Runs a shell command line in `dir`, failing the test when it fails.
inline void ShellIn(const std::filesystem::path& dir, const std::string& command) {
  std::string output;
  const int code = kiln::testing::Shell("cd '" + dir.string() + "' && " + command, &output);
  ASSERT_EQ(code, 0) << command << "\n" << output;
}

}  // namespace kiln::nx::testing

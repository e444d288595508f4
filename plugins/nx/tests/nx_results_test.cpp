#include "nx_results.hpp"

#include <gtest/gtest.h>

namespace kiln::nx {
namespace {

// The shape NX 21 writes under NX_PROFILE: metadata events naming worker groups, then one
// complete event per finished task.
const char* kProfile = R"([
  {"name": "thread_name", "ph": "M", "pid": 1, "tid": 0, "ts": 0, "args": {"name": "Group #1"}},
  {"name": "docs:build", "cat": "docs,build,", "ph": "X", "ts": 10, "dur": 292000, "pid": 1, "tid": 1,
   "args": {"target": {"project": "docs", "target": "build"}, "status": "local-cache"}},
  {"name": "shared:build", "cat": "shared,build,", "ph": "X", "ts": 10, "dur": 304000, "pid": 1, "tid": 0,
   "args": {"target": {"project": "shared", "target": "build"}, "status": "failure"}},
  {"name": "api:build", "ph": "X", "ts": 10, "dur": 1000, "pid": 1, "tid": 0,
   "args": {"target": {"project": "api", "target": "build"}, "status": "skipped"}},
  {"name": "web:build", "ph": "X", "ts": 10, "dur": 1000, "pid": 1, "tid": 0,
   "args": {"target": {"project": "web", "target": "build"}, "status": "success"}},
  {"name": "web:test", "ph": "X", "ts": 10, "dur": 1000, "pid": 1, "tid": 0,
   "args": {"target": {"project": "web", "target": "test"}, "status": "local-cache-kept-existing"}}
])";

TEST(NxProfile, ReadsEveryTaskEvent) {
  std::string error;
  auto tasks = ParseProfile(kProfile, &error);
  ASSERT_TRUE(tasks) << error;
  ASSERT_EQ(tasks->size(), 5u);
  EXPECT_EQ((*tasks)[0].id, "docs:build");
  EXPECT_EQ((*tasks)[0].project, "docs");
  EXPECT_EQ((*tasks)[0].target, "build");
  EXPECT_TRUE((*tasks)[0].from_cache());
  EXPECT_DOUBLE_EQ((*tasks)[0].duration_ms, 292.0);
  EXPECT_TRUE((*tasks)[1].failed());
}

TEST(NxProfile, RejectsWhatIsNotAProfile) {
  std::string error;
  EXPECT_FALSE(ParseProfile("Performance Profile: x", &error));
  EXPECT_EQ(error, "not JSON");
  EXPECT_FALSE(ParseProfile(R"({"tasks": []})", &error));
}

TEST(NxSummary, SplitsProjectsByOutcome) {
  std::string error;
  const auto summary = Summarize(*ParseProfile(kProfile, &error));
  EXPECT_EQ(summary.projects, (std::vector<std::string>{"docs", "web"}));
  EXPECT_EQ(summary.cached, std::vector<std::string>{"docs"});  // web ran one of its two tasks
  EXPECT_EQ(summary.failed, std::vector<std::string>{"shared"});
  EXPECT_EQ(summary.skipped, std::vector<std::string>{"api"});
  ASSERT_EQ(summary.failed_tasks.size(), 1u);
  EXPECT_EQ(summary.failed_tasks[0].id, "shared:build");
}

TEST(NxRunSummary, FindsTheHashOfATask) {
  const std::string run = R"({"run": {"command": "nx run-many -t build"},
    "tasks": [{"taskId": "shared:build", "hash": "17939151122111184445", "status": 1},
              {"taskId": "evil:build", "hash": "../../etc/passwd"}]})";
  EXPECT_EQ(TaskHashFromRunSummary(run, "shared:build"), "17939151122111184445");
  EXPECT_EQ(TaskHashFromRunSummary(run, "evil:build"), "");  // a hash never becomes a path
  EXPECT_EQ(TaskHashFromRunSummary(run, "api:build"), "");
  EXPECT_EQ(TaskHashFromRunSummary("not json", "api:build"), "");
}

TEST(NxGraph, ProjectRootsFromEitherShape) {
  const auto cached = nlohmann::json::parse(R"({"nodes": {"api": {"data": {"root": "apps/api"}}}, "dependencies": {}})");
  const auto file = nlohmann::json::parse(R"({"graph": {"nodes": {"api": {"data": {"root": "apps/api"}},
                                              "bad": {"data": {}}}}})");
  EXPECT_EQ(ProjectRoots(cached), (std::map<std::string, std::string>{{"api", "apps/api"}}));
  EXPECT_EQ(ProjectRoots(file), (std::map<std::string, std::string>{{"api", "apps/api"}}));
  EXPECT_TRUE(ProjectRoots(nlohmann::json::array()).empty());
}

TEST(NxOutput, TailKeepsTheLastLinesWithoutColours) {
  EXPECT_EQ(TailLines("a\nb\n\x1b[2mc\x1b[22m\nd\n\n", 2, 100), "c\nd");
  EXPECT_EQ(TailLines("one\ntwo\nthree", 10, 9), "two\nthree");
  EXPECT_EQ(TailLines("", 10, 100), "");
}

TEST(NxOutput, LinesOfOneProjectInStreamedOutput) {
  const std::string output = "shared: building shared\ndocs: built docs\nshared: error: broken\n\n NX   failed\n";
  EXPECT_EQ(LinesOfProject(output, "shared"), "building shared\nerror: broken\n");
  EXPECT_EQ(LinesOfProject(output, "api"), "");
}

}  // namespace
}  // namespace kiln::nx

// The `schedules:` section: read into ScheduleConfig, every mistake named by schedule and key.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "config_test_util.hpp"
#include "support/contains.hpp"

namespace kiln {
namespace {

using testing::LoadYaml;
using testing::TempDir;

constexpr const char* kSha = "9fceb02d0ae598e95dc970b74767f19372d61af8";

using testing::Contains;

std::string OneSchedule(const std::string& name, const std::string& cron, const std::string& job_extra = "") {
  return "schedules:\n"
         "  - name: " + name + "\n" +
         "    cron: \"" + cron + "\"\n" +
         "    job:\n"
         "      repo: { url: \"https://github.com/acme/shop.git\" }\n"
         "      commit: \"" + kSha + "\"\n" + job_extra;
}

TEST(ScheduleConfig, ReadsSchedulesWithTheirJobs) {
  TempDir dir("kiln-config");
  auto loaded = LoadYaml(dir, OneSchedule("nightly-shop", "0 2 * * *",
                                          "      branch: main\n      pipeline: cache-gc\n      env: { KEEP: \"7\" }\n"));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ASSERT_EQ(loaded->schedules.size(), 1u);
  const ScheduleConfig& s = loaded->schedules[0];
  EXPECT_EQ(s.name, "nightly-shop");
  EXPECT_EQ(s.cron, "0 2 * * *");
  EXPECT_EQ(s.job.id, "");
  EXPECT_EQ(s.job.repo_url, "https://github.com/acme/shop.git");
  EXPECT_EQ(s.job.repo_name, "acme/shop");
  EXPECT_EQ(s.job.commit, kSha);
  EXPECT_EQ(s.job.branch, "main");
  EXPECT_EQ(s.job.pipeline, "cache-gc");
  EXPECT_EQ(s.job.env.at("KEEP"), "7");
}

TEST(ScheduleConfig, NoSectionOrAnEmptyOneMeansNoSchedules) {
  TempDir dir("kiln-config");
  auto none = LoadYaml(dir, "logging: { level: info }\n");
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_TRUE(none->schedules.empty());
  auto empty = LoadYaml(dir, "schedules: []\n");
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_TRUE(empty->schedules.empty());
}

TEST(ScheduleConfig, ABadCronNamesTheScheduleTheFieldAndTheLine) {
  TempDir dir("kiln-config");
  auto loaded = LoadYaml(dir, OneSchedule("nightly", "0 24 * * *"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules.nightly.cron: hour: 24 is out of range 0-23")) << loaded.error();
  EXPECT_TRUE(Contains(loaded.error(), "config.yaml line 3")) << loaded.error();

  loaded = LoadYaml(dir, OneSchedule("weekly", "0 2 * *"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules.weekly.cron: expected 5 fields")) << loaded.error();

  loaded = LoadYaml(dir, OneSchedule("never", "0 0 30 2 *"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules.never.cron: '0 0 30 2 *' never fires")) << loaded.error();
}

TEST(ScheduleConfig, ABadJobNamesTheScheduleAndTheJobField) {
  TempDir dir("kiln-config");
  auto loaded = LoadYaml(dir, "schedules:\n  - name: gc\n    cron: \"0 3 * * *\"\n    job: { repo: { url: \"ftp://h/x\" }, commit: \"" + std::string(kSha) + "\" }\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules.gc.job.repo.url: scheme 'ftp' is not allowed")) << loaded.error();

  loaded = LoadYaml(dir, "schedules:\n  - name: gc\n    cron: \"0 3 * * *\"\n    job: { repo: { url: \"https://h/x\" } }\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules.gc.job.commit: missing (")) << loaded.error();

  loaded = LoadYaml(dir, OneSchedule("gc", "0 3 * * *", "      branch: \"bad..name\"\n"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules.gc.job.branch: not a valid branch name")) << loaded.error();

  loaded = LoadYaml(dir, OneSchedule("gc", "0 3 * * *", "      id: fixed\n"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules.gc.job.id: a scheduled job's id is made at each tick")) << loaded.error();

  loaded = LoadYaml(dir, "schedules:\n  - name: gc\n    cron: \"0 3 * * *\"\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules.gc.job: missing")) << loaded.error();
}

TEST(ScheduleConfig, FileUrlsFollowBuildAllowFileUrlsWhereverItIsSet) {
  TempDir dir("kiln-config");
  const std::string schedule =
      "schedules:\n  - name: local\n    cron: \"*/5 * * * *\"\n    job: { repo: { url: \"file:///srv/git/shop\" }, commit: \"" +
      std::string(kSha) + "\" }\n";
  auto refused = LoadYaml(dir, schedule);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.error(), "schedules.local.job.repo.url: file:// URLs are not allowed")) << refused.error();
  // The section after the schedules still counts, and so does the environment.
  auto allowed = LoadYaml(dir, schedule + "build: { allow_file_urls: true }\n");
  EXPECT_TRUE(allowed.ok()) << allowed.error();
  auto from_env = LoadYaml(dir, schedule, {{"BUILD_ALLOW_FILE_URLS", "true"}});
  EXPECT_TRUE(from_env.ok()) << from_env.error();
}

TEST(ScheduleConfig, NamesAreCheckedAndUnique) {
  TempDir dir("kiln-config");
  auto loaded = LoadYaml(dir, OneSchedule("Nightly Build", "0 2 * * *"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules[0].name: must be 1 to 64 of a-z 0-9 _ -")) << loaded.error();

  const std::string twice = OneSchedule("same", "0 2 * * *") + OneSchedule("same", "0 3 * * *").substr(11);
  loaded = LoadYaml(dir, twice);
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules[1].name: 'same' names another schedule too")) << loaded.error();
}

TEST(ScheduleConfig, UnknownKeysAndWrongShapesAreErrors) {
  TempDir dir("kiln-config");
  auto loaded = LoadYaml(dir, OneSchedule("gc", "0 3 * * *") + "    crn: \"x\"\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules[0].crn: unknown key")) << loaded.error();
  EXPECT_TRUE(Contains(loaded.error(), "did you mean cron?")) << loaded.error();

  loaded = LoadYaml(dir, "schedules: { name: gc }\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "schedules: expected a list")) << loaded.error();
}

}  // namespace
}  // namespace kiln

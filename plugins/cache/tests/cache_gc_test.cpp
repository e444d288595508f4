#include "cache_gc.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "cache_plugin_fixture.hpp"
#include "kiln/repository_area.hpp"
#include "language_detection.hpp"

namespace kiln::cache {
namespace {

using kiln::testing::WriteFile;
namespace fs = std::filesystem;

class CacheGcTest : public KeyedCacheTest {
 protected:
  // Sizes here are the packs' alone; an overlay's tree counts too (overlay_restore_test.cpp).
  void SetUp() override { CopyOnly(); }
  fs::path root() const { return harness.build_cache_dir(); }

  // A keyed entry of `bytes` bytes whose last use was `hours_ago` hours ago.
  void Entry(const std::string& key, std::size_t bytes, int hours_ago) {
    WriteFile(harness.workspace() / "src" / "blob", std::string(bytes, 'x'));
    const StepResult saved = Run("save", {{"key", key}, {"paths", "src"}});
    ASSERT_EQ(saved.outputs["status"], "saved") << saved.message;
    fs::last_write_time(keyed() / key / "last-used",
                        fs::file_time_type::clock::now() - std::chrono::hours(hours_ago));
  }
  // A language area with one file of `bytes` bytes, last used `hours_ago` hours ago.
  void Area(Language language, std::size_t bytes, int hours_ago) {
    const auto area = CacheAreaFor(language, root());
    WriteFile(area.root / "pkg" / "file", std::string(bytes, 'y'));
    WriteFile(area.root / std::string(kLastUsedMarker), "");
    fs::last_write_time(area.root / std::string(kLastUsedMarker),
                        fs::file_time_type::clock::now() - std::chrono::hours(hours_ago));
  }
  // A repository's area (kiln/repository_area.hpp) with `bytes` in its NX cache and npm
  // cache, last used `hours_ago` hours ago; returns its directory name.
  std::string RepositoryArea(const std::string& url, std::size_t bytes, int hours_ago) {
    const fs::path area = repository_area::AreaRoot(root(), {{"repo", {{"url", url}}}});
    WriteFile(area / "nx" / "cache" / "out", std::string(bytes / 2, 'n'));
    WriteFile(area / "deps" / "npm" / "npm" / "pkg", std::string(bytes - bytes / 2, 'p'));
    EXPECT_EQ(repository_area::MarkUsed(area), "");
    fs::last_write_time(area / std::string(kLastUsedMarker),
                        fs::file_time_type::clock::now() - std::chrono::hours(hours_ago));
    return area.filename().string();
  }
  // How gc names the entry `key` of this job's scope, with the reason it went.
  std::string Unit(const std::string& key, const std::string& reason) const {
    return "keyed/" + scope() + "/" + key + ":" + reason;
  }
  std::vector<std::string> Evicted(const GcReport& report) {
    std::vector<std::string> units;
    for (const auto& e : report.evicted) units.push_back(e.unit + ":" + e.reason);
    return units;
  }
};

TEST_F(CacheGcTest, StatsPerArea) {
  Entry("a", 1000, 1);
  Entry("b", 3000, 1);
  Area(Language::go, 500, 2);
  const StepResult stats = Run("stats", nlohmann::json::object());
  ASSERT_TRUE(stats.ok()) << stats.message;
  const auto& areas = stats.outputs["areas"];
  EXPECT_EQ(areas["keyed"]["entries"], 2);
  EXPECT_EQ(areas["keyed"]["bytes"], 4000);
  EXPECT_EQ(areas["go"]["bytes"], 500);
  EXPECT_EQ(areas["go"]["entries"], 2);  // the file and the last-used marker
  EXPECT_EQ(areas["maven"]["bytes"], 0);
  EXPECT_EQ(stats.outputs["total_bytes"], 4500);
  for (const char* area : {"maven", "gradle", "npm", "go", "nuget", "pip", "keyed", "repositories"}) {
    EXPECT_TRUE(areas.contains(area)) << area;
  }
}

TEST_F(CacheGcTest, SizeCapEvictsLeastRecentlyUsedFirst) {
  Entry("oldest", 1000, 30);
  Entry("newest", 1000, 1);
  Entry("middle", 1000, 10);
  Area(Language::npm, 1000, 20);
  // 4000 bytes; a cap of 2500 takes the two least recently used.
  const GcReport report = GarbageCollect(root(), 2500, std::nullopt);
  EXPECT_EQ(Evicted(report), (std::vector<std::string>{Unit("oldest", "size"), "npm:size"}));
  EXPECT_EQ(report.bytes_before, 4000u);
  EXPECT_EQ(report.bytes_after, 2000u);
  EXPECT_FALSE(fs::exists(keyed() / "oldest"));
  EXPECT_FALSE(fs::exists(root() / "npm"));
  EXPECT_TRUE(fs::exists(keyed() / "middle"));
  EXPECT_TRUE(fs::exists(keyed() / "newest"));
}

TEST_F(CacheGcTest, RepositoryAreasAreCountedAndEvictedWhole) {
  // Each repository's dependency caches and NX cache: without this, every repository a
  // worker ever built keeps its downloads on its disk for good.
  const std::string shop = RepositoryArea("https://git.example/acme/shop.git", 1000, 30);
  const std::string web = RepositoryArea("https://git.example/acme/web.git", 1000, 1);
  const std::string busy = RepositoryArea("https://git.example/acme/busy.git", 1000, 0);
  Entry("a", 1000, 10);
  const StepResult stats = Run("stats", nlohmann::json::object());
  ASSERT_TRUE(stats.ok()) << stats.message;
  EXPECT_EQ(stats.outputs["areas"]["repositories"]["entries"], 3);
  EXPECT_EQ(stats.outputs["areas"]["repositories"]["bytes"], 3000);
  EXPECT_EQ(stats.outputs["total_bytes"], 4000);

  const GcReport report = GarbageCollect(root(), 0, std::nullopt);
  // Oldest first; the area a build was just pointed at stays, even over the cap.
  EXPECT_EQ(Evicted(report), (std::vector<std::string>{shop + ":size", Unit("a", "size"), web + ":size"}));
  EXPECT_EQ(report.skipped, (std::vector<std::string>{busy}));
  EXPECT_FALSE(fs::exists(root() / shop));
  EXPECT_TRUE(fs::exists(root() / busy / "nx" / "cache" / "out"));
  // Not an area: left alone.
  WriteFile(root() / "somebody-elses" / "file", "x");
  GarbageCollect(root(), 0, std::chrono::hours(0));
  EXPECT_TRUE(fs::exists(root() / "somebody-elses" / "file"));
}

TEST_F(CacheGcTest, AnAreasLinksAreRemovedNotFollowed) {
  // A job's processes wrote the area: a link to outside goes as a link.
  kiln::testing::TempDir outside("kiln-gc-outside");
  WriteFile(outside.path() / "keep", "x");
  const std::string area = RepositoryArea("https://git.example/acme/shop.git", 10, 30);
  fs::create_directory_symlink(outside.path(), root() / area / "deps" / "npm" / "escape");
  const GcReport report = GarbageCollect(root(), std::nullopt, std::chrono::hours(24));
  EXPECT_EQ(Evicted(report), (std::vector<std::string>{area + ":age"}));
  EXPECT_TRUE(fs::exists(outside.path() / "keep"));
}

TEST_F(CacheGcTest, RestoreRefreshesTheLastUse) {
  Entry("a", 1000, 30);
  Entry("b", 1000, 20);
  ASSERT_EQ(Run("restore", {{"key", "a"}, {"paths", "src"}}).outputs["hit"], "exact");
  const GcReport report = GarbageCollect(root(), 1000, std::nullopt);
  EXPECT_EQ(Evicted(report), (std::vector<std::string>{Unit("b", "size")}));
}

TEST_F(CacheGcTest, MaxAgeEvictsWhatWasNotUsed) {
  Entry("stale", 10, 24 * 20);
  Entry("fresh", 10, 24 * 2);
  Area(Language::maven, 10, 24 * 30);
  Area(Language::pip, 10, 24 * 3);
  const GcReport report = GarbageCollect(root(), std::nullopt, std::chrono::hours(24 * 14));
  EXPECT_EQ(Evicted(report), (std::vector<std::string>{"maven:age", Unit("stale", "age")}));
  EXPECT_TRUE(fs::exists(root() / "pip"));
}

TEST_F(CacheGcTest, AnAreaInUseAndAnEntryBeingRestoredAreSkipped) {
  Entry("busy", 1000, 50);
  Area(Language::go, 1000, 0);  // just handed out by cache.paths: a build may use it now
  const int fd = ::open((keyed() / ".locks" / "busy.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_SH), 0);  // as a restore holds it
  const GcReport report = GarbageCollect(root(), 0, std::nullopt);
  EXPECT_TRUE(report.evicted.empty());
  EXPECT_EQ(report.skipped.size(), 2u);
  ::close(fd);
  EXPECT_EQ(Evicted(GarbageCollect(root(), 0, std::nullopt)), (std::vector<std::string>{Unit("busy", "size")}));
}

TEST_F(CacheGcTest, BrokenEntriesGoFirstAndLeftoversAreCleared) {
  Entry("good", 100, 1);
  Entry("broken", 100, 1);
  fs::remove(keyed() / "broken" / "manifest");
  WriteFile(keyed() / ".tmp" / "crashed.1" / "data" / "x", "partial");
  fs::last_write_time(keyed() / ".tmp" / "crashed.1", fs::file_time_type::clock::now() - std::chrono::hours(3));
  const GcReport report = GarbageCollect(root(), std::nullopt, std::nullopt);
  EXPECT_EQ(Evicted(report), (std::vector<std::string>{Unit("broken", "broken")}));
  EXPECT_FALSE(fs::exists(keyed() / ".tmp" / "crashed.1"));
  EXPECT_TRUE(fs::exists(keyed() / "good"));
}

TEST_F(CacheGcTest, GcStepUsesConfigAndArguments) {
  ASSERT_EQ(plugin->configure({{"max_size", "1500"}, {"restore", "copy"}}), "");
  Entry("a", 1000, 3);
  Entry("b", 1000, 2);
  StepResult result = Run("gc", nlohmann::json::object());
  ASSERT_TRUE(result.ok()) << result.message;
  ASSERT_EQ(result.outputs["evicted"].size(), 1u);
  EXPECT_EQ(result.outputs["evicted"][0]["unit"], "keyed/" + scope() + "/a");
  result = Run("gc", {{"max_size", "0"}});
  EXPECT_EQ(result.outputs["evicted"].size(), 1u);
  EXPECT_EQ(Run("gc", {{"max_age", "whenever"}}).status, StepResult::Status::terminal);
}

}  // namespace
}  // namespace kiln::cache

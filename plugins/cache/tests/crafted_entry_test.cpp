// A crafted entry cannot write outside the workspace (issue 17): an entry that lists a
// symlink `0/a -> <outside>` and then `0/a/x` used to write <outside>/x on restore, since
// only the last component was opened O_NOFOLLOW. Every component is now opened beneath the
// target without following symlinks (open_beneath.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>

#include "cache_plugin_fixture.hpp"
#include "manifest.hpp"
#include "open_beneath.hpp"

namespace kiln::cache {
namespace {

using kiln::testing::WriteFile;
namespace fs = std::filesystem;

class CraftedEntryTest : public KeyedCacheTest {
 protected:
  CraftedEntryTest() : outside_dir("kiln-outside"), outside(outside_dir.path()) {}

  // Writes the entry `key` into this job's scope as a save would, with `items` below the one
  // saved path "deps" and `content` as the pack: a whole, verifying entry.
  void Plant(const std::string& key, std::vector<ManifestItem> items, const std::string& content) {
    const fs::path at = entry(key);
    fs::create_directories(at);
    WriteFile(at / "pack", content);
    WriteFile(at / "last-used", "");
    struct stat st {};
    ASSERT_EQ(::stat((at / "pack").c_str(), &st), 0);
    Manifest manifest;
    manifest.key = key;
    manifest.paths = {"deps"};
    manifest.present = {true};
    manifest.items = std::move(items);
    for (const auto& item : manifest.items) {
      if (item.type != ManifestItem::Type::file) continue;
      manifest.files += 1;
      manifest.bytes += item.size;
    }
    manifest.pack_size = content.size();
    manifest.pack_mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    WriteFile(at / "manifest", SerializeManifest(manifest));
  }
  static ManifestItem Dir(const std::string& path) {
    ManifestItem item;
    item.type = ManifestItem::Type::directory;
    item.path = path;
    item.mode = 0755;
    return item;
  }
  static ManifestItem Link(const std::string& path, const std::string& target) {
    ManifestItem item;
    item.type = ManifestItem::Type::symlink;
    item.path = path;
    item.target = target;
    return item;
  }
  static ManifestItem File(const std::string& path, std::uint64_t size) {
    ManifestItem item;
    item.type = ManifestItem::Type::file;
    item.path = path;
    item.mode = 0644;
    item.size = size;
    return item;
  }
  // Both restore modes: a copy, and the default (overlay where allowed), whose tree is
  // unpacked inside the store: an escape from there is as bad.
  void ForEachRestoreMode(const std::function<void(const std::string&)>& check) {
    for (const char* mode : {"copy", "auto"}) {
      ASSERT_EQ(plugin->configure({{"restore", mode}}), "");
      check(mode);
    }
  }

  kiln::testing::TempDir outside_dir;
  fs::path outside;
};

TEST_F(CraftedEntryTest, AFileBehindAPlantedSymlinkIsNotWrittenOutside) {
  Plant("evil", {Dir("0"), Link("0/a", outside.string()), File("0/a/x", 5)}, "owned");
  ForEachRestoreMode([&](const std::string& mode) {
    const StepResult restored = Restore("evil", "deps");
    ASSERT_TRUE(restored.ok()) << restored.message;
    EXPECT_EQ(restored.outputs["hit"], false) << mode << ": " << restored.message;
    EXPECT_FALSE(fs::exists(outside / "x")) << mode << ": wrote outside the workspace";
    EXPECT_FALSE(fs::exists(ws("deps"))) << mode;
  });
}

TEST_F(CraftedEntryTest, ADirectoryBehindAPlantedSymlinkIsNotMadeOutside) {
  Plant("evil", {Dir("0"), Link("0/a", outside.string()), Dir("0/a/made"), File("0/a/made/y", 2)}, "hi");
  ForEachRestoreMode([&](const std::string& mode) {
    EXPECT_EQ(Restore("evil", "deps").outputs["hit"], false) << mode;
    EXPECT_FALSE(fs::exists(outside / "made")) << mode << ": made a directory outside the workspace";
  });
}

TEST_F(CraftedEntryTest, SymlinksThatAreOnlyLeavesStillRestore) {
  // What saves produce: a link is a leaf, nothing below it. It is kept, not followed.
  Plant("fine", {Dir("0"), Link("0/out", outside.string()), File("0/x", 2)}, "ok");
  ForEachRestoreMode([&](const std::string& mode) {
    const StepResult restored = Restore("fine", "deps");
    EXPECT_EQ(restored.outputs["hit"], "exact") << mode << ": " << restored.message;
    EXPECT_EQ(fs::read_symlink(ws("deps/out")), outside) << mode;
    EXPECT_EQ(kiln::testing::ReadFile(ws("deps/x")), "ok") << mode;
  });
}

TEST(OpenBeneath, RefusesASymlinkInAnyComponentAndAnEscape) {
  kiln::testing::TempDir dir("kiln-beneath");
  const fs::path root = dir.path() / "root";
  WriteFile(root / "real" / "file", "x");
  WriteFile(dir.path() / "outside" / "file", "secret");
  fs::create_symlink(dir.path() / "outside", root / "link");
  fs::create_symlink("real", root / "relative-link");
  const int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root_fd, 0);

  const int good = OpenBeneath(root_fd, "real/file", O_RDONLY);
  EXPECT_GE(good, 0);
  if (good >= 0) ::close(good);
  for (const char* bad : {"link/file", "relative-link/file", "link", "../outside/file", "real/../../outside/file"}) {
    const int fd = OpenBeneath(root_fd, bad, O_RDONLY);
    EXPECT_LT(fd, 0) << bad << " was opened";
    if (fd >= 0) ::close(fd);
  }
  const int created = OpenBeneath(root_fd, "link/new", O_WRONLY | O_CREAT | O_EXCL, 0600);
  EXPECT_LT(created, 0);
  EXPECT_FALSE(fs::exists(dir.path() / "outside" / "new"));

  std::string name;
  const int parent = OpenParentBeneath(root_fd, "link/new", &name);
  EXPECT_LT(parent, 0);
  const int top = OpenParentBeneath(root_fd, "top", &name);
  EXPECT_GE(top, 0);
  EXPECT_EQ(name, "top");
  if (top >= 0) ::close(top);
  ::close(root_fd);
}

}  // namespace
}  // namespace kiln::cache

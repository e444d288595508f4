#include "entry_trees.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "errno_text.hpp"
#include "tree_copy.hpp"
#include "unique_suffix.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDurable = "durable";

const std::string& BootId() {
  static const std::string id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string text;
    std::getline(in, text);
    return text;
  }();
  return id;
}

fs::path MarkerPath(const fs::path& entry, const std::string& slot) { return entry / "trees" / (slot + ".boot"); }

std::string ReadMarker(const fs::path& entry, const std::string& slot) {
  std::ifstream in(MarkerPath(entry, slot));
  std::string text;
  std::getline(in, text);
  return text;
}

}  // namespace

fs::path TreePath(const fs::path& entry, const std::string& slot) { return entry / "trees" / slot; }

bool CurrentTree(const fs::path& entry, const std::string& slot, const fs::path& trash_dir) {
  const fs::path tree = TreePath(entry, slot);
  struct stat st {};
  if (::lstat(tree.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  const std::string marker = ReadMarker(entry, slot);
  if (!BootId().empty() && (marker == BootId() || marker == kDurable)) return true;
  // From another boot (PlaceTree never leaves a tree without its marker): made again.
  const fs::path aside = trash_dir / ("tree-" + UniqueSuffix());
  if (::rename(tree.c_str(), aside.c_str()) == 0) RemoveTree(aside);
  return false;
}

bool PlaceTree(const fs::path& entry, const std::string& slot, const fs::path& dir, bool durable,
               std::string* error) {
  error->clear();
  const fs::path trees = entry / "trees";
  if (::mkdir(trees.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create \"" + trees.string() + "\": " + ErrnoText(errno);
    return false;
  }
  // The marker first, so a tree is never in place without one; written aside and renamed,
  // so a reader never sees it half written while another placer rewrites it.
  const fs::path marker = MarkerPath(entry, slot);
  const fs::path temp = marker.string() + ".tmp-" + UniqueSuffix();
  {
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);  // private, as the entry
    if (fd >= 0) ::close(fd);
    std::ofstream out(temp, std::ios::trunc);
    out << (durable ? kDurable : BootId()) << "\n";
    if (!out.flush()) {
      *error = "cannot write \"" + temp.string() + "\"";
      return false;
    }
  }
  if (::rename(temp.c_str(), marker.c_str()) != 0) {
    *error = "cannot write \"" + marker.string() + "\": " + ErrnoText(errno);
    ::unlink(temp.c_str());
    return false;
  }
  if (::rename(dir.c_str(), TreePath(entry, slot).c_str()) == 0) return true;
  if (errno != ENOTEMPTY && errno != EEXIST) {
    *error = "cannot move \"" + dir.string() + "\" to \"" + TreePath(entry, slot).string() + "\": " + ErrnoText(errno);
  }
  return false;
}

std::string TakeBackTree(const fs::path& entry, const std::string& slot, const fs::path& dir) {
  if (::rename(TreePath(entry, slot).c_str(), dir.c_str()) != 0) {
    return "cannot move \"" + TreePath(entry, slot).string() + "\" back to \"" + dir.string() + "\": " + ErrnoText(errno);
  }
  ::unlink(MarkerPath(entry, slot).c_str());
  return {};
}

}  // namespace kiln::cache

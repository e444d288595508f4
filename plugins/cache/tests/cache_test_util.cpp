#include "cache_test_util.hpp"

#include <algorithm>
#include <vector>

namespace kiln::cache::testing {

std::string DescribeTree(const fs::path& root) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    std::string line = std::to_string(st.st_mode) + " " + fs::relative(it->path(), root).string();
    if (S_ISREG(st.st_mode)) {
      line += " size=" + std::to_string(st.st_size) + " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
              std::to_string(st.st_mtim.tv_nsec) + " " + kiln::testing::ReadFile(it->path());
    } else if (S_ISLNK(st.st_mode)) {
      line += " -> " + fs::read_symlink(it->path()).string();
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

void MakeWideTree(const fs::path& root, int files, std::size_t size, char fill) {
  for (int i = 0; i < files; ++i) {
    kiln::testing::WriteFile(root / ("d" + std::to_string(i % 10)) / ("f" + std::to_string(i)),
                             std::string(size, fill));
  }
}

}  // namespace kiln::cache::testing

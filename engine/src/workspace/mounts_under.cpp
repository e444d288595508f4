#include "workspace/mounts_under.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo (octal).
std::string Unescape(const std::string& field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string digits = field.substr(i + 1, 3);
      if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out.push_back(static_cast<char>(std::stoi(digits, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

bool IsAtOrBelow(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  const std::string prefix = dir.back() == '/' ? dir : dir + "/";
  return path.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> mounts;
  if (dir.empty()) return mounts;
  const std::string normal = std::filesystem::path(dir).lexically_normal().string();
  std::ifstream info("/proc/self/mountinfo");
  std::string line;
  while (std::getline(info, line)) {
    // "36 35 98:0 /root /mount/point options ..." : the fifth field is the mount point.
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
    std::string path = Unescape(mount_point);
    if (IsAtOrBelow(path, normal)) mounts.push_back(std::move(path));
  }
  // Deepest first, so that a mount inside another goes before it; a path mounted twice
  // is listed twice and detached twice.
  std::stable_sort(mounts.begin(), mounts.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  return mounts;
}

std::string UnmountEverythingUnder(const std::string& dir) {
  std::string failures;
  for (const auto& mount_point : MountsUnder(dir)) {
    if (::umount2(mount_point.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL && errno != ENOENT) {
      failures += "cannot unmount " + mount_point + ": " + std::strerror(errno) + "\n";
    }
  }
  return failures;
}

}  // namespace kiln

#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>

namespace kiln::cache {

// A file's modification time in whole seconds, 0 when it cannot be read: last-use markers
// and entries age by it, and a missing one counts as the oldest.
inline std::int64_t ModifiedUnix(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

}  // namespace kiln::cache

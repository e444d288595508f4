// A file that must not exist yet, written whole (O_EXCL: a name a job or another worker
// already holds is an error, never overwritten or followed), optionally flushed to disk.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::cache {

enum class Flush { no, yes };

/// Empty on success; else an error naming the path and why.
std::string WriteNewFile(const std::filesystem::path& path, const std::string& content, Flush flush);

}  // namespace kiln::cache

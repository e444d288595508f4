// Sizes of the build cache's areas, and eviction: least recently used first, to a size
// cap and a maximum age.
//
// The units of eviction are the keyed entries (keyed/<scope>/<key>), each repository's area
// (kiln/repository_area.hpp: its dependency caches, NX cache and container build cache
// mounts) as a whole, and the language areas (maven, ..., pip) of kiln versions before
// repository areas: a package manager's own cache has no entries kiln could tell apart. An
// area (of either kind) used in the last kAreaInUseSeconds is never evicted, since a build
// may be using it right now (the step that hands out its path returns before the build
// runs); a keyed entry being restored is skipped.
//
// GarbageCollect is a plain function so that `kiln cache gc` can call it without a job.
// Thread safety: safe to run beside saves and restores, in any number of processes.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kiln::cache {

inline constexpr std::int64_t kAreaInUseSeconds = 3600;
/// Temp dirs of saves older than this are a crash's leftovers.
inline constexpr std::int64_t kLeftoverSeconds = 3600;

struct AreaStats {
  std::string area;            // "maven", ..., "pip", "keyed", "repositories"
  std::uint64_t bytes = 0;     // apparent size: the sum of file sizes
  std::uint64_t entries = 0;   // keyed: entries; repositories: areas; a language area: files
  std::int64_t last_used_unix = 0;  // newest use; 0 when never used
};

struct CacheStats {
  std::vector<AreaStats> areas;  // every language area, then keyed, then repositories
  std::uint64_t total_bytes = 0;
};

CacheStats CollectStats(const std::filesystem::path& cache_root);

struct Eviction {
  std::string unit;    // "keyed/<scope>/<key>", a repository area's or a language area's name
  std::uint64_t bytes = 0;
  std::string reason;  // "age", "size", "broken" or "unscoped" (keyed/<key>, from before scopes)
};

struct GcReport {
  std::vector<Eviction> evicted;
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
  /// Units that would have gone but were in use.
  std::vector<std::string> skipped;
  std::vector<std::string> errors;
};

/// Evicts, least recently used first: every unit unused for longer than `max_age`, then
/// more until the cache holds at most `max_size` bytes; entries whose manifest does not
/// parse go first, and entries from before scopes (keyed/<key>: no job reads them now).
/// Also clears leftovers of crashed saves. Either limit may be absent.
GcReport GarbageCollect(const std::filesystem::path& cache_root, std::optional<std::uint64_t> max_size,
                        std::optional<std::chrono::seconds> max_age);

}  // namespace kiln::cache

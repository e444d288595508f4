// The manifest of a keyed cache entry: what it holds, written last, read first.
//
// An entry is trusted only through its manifest: the list of every directory, file (mode,
// size, modification time) and symlink, the pack file's size and time, and a last line
// with the SHA-256 of everything before it. A manifest that is missing, cut short or
// altered fails to parse, and a pack whose size or time differs is caught before anything
// is restored: either way the entry reads as a miss.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::cache {

struct ManifestItem {
  enum class Type : char { directory = 'D', file = 'F', symlink = 'L' };
  Type type = Type::file;
  /// "<index>" for the saved path itself, "<index>/sub/name" below it: relative to data/.
  std::string path;
  std::uint32_t mode = 0;       // permission bits (07777)
  std::uint64_t size = 0;       // files
  std::int64_t mtime_ns = 0;    // files and directories
  std::string target;           // symlinks
};

struct Manifest {
  static constexpr int kVersion = 1;
  std::string key;
  std::int64_t created_unix = 0;
  /// The saved paths, relative to the workspace, in the order given; data/<i> holds paths[i].
  std::vector<std::string> paths;
  /// False for a path that did not exist at save (nothing to restore there).
  std::vector<bool> present;
  std::vector<ManifestItem> items;  // parents before children
  std::uint64_t bytes = 0;          // sum of file sizes
  std::uint64_t files = 0;
  /// The pack file holding the contents: its size (== bytes) and modification time, so
  /// that a pack cut short or written to after the save is caught before restoring.
  std::uint64_t pack_size = 0;
  std::int64_t pack_mtime_ns = 0;
};

std::string SerializeManifest(const Manifest& manifest);
/// False with `error` set when the text is not a whole, unaltered manifest.
bool ParseManifest(std::string_view text, Manifest* manifest, std::string* error);
/// Reads only the header (key, created, paths, totals) and checks the digest; for stats
/// and eviction, which do not need the items.
bool ParseManifestHeader(std::string_view text, Manifest* manifest, std::string* error);

}  // namespace kiln::cache

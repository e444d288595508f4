// Copying file trees into and out of the cache, and removing them.
//
// Both directions copy file by file with copy_file_range (the kernel copies the bytes;
// on a file system with reflinks it shares the extents), several files at once on a
// small pool of threads, and keep modes and modification times. Directories are
// created writable and get their own mode and time after their contents, so read-only
// trees (Go's module cache) copy and restore as they were.
//
// Thread safety: the functions share nothing; run as many at once as you like.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "manifest.hpp"

namespace kiln::cache {

struct CopyOptions {
  /// Threads copying files; 0 picks min(4, cores).
  unsigned threads = 0;
  /// Polled between files; when it returns true the copy stops with CopyStatus::cancelled.
  std::function<bool()> cancelled;
};

struct CopyStatus {
  enum class Kind {
    ok,
    corrupt,    // the source does not match the manifest (restore): the entry is bad
    io,         // reading or writing failed (no space, no permission): name in message
    cancelled,
  };
  Kind kind = Kind::ok;
  std::string message;
  bool ok() const { return kind == Kind::ok; }
};

/// Copies `source` (a directory, file or symlink, not followed) to `destination`, which
/// must not exist, and appends what it copied to `items` with paths under `slot` ("0",
/// "0/sub", ...). Files of other types (sockets, devices) are skipped.
CopyStatus SaveTree(const std::filesystem::path& source, const std::filesystem::path& destination,
                    const std::string& slot, std::vector<ManifestItem>* items, const CopyOptions& options);

/// Copies the items of `slot` from `data_dir`/<slot>... to `destination` (which must not
/// exist), checking that every file has the size and time its item says: a file that
/// is missing, shorter, longer or rewritten gives CopyStatus::corrupt.
CopyStatus RestoreTree(const std::filesystem::path& data_dir, const std::vector<ManifestItem>& items,
                       const std::string& slot, const std::filesystem::path& destination,
                       const CopyOptions& options);

/// Removes `path` and everything below it, making read-only directories writable on the
/// way. A missing path is fine. Returns "" or an error naming what could not go.
std::string RemoveTree(const std::filesystem::path& path);

/// The threads to use for `requested` (0 = min(4, cores)).
unsigned CopyThreads(unsigned requested);

}  // namespace kiln::cache

namespace kiln::cache {

/// The apparent size (sum of regular files' sizes) and file count below `path`, not
/// following symlinks. Unreadable parts are skipped.
void TreeUsage(const std::filesystem::path& path, std::uint64_t* bytes, std::uint64_t* files);

}  // namespace kiln::cache

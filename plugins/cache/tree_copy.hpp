// Copying file trees into and out of the cache, and removing them.
//
// A saved tree is one pack file (the file contents back to back) plus the manifest's item
// list: saving writes one file, as `tar -cf` does, instead of creating thousands, which is
// what costs on ext4. Bytes move with copy_file_range (in the kernel, no user-space
// buffer). Unpacking creates the files on a small pool of threads, keeps modes and
// modification times; directories are created writable and get their own mode and time
// after their contents, so read-only trees (Go's module cache) restore as they were.
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

/// Appends the tree at `source` (a directory, file or symlink, not followed) to the pack
/// file `pack_fd`, starting at `*pack_size` and advancing it, and appends its items to
/// `items` with paths under `slot` ("0", "0/sub", ...). The file contents go into the pack
/// one after the other, in item order. Files of other types (sockets, devices) are skipped.
CopyStatus PackTree(const std::filesystem::path& source, int pack_fd, std::uint64_t* pack_size,
                    const std::string& slot, std::vector<ManifestItem>* items, const CopyOptions& options);

/// Where each file item's content starts in the pack (item order; 0 for other items).
std::vector<std::uint64_t> PackOffsets(const std::vector<ManifestItem>& items);

/// Recreates the items of `slot` at `destination` (which must not exist) from the pack:
/// directories, symlinks, and files copied out of the pack on a few threads. A pack that
/// ends early gives CopyStatus::corrupt.
CopyStatus UnpackTree(int pack_fd, const std::vector<ManifestItem>& items, const std::vector<std::uint64_t>& offsets,
                      const std::string& slot, const std::filesystem::path& destination, const CopyOptions& options);

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

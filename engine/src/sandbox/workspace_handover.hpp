// The workspace belongs to the job's processes: what the worker wrote there as root (the
// checkout, a restored cache entry, a plugin's files) is handed to the sandbox uid before a
// sandboxed process starts, so `npm ci` can replace node_modules and a build can write its
// outputs, while nothing outside the workspace changes owner.
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

/// Gives every entry below and including `workspace` whose owner is not uid:gid to uid:gid,
/// walking by descriptors without following any symlink (links are changed as links).
/// Mounts below are walked too (an overlay's merged view is the job's to write; a tree saved
/// from a sandboxed job is the uid's already, so nothing is copied up). Also used for the
/// writable mounts a step is given. Empty on success, else the first failure.
std::string HandOverWorkspace(const std::string& workspace, unsigned uid, unsigned gid);

/// Bytes the files below `dir` occupy on disk (st_blocks), not descending into mounts (a
/// restored overlay's lower layer is the cache's, not the job's: its upper layer lives in the
/// workspace and is counted there). Stops counting past `stop_after`.
std::uint64_t DiskUsage(const std::string& dir, std::uint64_t stop_after);

}  // namespace kiln

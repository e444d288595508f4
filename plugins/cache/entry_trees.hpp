// The unpacked trees of a keyed entry, the lower layers of overlay restores
// (overlay_mount.hpp):
//
//   keyed/<key>/trees/<n>        path n of the entry, as saved
//   keyed/<key>/trees/<n>.boot   the boot it was made in (/proc/sys/kernel/random/boot_id),
//                                or "durable" when its data was flushed to disk
//
// A tree is made by the save itself (the saved directory moved into the store, an overlay
// of it mounted back in its place: the job goes on seeing the same files) or, where that
// cannot be done, by the first overlay restore (unpacked from the pack). Its data is not
// flushed, since syncfs flushes the whole file system, seconds on a busy build machine; a
// crash is a reboot, so a tree made in another boot is not trusted: it is removed and made
// again from the pack, which has its own check.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::cache {

std::filesystem::path TreePath(const std::filesystem::path& entry, const std::string& slot);

/// True when the tree of `slot` is there and was made in this boot (or flushed). A tree of
/// another boot is moved into `trash_dir` and removed.
bool CurrentTree(const std::filesystem::path& entry, const std::string& slot, const std::filesystem::path& trash_dir);

/// Renames `dir` (a whole tree on the entry's file system) into place as the tree of
/// `slot`. False when it could not (another tree got there first: `error` empty; another
/// file system or a failure: `error` says so); `dir` is then still the caller's.
bool PlaceTree(const std::filesystem::path& entry, const std::string& slot, const std::filesystem::path& dir,
               bool durable, std::string* error);

/// Undoes PlaceTree: the tree goes back to `dir`. Returns "" or why it could not.
std::string TakeBackTree(const std::filesystem::path& entry, const std::string& slot, const std::filesystem::path& dir);

}  // namespace kiln::cache

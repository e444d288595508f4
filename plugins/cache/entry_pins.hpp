// An entry whose tree a job has mounted (overlay_mount.hpp) is pinned: this process holds a
// shared flock on keyed/.locks/<key>.mounted while the overlay exists, and eviction takes
// that lock exclusively without waiting, so it skips the entry. flock belongs to the file,
// not to a mount namespace, so the pin holds against `kiln cache gc` in another container
// or systemd unit sharing the cache volume, which cannot see this process's mounts.
//
// The plugin is not told when a job ends; the engine detaches the job's mounts then. So a
// pin is released lazily, by the next restore or eviction in this process that finds its
// overlay gone; a process that dies releases all of its pins with its descriptors.
//
// Thread safety: every function may be called from any job thread.
#pragma once

#include <filesystem>
#include <string>

namespace kiln::cache {

/// Pins the entry whose `.mounted` lock is `lock_path` while `target` is the overlay just
/// mounted there. Returns "" or why not (the caller then does not keep the mount).
std::string PinMountedEntry(const std::filesystem::path& lock_path, const std::filesystem::path& target);

/// Releases the pins whose overlay is no longer mounted.
void ReleaseUnmountedPins();

/// True when some process (this one included) pins the entry of `lock_path`.
bool EntryPinned(const std::filesystem::path& lock_path);

}  // namespace kiln::cache

// A restored directory shown through a copy-on-write overlay instead of copied: the
// entry's files, unpacked once into the store (keyed/<key>/trees/<n>), are the overlay's
// read-only lower layer; what the job writes, changes or deletes under the path goes to an
// upper layer in its own workspace. So a restore costs one mount(2) whatever the tree's
// size, and no job can change the copy the next job gets.
//
// Needs CAP_SYS_ADMIN and a kernel with overlayfs (root on Debian 12 has both); where the
// mount is refused the caller copies instead. The engine detaches every mount under a
// workspace before removing it (engine/src/workspace/mounts_under.hpp), so a mount made
// here never outlives its job, even when the worker is killed (the next start's sweep).
// While it exists, the entry is pinned against eviction (entry_pins.hpp).
#pragma once

#include <filesystem>
#include <string>

namespace kiln::cache {

/// Mounts an overlay of `lower` (read-only) at `target` (created; must not exist or be an
/// empty directory), its upper and work directories made under `scratch` (which must not
/// exist; same file system as the workspace). Returns "" or why it could not.
std::string MountOverlay(const std::filesystem::path& lower, const std::filesystem::path& target,
                         const std::filesystem::path& scratch);

/// Detaches a mount at `target` if there is one (a path restored twice in one job).
void DetachMount(const std::filesystem::path& target);

}  // namespace kiln::cache

// Mounts a step left inside a directory (the cache plugin mounts a copy-on-write overlay
// for a restored tree), found in /proc/self/mountinfo and detached before the directory is
// removed: a recursive remove that crossed into a mount would delete what the mount shows
// (another job's cache, or a host directory bind-mounted there), and the mount point
// itself cannot be removed while mounted.
#pragma once

#include <string>
#include <vector>

namespace kiln {

/// The mount points at or below `dir` (a normalised absolute path), deepest first.
std::vector<std::string> MountsUnder(const std::string& dir);

/// Detaches (MNT_DETACH) every mount at or below `dir`, deepest first. Returns what could
/// not be detached, one line per mount point with the reason; empty when all went.
std::string UnmountEverythingUnder(const std::string& dir);

}  // namespace kiln

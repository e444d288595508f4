// bwrap gives a new network namespace its loopback itself: it adds 127.0.0.1 to `lo`, then
// brings `lo` up, and it fails the whole run ("loopback: Failed RTM_NEWADDR") if the address
// is already there. slirp4netns --configure brings `lo` up too, and the kernel gives a
// loopback that comes up 127.0.0.1 on its own. So slirp4netns may attach only once bwrap's
// child has added its address; before that the two race, and on a loaded machine bwrap loses
// (seen in CI: 1 run in ~150 when eight start at once).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace kiln {

/// Waits until the network namespace of process `pid` has 127.0.0.1 (read from
/// /proc/<pid>/net/fib_trie, which needs no entry into the namespace). Empty once it has,
/// else why not: the deadline passed, or the process ended first.
std::string WaitForLoopbackAddress(pid_t pid, std::chrono::steady_clock::time_point deadline);

}  // namespace kiln

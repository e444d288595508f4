// Opening a path beneath a directory without ever following a symlink, in any component.
//
// A cache entry is data from outside the worker's trust (a build wrote the tree it holds,
// and a crafted or corrupt entry can list anything): an entry with a symlink `0/a ->
// /outside` and a file `0/a/x` must not write /outside/x. O_NOFOLLOW guards only the last
// component, so every path is resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
// where the kernel has it (Linux 5.6), else one component at a time with O_NOFOLLOW. The
// same holds for reading a tree to save it: a directory swapped for a symlink while a save
// walks it is never followed.
//
// It is not the SDK's kiln/workspace_path.hpp, on purpose: that one answers a path and
// follows links that stay inside (what a step argument may name); this one refuses every
// link and answers a descriptor, for writing untrusted trees (see that header's comment).
//
// Thread safety: plain system calls; any thread.
#pragma once

#include <sys/types.h>

#include <string>

namespace kiln::cache {

/// Opens `relative` ("a/b/c", no "..", "." or empty component) beneath the directory
/// `root_fd` with `flags` (O_NOFOLLOW and O_CLOEXEC are added) and `mode`. Fails with
/// ELOOP when a component is a symlink, EXDEV or EINVAL when it would leave `root_fd`.
/// Returns the descriptor, or -1 with errno set.
int OpenBeneath(int root_fd, const std::string& relative, int flags, mode_t mode = 0);

/// Opens the directory that holds the last component of `relative` beneath `root_fd` (as
/// OpenBeneath; `root_fd` itself, duplicated, for a one-component path) and sets `*name` to
/// that component, for mkdirat, symlinkat and the like. -1 with errno set on failure.
int OpenParentBeneath(int root_fd, const std::string& relative, std::string* name);

}  // namespace kiln::cache

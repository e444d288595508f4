// Reading the flags of a Dockerfile RUN instruction, so that no `--mount` leaves the build
// context before buildah sees it.
//
// buildah 1.28 (Debian's) has CVE-2024-9675: a cache mount's `id` is joined to its cache
// directory unchecked, so `RUN --mount=type=cache,id=../../../..,target=/h` reads and writes
// the host's / as root. A bind mount's `source` that resolves outside the context is the
// same hole. The rules are strict on purpose: whatever kiln cannot read with certainty is
// refused, not passed on.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kiln::buildah {

/// One `--mount=` flag of a RUN instruction: its type (bind when not given) and its
/// options as written, `src` read as `source`, `dst`/`destination` as `target`.
struct RunMount {
  std::string type;
  std::map<std::string, std::string> options;
};

/// Reads the flags at the start of `rest` (a RUN instruction without its keyword) into
/// `mounts`. Returns "" when every flag is a `--mount` kiln accepts, else the error naming
/// the flag or option: a flag other than --mount (`--network`, `--security`), a mount type
/// other than bind, cache, tmpfs and secret, an unknown or repeated option, a quote, a
/// variable outside `from`, an `id` or `source` that is absolute or has a `..` component, a
/// `target` that is not absolute or has a `..` component.
std::string ReadRunFlags(const std::string& rest, std::vector<RunMount>& mounts);

/// How many times `--mount` occurs in `text`, in any case. The Dockerfile check compares
/// it with the mounts it read, so a `--mount` that kiln's reading of the file and
/// buildah's might place differently is refused rather than missed.
int CountMountWords(const std::string& text);

}  // namespace kiln::buildah

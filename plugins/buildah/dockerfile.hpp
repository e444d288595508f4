// Finding and checking a build's Dockerfile before buildah sees it.
//
// The checks are the ones that turn a confusing buildah error (or a build of the wrong
// file) into a terminal error naming the path: the file exists, is a regular file, lies
// inside the build context once symlinks are resolved (so a context cannot make the
// worker read /etc/shadow as a Dockerfile), and has a FROM before any instruction but ARG.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "secret_args.hpp"

namespace kiln::buildah {

struct Dockerfile {
  /// Canonical path, inside `context`.
  std::filesystem::path path;
  /// Canonical build context directory.
  std::filesystem::path context;
  /// Images the build reads that are neither `scratch` nor one of its own stages (FROM,
  /// COPY --from), with ARG defaults and build args substituted, in order, no repeats.
  std::vector<std::string> external_images;
  /// True when some FROM or COPY --from names an image through a variable that no ARG
  /// default or build arg sets: external_images is then incomplete.
  bool unresolved_images = false;
};

/// Resolves `context` (relative paths against `workspace`) and the Dockerfile: `given`
/// (relative to the context, or absolute), else `Dockerfile`, else `Containerfile` in
/// the context. Returns false with `error` naming the path when a check fails.
bool LocateDockerfile(const std::filesystem::path& workspace, const std::string& context,
                      const std::string& given, Dockerfile& out, std::string& error);

/// Checks the text of a Dockerfile and collects its external images (see Dockerfile).
/// `build_args` override ARG defaults. Returns false with `error` (with a line number)
/// when there is no FROM, an instruction other than ARG comes before the first FROM, a
/// RUN flag is refused (run_mounts.hpp), a bind mount's source resolves outside
/// `out.context` (when set), a `--mount` sits where kiln does not read it as a RUN flag,
/// an image name begins with '-', or a FROM, `--from=` or ADD refers to a build arg whose
/// value `is_secret` (secret_args.hpp). Every instruction is read, ONBUILD ones included.
bool ParseDockerfile(const std::string& text, const std::map<std::string, std::string>& build_args,
                     const IsSecret& is_secret, Dockerfile& out, std::string& error);
/// The same with no build arg secret.
bool ParseDockerfile(const std::string& text, const std::map<std::string, std::string>& build_args,
                     Dockerfile& out, std::string& error);

}  // namespace kiln::buildah

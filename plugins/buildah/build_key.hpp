// The key of everything a build's image depends on, so that an identical build can be
// skipped and its earlier image tagged instead.
//
// buildah's layer cache reuses unchanged steps, but with the vfs storage driver every reused
// step still copies the whole root file system (docs/benchmarks/buildah.md): a rebuild of an
// unchanged context costs about half the first build. With the key recorded for the image
// (image_store_index.hpp; also a label on it), the plugin finds the image an identical build
// made, and only tags it.
//
// What the key covers: the Dockerfile and every file of the context (path, type, permission
// bits, contents, symlink targets), the target, build args, labels, the id of each base image
// in the store, and the settings that change what RUN steps see (isolation, network, cache
// mounts). A .dockerignore or .containerignore line naming a plain path leaves it out; a line
// with a wildcard is not interpreted (the files it names stay in the key, which can only
// cause a rebuild, never a wrong reuse), and a `!` exception anywhere turns leaving out off.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::buildah {

/// The image label that carries the key.
inline constexpr std::string_view kBuildKeyLabel = "io.kiln.build-key";

struct BuildKeyInputs {
  std::filesystem::path context;     // canonical
  std::filesystem::path dockerfile;  // canonical, inside the context
  std::string target;
  std::map<std::string, std::string> build_args;
  /// Without a `created` label the build chose itself (the build's own time), which would
  /// make every key new.
  std::map<std::string, std::string> labels;
  /// Each image the build reads, with its image id in the store.
  std::vector<std::pair<std::string, std::string>> base_images;
  /// Anything else that changes the result: "isolation=chroot", "mount=/host:/target", ...
  std::vector<std::string> settings;
};

/// The key as 64 hex digits; empty with `error` set when the context cannot be read.
std::string BuildKey(const BuildKeyInputs& inputs, std::string* error);

/// The plain paths (relative to the context, without ./ or trailing /) that the context's
/// ignore files leave out, as described above.
std::vector<std::string> PlainIgnoredPaths(const std::filesystem::path& context);

}  // namespace kiln::buildah

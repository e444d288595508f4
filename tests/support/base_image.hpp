// Real buildah for tests: a throwaway image store, and a tiny base image made from
// Debian's busybox-static, so tests build FROM something runnable without a registry.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace kiln::testing {

/// A buildah store (vfs driver, chroot isolation) in `dir`/root and `dir`/runroot. On
/// destruction its containers and images are removed through buildah (which unmounts
/// them) and both directories are deleted, read-only layer directories included.
class BuildahStore {
 public:
  explicit BuildahStore(const std::filesystem::path& dir);
  ~BuildahStore();
  BuildahStore(const BuildahStore&) = delete;
  BuildahStore& operator=(const BuildahStore&) = delete;

  std::filesystem::path root() const { return dir_ / "root"; }
  std::filesystem::path runroot() const { return dir_ / "runroot"; }
  /// The `buildah:` config section that points the plugin at this store.
  nlohmann::json plugin_config() const;
  /// Runs `buildah <store flags> <args>` through the shell; returns its exit status.
  int Buildah(const std::string& args, std::string* output = nullptr) const;

 private:
  std::filesystem::path dir_;
};

/// Builds `reference` (e.g. "localhost/kiln-test/busybox:latest") FROM scratch: /bin/busybox
/// from the host, a link in /bin for each of its applets (sh, nc, wget, ...), and /tmp.
/// Returns "" on success, else buildah's output.
std::string BuildBusyboxBase(const BuildahStore& store, const std::string& reference);

/// True when buildah, unshare and /bin/busybox are all there to run image tests.
bool BuildahAvailable();

}  // namespace kiln::testing

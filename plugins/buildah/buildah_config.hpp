// The `buildah:` section of the configuration: where images are stored and how RUN steps
// are isolated. Parsed and validated once by BuildahPlugin::configure; read-only after
// that, so every job thread may share one BuildahConfig.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kiln::buildah {

struct BuildahConfig {
  /// The buildah executable, looked up in PATH when it has no '/'.
  std::string binary = "buildah";
  /// kiln's own image store, apart from /var/lib/containers/storage: a store keeps the
  /// driver it was created with, and the system's store is often overlay.
  std::string root = "/var/lib/kiln/containers/storage";
  std::string runroot = "/run/kiln/containers";
  /// vfs works everywhere (no kernel overlay, no fuse); overlay is faster where it works.
  std::string storage_driver = "vfs";
  /// chroot needs no OCI runtime and works as root in a container; see docs/plugins/buildah.md
  /// for what it does not isolate.
  std::string isolation = "chroot";
  /// The image repository; "{repo}" is replaced by the job's repository name made valid
  /// ("acme/shop"). A build's `repository` argument overrides it.
  std::string repository = "localhost/{repo}";
  /// Verify TLS when talking to registries (push, and pulls of FROM images).
  bool tls_verify = true;
  /// A directory of CA certificates (*.crt) and client keys that registries are checked
  /// against, passed to buildah as --cert-dir; empty: the system's trust and
  /// /etc/containers/certs.d.
  std::string cert_dir;
  /// The default `cache.from`/`cache.to` of buildah.build: a registry repository
  /// ("registry.example.com/kiln/cache") holding layers every worker can reuse; empty: none.
  std::string layer_cache;
  /// The program that runs buildah in a fresh network namespace for a build without
  /// network under chroot isolation (chroot isolation cannot do `--network none` itself).
  std::string unshare = "unshare";
};

/// Parses `section` (null or an object). Returns an empty string and fills `out`, or an
/// error naming the key: "buildah.isolation: must be one of chroot, oci, rootless, got 'x'".
std::string ParseBuildahConfig(const nlohmann::json& section, BuildahConfig& out);

}  // namespace kiln::buildah

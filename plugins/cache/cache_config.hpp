// The `cache:` config section and the size and duration values it (and cache.gc) take.
//
//   cache: { max_size: "10GiB", max_age: "14d", copy_threads: 0, durable: false, restore: "auto",
//            remote: { registry: "registry.example.com/kiln-cache", secret: "cache-registry",
//                      tls_verify: true, cert_dir: "/etc/kiln/registry-ca", timeout: "10m" } }
//
// All keys are optional. Values may be strings or numbers (bytes, seconds), since an
// environment override (CACHE_MAX_SIZE=...) arrives as a string.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kiln::cache {

/// The keyed store's second level: entries as OCI artifacts in a registry (remote_level.hpp).
struct RemoteCacheConfig {
  /// "host[:port]/path": each scope's entries go to the repository <registry>/<scope>.
  /// Empty: no remote level.
  std::string registry;
  /// The name of a secret holding "user:password" for the registry; empty: anonymous.
  std::string secret;
  /// False: plain HTTP or an unverified certificate (a registry on a trusted network only).
  bool tls_verify = true;
  /// A directory of CA certificates (ca.crt) the registry's certificate is checked against.
  std::string cert_dir;
  /// One fetch or push may take this long; then it is given up (a miss, or a push not made).
  std::chrono::seconds timeout{600};

  bool enabled() const { return !registry.empty(); }
  /// The host[:port] part, for the auth file.
  std::string host() const { return registry.substr(0, registry.find('/')); }
};

struct CacheConfig {
  /// Eviction keeps the whole build cache below this many bytes (apparent size).
  std::optional<std::uint64_t> max_size;
  /// Eviction removes what was not used for this long.
  std::optional<std::chrono::seconds> max_age;
  /// Threads copying files in save and restore; 0 picks min(4, cores).
  unsigned copy_threads = 0;
  /// Flush a saved entry's data to disk (syncfs) before it becomes visible. Off: a crash
  /// may then leave an entry with short files, which verification reads as a miss.
  bool durable = false;
  /// `restore: auto` (the default) shows a restored directory through a copy-on-write
  /// overlay where the kernel allows the mount (overlay_mount.hpp) and copies it elsewhere;
  /// `restore: copy` always copies.
  bool overlay_restore = true;
  RemoteCacheConfig remote;
};

/// Parses `remote:`; "" or an error naming the key ("cache.remote.registry: ...").
std::string ParseRemoteCacheConfig(const nlohmann::json& section, RemoteCacheConfig* config);

/// Parses `section` (null or an object) into `config`; returns "" or an error naming the
/// key: "cache.max_size: must be a size like \"10GiB\", got \"ten\"".
std::string ParseCacheConfig(const nlohmann::json& section, CacheConfig* config);

/// "1024", "512K", "10GiB", "1.5GB", "20 MiB" -> bytes. K, M, G, T, KiB.. are powers of
/// 1024, KB, MB.. powers of 1000. False when the text is not a size or overflows.
bool ParseSize(std::string_view text, std::uint64_t* bytes);
/// "90", "90s", "5m", "1h", "14d", "2w" -> seconds.
bool ParseDuration(std::string_view text, std::chrono::seconds* duration);

/// The same, for a JSON value that is a string or a non-negative number; `key` names it in
/// the error ("cache.max_size", "cache.gc: max_age").
std::string SizeFromJson(const nlohmann::json& value, std::string_view key, std::uint64_t* bytes);
std::string DurationFromJson(const nlohmann::json& value, std::string_view key,
                             std::chrono::seconds* duration);

}  // namespace kiln::cache

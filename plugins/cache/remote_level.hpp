// The keyed store's second level: entries shared through an OCI registry, so a worker that
// never saw a repository restores what another worker saved (docs/plugins/cache.md).
//
// Each scope (kiln/repository_scope.hpp) is one registry repository, <registry>/<scope>,
// each entry one tag of it (remote_artifact.hpp). The scope is the job's, as for the local
// store, so a job reads and writes only its own repository's entries (an untrusted job its
// ref's too), whatever its script says. skopeo does the registry protocol.
//
// Fetches run inside cache.restore (a restore waits for what it restores), as the worker,
// through the step's process runner, so cancellation and the step's deadline reach them.
// Pushes run after cache.save has returned, on one thread of the plugin's, in the worker
// process (which outlives every step): the job's result never waits for the registry, the
// outcome is counted where the worker's metrics read it (Counters, through cache.stats),
// and a push cut short by the worker stopping is made again by the next save of the key
// (an entry is marked once pushed). A remote failure never fails a step: it is logged
// (fetch) or kept as `last_push_error`, and counted.
//
// Thread safety: any number of job threads may Fetch and EnqueuePush at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cache_config.hpp"
#include "keyed_store.hpp"
#include "kiln/step_context.hpp"

namespace kiln::cache {

/// "user:password" for the registry, or nothing (anonymous).
struct RegistryCredentials {
  std::string user;
  std::string password;
  bool empty() const { return user.empty() && password.empty(); }
};

/// Reads `config.secret` through the step's context and registers it for redaction. False
/// with `error` set when a secret is configured and missing or not "user:password".
bool CredentialsForStep(const RemoteCacheConfig& config, StepContext& ctx, RegistryCredentials* credentials,
                        std::string* error);

class RemoteLevel {
 public:
  /// Pushes waiting beyond this many are dropped (counted as push/dropped): a registry
  /// slower than the saves must not grow the worker's memory without bound.
  static constexpr std::size_t kMaxQueuedPushes = 64;

  RemoteLevel() = default;
  /// Stops the pusher: a push under way is killed, queued ones are dropped (their entries
  /// stay unmarked, so the next save of the key pushes again).
  ~RemoteLevel();
  RemoteLevel(const RemoteLevel&) = delete;
  RemoteLevel& operator=(const RemoteLevel&) = delete;

  enum class FetchResult { hit, miss, error, rejected, cancelled };
  /// Fetches `key` of `store`'s scope into `store` (adopted whole, or not at all). `why`
  /// says what went wrong (error, rejected) for the step's log.
  FetchResult Fetch(const RemoteCacheConfig& config, const RegistryCredentials& credentials, KeyedStore& store,
                    const std::string& key, StepContext& ctx, std::string* why);

  /// Queues the push of `key` of `store`'s scope; returns at once.
  void EnqueuePush(const RemoteCacheConfig& config, const RegistryCredentials& credentials, const KeyedStore& store,
                   const std::string& key);

  /// {"fetch": {"hit": n, ...}, "push": {"ok": n, ...}, "pushes_pending": n, "last_push_error": "..."}:
  /// counts since the plugin was made, for kiln_cache_remote_total{op,result}.
  nlohmann::json Counters();

  /// Blocks until no push is queued or running (tests, and a worker draining before exit).
  void WaitIdle();

 private:
  struct PushJob {
    RemoteCacheConfig config;
    RegistryCredentials credentials;
    std::filesystem::path cache_root;
    std::string scope;
    std::string key;
  };
  void Count(const std::string& op, const std::string& result);
  void PushLoop();
  void Push(const PushJob& job);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<PushJob> queue_;
  bool pushing_ = false;
  bool stopping_ = false;
  std::string last_push_error_;
  std::map<std::string, std::map<std::string, std::uint64_t>> counts_;  // op -> result -> n
  std::optional<std::thread> pusher_;
};

/// "<registry>/<scope>:<tag>" of `key`, the skopeo reference without its transport.
std::string RemoteReference(const RemoteCacheConfig& config, const std::string& scope, const std::string& key);

}  // namespace kiln::cache

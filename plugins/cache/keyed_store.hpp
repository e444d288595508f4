// Keyed cache entries: save a set of workspace paths under a key, restore them by exact
// key or by key prefix.
//
// Layout under the build cache root: one store per scope (kiln/repository_scope.hpp: a
// repository, or one ref of it for untrusted jobs), so a key names an entry of one
// repository only. keyed/ and everything below it is the worker's alone (dirs 0700,
// files 0600): a sandboxed build reads entries only through what a restore gives it.
//   keyed/<scope>/<key>/manifest     what the entry holds, with its digest (see manifest.hpp)
//   keyed/<scope>/<key>/pack         the saved files' contents back to back (see tree_copy.hpp)
//   keyed/<scope>/<key>/last-used    its modification time is the entry's last use (eviction)
//   keyed/<scope>/<key>/remote-pushed there once the entry is in the remote level (remote_level.hpp)
//   keyed/<scope>/<key>/trees/<n>    path n as a directory tree, for overlay restores (see
//                                    entry_trees.hpp); an entry is not evicted while mounted
//   keyed/<scope>/.tmp/              entries being written (same file system: renamed into place)
//   keyed/<scope>/.trash/            entries being removed
//   keyed/<scope>/.locks/<key>.lock  flock: shared while restoring, exclusive while replacing
// An entry directly under keyed/ (keyed/<key>/manifest) is from before scopes: no job reads
// it; the store with the empty scope lists and evicts those (cache_gc.cpp).
//
// Contract: an entry appears whole (a directory rename) or not at all; a key, once saved
// whole, is not overwritten (the first of concurrent savers wins, the others report
// "exists"); an entry that fails verification reads as a miss, is moved out of the way,
// and never leaves a half-restored tree in the workspace (restores go to a temp dir next
// to the target, then a rename swaps it in).
//
// Thread safety: any number of KeyedStore objects, threads and processes may use the same
// root at once; coordination is by rename and flock only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tree_copy.hpp"

namespace kiln::cache {

/// A path the script named, after ResolveInWorkspace.
struct WorkspacePath {
  std::string relative;            // relative to the workspace: the identity in manifests
  std::filesystem::path absolute;  // where it is in this job's workspace
};

/// Resolves the script's `paths` (an array of strings or one string) against `workspace`.
/// Rejects traversal (see ResolveInWorkspace), duplicates and nested paths ("a" and "a/b").
bool ResolveWorkspacePaths(const std::filesystem::path& workspace, const std::vector<std::string>& paths,
                           std::vector<WorkspacePath>* resolved, std::string* error);

struct SaveOutcome {
  enum class Kind { saved, exists, nothing_to_save, failed, cancelled };
  Kind kind = Kind::failed;
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
  std::string message;  // why it failed, or a remark
  /// The saved directories became the entry's trees, shown back through overlays.
  bool kept_as_trees = false;
};

struct RestoreOutcome {
  enum class Hit { miss, exact, prefix };
  Hit hit = Hit::miss;
  std::string matched_key;
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
  bool cancelled = false;
  /// The directories were mounted as overlays of the entry's trees (else copied).
  bool mounted = false;
  /// Why an overlay was asked for and not used (the paths were copied), for the log.
  std::string copied_because;
  /// Entries skipped on the way (corrupt, saved with other paths, unreadable), for the log.
  std::vector<std::string> warnings;
};

struct SaveOptions {
  CopyOptions copy;
  /// Flush the entry's data to disk (syncfs) before it is renamed into place. Without it a
  /// crash can leave an entry whose files are short or empty, which then reads as a miss.
  bool durable = false;
  /// Where to make overlays (as RestoreOptions). When set, each saved directory is moved
  /// into the entry as its tree (entry_trees.hpp) and an overlay of it mounted back in its
  /// place, so the next restore need not unpack it; empty: the workspace is left as it is.
  std::filesystem::path overlay_scratch;
};

struct RestoreOptions {
  CopyOptions copy;
  /// Where to make the overlays' upper and work directories (in the job's workspace);
  /// empty: always copy.
  std::filesystem::path overlay_scratch;
};

class KeyedStore {
 public:
  /// The store of one scope (kiln::repository_scope::IsScopeName), or with "" the entries
  /// of before scopes, for eviction only.
  KeyedStore(std::filesystem::path cache_root, std::string scope);

  /// The scopes that have a store under `cache_root`.
  static std::vector<std::string> Scopes(const std::filesystem::path& cache_root);

  /// Saves `paths` under `key` (already validated). Paths that do not exist are recorded as
  /// absent; when none exists nothing is saved.
  SaveOutcome Save(const std::string& key, const std::vector<WorkspacePath>& paths, const SaveOptions& options);

  /// Restores the entry `key`, else the newest entry whose key starts with each of
  /// `restore_keys` in turn. An entry matches only when it was saved with the same paths.
  /// With `options.overlay_scratch`, an entry whose paths are all directories is mounted
  /// (overlay_mount.hpp) when the kernel lets us, else copied.
  RestoreOutcome Restore(const std::string& key, const std::vector<std::string>& restore_keys,
                         const std::vector<WorkspacePath>& paths, const RestoreOptions& options);

  /// A new private directory under the store's .tmp/ to fetch an entry into (its manifest
  /// and pack), for Adopt. "" or what failed.
  std::string NewImportDir(std::filesystem::path* dir);

  /// Takes the fetched entry in `fetched` (from NewImportDir) into the store as `key`, when
  /// its manifest parses whole (its own digest), names `key`, and its pack has the size the
  /// manifest says; the pack then gets the time the manifest vouches for. `fetched` is used
  /// up either way. saved, exists (another save or fetch was first), or failed with why.
  SaveOutcome Adopt(const std::string& key, const std::filesystem::path& fetched);

  /// Whether the entry `key` is known to be in the remote level, and marking it so.
  bool RemotePushed(const std::string& key) const;
  void MarkRemotePushed(const std::string& key) const;

  struct EntryInfo {
    std::string key;
    std::uint64_t bytes = 0;  // on disk: the pack and any unpacked trees
    std::uint64_t files = 0;
    std::int64_t last_used_unix = 0;
    bool valid = false;  // the manifest header parsed
  };
  /// The entries, valid or not.
  std::vector<EntryInfo> List() const;

  /// Removes the entry `key` unless it is being restored right now or a job has its tree
  /// mounted (then returns false and leaves it). `error` is set when removal failed.
  bool Evict(const std::string& key, std::string* error);

  /// Removes leftovers: temp dirs older than `older_than_seconds`, and the trash.
  void CleanLeftovers(std::int64_t older_than_seconds);

  const std::string& scope() const { return scope_; }
  std::filesystem::path keyed_dir() const { return keyed_; }
  std::filesystem::path entry_dir(const std::string& key) const { return keyed_ / key; }

 private:
  std::string EnsureLayout() const;
  /// Renames the whole entry in `temp` into place as `key` (the first whole entry wins; a
  /// broken one is replaced). False with `outcome` set (exists or failed) and `temp` removed.
  bool CommitEntry(const std::string& key, const std::filesystem::path& temp, SaveOutcome* outcome);
  void Quarantine(const std::string& key, std::uint64_t inode, std::vector<std::string>* warnings);

  std::filesystem::path root_;
  std::string scope_;
  std::filesystem::path keyed_;
};

}  // namespace kiln::cache

#include "keyed_store.hpp"

#include "modified_time.hpp"
#include "new_file.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <set>
#include <system_error>

#include "entry_pins.hpp"
#include "entry_trees.hpp"
#include "errno_text.hpp"
#include "kiln/repository_scope.hpp"
#include "key_lock.hpp"
#include "overlay_mount.hpp"
#include "safe_paths.hpp"
#include "unique_suffix.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestName = "manifest";
constexpr const char* kPackName = "pack";
constexpr const char* kLastUsedName = "last-used";
// Present once the entry is in the remote level (pushed, or fetched from there).
constexpr const char* kRemotePushedName = "remote-pushed";

// Held shared while a job has the entry's trees mounted (entry_pins.hpp).
fs::path MountedLockPath(const fs::path& keyed, const std::string& key) {
  return keyed / ".locks" / (key + ".mounted");
}

bool ReadWhole(const fs::path& path, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1LL << 31)) {
    ::close(fd);
    return false;
  }
  out->resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out->size()) {
    const ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out->resize(done);
  return true;
}

void SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

bool ReadManifest(const fs::path& entry, Manifest* manifest, bool header_only, std::string* error) {
  std::string text;
  if (!ReadWhole(entry / kManifestName, &text)) {
    *error = "no readable manifest";
    return false;
  }
  return header_only ? ParseManifestHeader(text, manifest, error) : ParseManifest(text, manifest, error);
}

std::vector<std::string> Relatives(const std::vector<WorkspacePath>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.relative);
  return out;
}

std::uint64_t Inode(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_ino);
}

// Moves a restored temp tree into place at `target`, atomically when it can: exchange
// the two names, then remove what was there before.
std::string SwapIntoPlace(const fs::path& temp, const fs::path& target) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) {
    if (::rename(temp.c_str(), target.c_str()) == 0) return {};
    return "cannot move the restored tree to \"" + target.string() + "\": " + ErrnoText(errno);
  }
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    return RemoveTree(temp);  // now the old tree
  }
  // No RENAME_EXCHANGE on this file system: move the old tree aside first.
  const fs::path aside = target.parent_path() / (".kiln-old-" + UniqueSuffix());
  if (::rename(target.c_str(), aside.c_str()) != 0) {
    return "cannot move \"" + target.string() + "\" aside: " + ErrnoText(errno);
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int e = errno;
    ::rename(aside.c_str(), target.c_str());
    return "cannot move the restored tree to \"" + target.string() + "\": " + ErrnoText(e);
  }
  return RemoveTree(aside);
}

// The tree of path `slot` (entry_trees.hpp), unpacked from the pack now unless one made in
// this boot is there. Two restorers may unpack at once: the first to place its tree wins.
CopyStatus EnsureTree(const fs::path& keyed, const fs::path& entry, int pack, const Manifest& manifest,
                      const std::vector<std::uint64_t>& offsets, const std::string& slot, const CopyOptions& options,
                      fs::path* tree) {
  *tree = TreePath(entry, slot);
  if (CurrentTree(entry, slot, keyed / ".trash")) return {};
  const fs::path temp = keyed / ".tmp" / ("tree-" + UniqueSuffix());
  CopyStatus status = UnpackTree(pack, manifest.items, offsets, slot, temp, options);
  std::string error;
  if (status.ok() && !PlaceTree(entry, slot, temp, /*durable=*/false, &error) && !error.empty()) {
    status = CopyStatus{CopyStatus::Kind::io, error};
  }
  RemoveTree(temp);  // gone when placed; the loser's copy, or half a tree, otherwise
  return status;
}

// Mounts every present path of the entry as an overlay of its tree. `copy_instead` is set
// (and nothing is left mounted) when overlays cannot serve here; the status is not ok
// only for what would fail a copy too (a corrupt pack, cancellation, a workspace error).
CopyStatus MountTrees(const fs::path& keyed, const std::string& key, int pack, const Manifest& manifest,
                      const std::vector<WorkspacePath>& paths, const RestoreOptions& options,
                      std::string* copy_instead) {
  const fs::path entry = keyed / key;
  const std::vector<std::uint64_t> offsets = PackOffsets(manifest.items);
  std::vector<std::pair<fs::path, fs::path>> trees;  // lower, target
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!manifest.present[i]) continue;
    const std::string slot = std::to_string(i);
    const bool directory = std::any_of(manifest.items.begin(), manifest.items.end(), [&](const ManifestItem& item) {
      return item.path == slot && item.type == ManifestItem::Type::directory;
    });
    if (!directory) {
      *copy_instead = "\"" + paths[i].relative + "\" is not a directory";
      return {};
    }
    fs::path tree;
    CopyStatus status = EnsureTree(keyed, entry, pack, manifest, offsets, slot, options.copy, &tree);
    if (status.kind == CopyStatus::Kind::io) {  // the store's side (full, read-only): a copy may still do
      *copy_instead = status.message;
      return {};
    }
    if (!status.ok()) return status;
    trees.emplace_back(tree, paths[i].absolute);
  }
  std::vector<fs::path> mounted;
  auto undo = [&mounted] {
    for (const auto& target : mounted) {
      DetachMount(target);
      RemoveTree(target);
    }
  };
  for (const auto& [tree, target] : trees) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    std::string error = ec ? "cannot create \"" + target.parent_path().string() + "\": " + ec.message() : RemoveTree(target);
    if (!error.empty()) {
      undo();
      return CopyStatus{CopyStatus::Kind::io, error};
    }
    error = MountOverlay(tree, target, options.overlay_scratch / UniqueSuffix());
    if (error.empty()) {
      mounted.push_back(target);
      error = PinMountedEntry(MountedLockPath(keyed, key), target);
    }
    if (!error.empty()) {
      undo();
      *copy_instead = error;
      return {};
    }
  }
  return {};
}

// After a save: moves each saved directory into the entry as its tree and mounts an overlay
// of it back at its path, so the job sees the same files and the next restore finds the tree
// made. A path where that cannot be done (another file system, no overlays here) is left as
// it was; its tree is then unpacked by the first restore. True when every directory went.
bool KeepAsTrees(const fs::path& keyed, const std::string& key, const std::vector<WorkspacePath>& paths,
                 const Manifest& manifest, const SaveOptions& options) {
  const fs::path entry = keyed / key;
  bool all = true;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!manifest.present[i]) continue;
    const std::string slot = std::to_string(i);
    const fs::path& dir = paths[i].absolute;
    struct stat st {};
    std::string error;
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || CurrentTree(entry, slot, keyed / ".trash") ||
        !PlaceTree(entry, slot, dir, options.durable, &error)) {
      all = false;
      continue;
    }
    error = MountOverlay(TreePath(entry, slot), dir, options.overlay_scratch / UniqueSuffix());
    if (error.empty()) {
      error = PinMountedEntry(MountedLockPath(keyed, key), dir);
      if (!error.empty()) DetachMount(dir);
    }
    if (!error.empty()) {
      ::rmdir(dir.c_str());  // the empty mount point, if the mount got that far
      TakeBackTree(entry, slot, dir);
      all = false;
    }
  }
  return all;
}

}  // namespace

bool ResolveWorkspacePaths(const fs::path& workspace, const std::vector<std::string>& paths,
                           std::vector<WorkspacePath>* resolved, std::string* error) {
  resolved->clear();
  if (paths.empty()) {
    *error = "paths: must name at least one path";
    return false;
  }
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(workspace, ec), ec);
  for (const auto& path : paths) {
    WorkspacePath p;
    if (!ResolveInWorkspace(workspace, path, &p.absolute, error)) return false;
    p.relative = p.absolute.lexically_relative(root).generic_string();
    for (const auto& other : *resolved) {
      const auto& a = other.relative;
      const auto& b = p.relative;
      const bool nested = a == b || (b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '/') ||
                          (a.size() > b.size() && a.compare(0, b.size(), b) == 0 && a[b.size()] == '/');
      if (nested) {
        *error = "paths: \"" + Escape(other.relative) + "\" and \"" + Escape(p.relative) +
                 "\" overlap (name each tree once)";
        return false;
      }
    }
    resolved->push_back(std::move(p));
  }
  return true;
}

KeyedStore::KeyedStore(fs::path cache_root, std::string scope)
    : root_(std::move(cache_root)),
      scope_(std::move(scope)),
      keyed_(scope_.empty() ? root_ / "keyed" : root_ / "keyed" / scope_) {}

std::vector<std::string> KeyedStore::Scopes(const fs::path& cache_root) {
  std::vector<std::string> scopes;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(cache_root / "keyed", ec)) {
    const std::string name = item.path().filename().string();
    if (repository_scope::IsScopeName(name) && item.is_directory(ec) && !item.is_symlink(ec)) scopes.push_back(name);
  }
  std::sort(scopes.begin(), scopes.end());
  return scopes;
}

std::string KeyedStore::EnsureLayout() const {
  // Private to the worker: made 0700, and stores made before that are made so now.
  const fs::path top = root_ / "keyed";
  std::vector<fs::path> dirs = {top};
  if (keyed_ != top) dirs.push_back(keyed_);
  for (const char* sub : {".tmp", ".trash", ".locks"}) dirs.push_back(keyed_ / sub);
  std::error_code ec;
  fs::create_directories(root_, ec);
  for (const auto& dir : dirs) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return "cannot create \"" + dir.string() + "\": " + ErrnoText(errno);
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return "\"" + dir.string() + "\" is not a directory";
    }
    if ((st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
      return "cannot make \"" + dir.string() + "\" private: " + ErrnoText(errno);
    }
  }
  return {};
}

bool KeyedStore::CommitEntry(const std::string& key, const fs::path& temp, SaveOutcome* result) {
  SaveOutcome& outcome = *result;
  const fs::path entry = keyed_ / key;
  auto discard = [&temp] {
    RemoveTree(temp);
    return false;
  };
  // Commit: the first whole entry under a key wins; a broken one is replaced.
  KeyLock lock;
  std::string error;
  if (!lock.Acquire(keyed_ / ".locks" / (key + ".lock"), LOCK_EX, &error)) {
    outcome.message = error;
    return discard();
  }
  fs::path replaced;
  struct stat st {};
  if (::lstat(entry.c_str(), &st) == 0) {
    Manifest existing;
    std::string ignored;
    if (ReadManifest(entry, &existing, true, &ignored)) {
      outcome.kind = SaveOutcome::Kind::exists;
      outcome.bytes = existing.bytes;
      outcome.files = existing.files;
      outcome.message = "an entry with key \"" + key + "\" was saved meanwhile";
      return discard();
    }
    if (EntryPinned(MountedLockPath(keyed_, key))) {
      outcome.message = "the broken entry \"" + key + "\" is mounted by a running job; not replacing it now";
      return discard();
    }
    replaced = keyed_ / ".trash" / (key + "." + UniqueSuffix());
    if (::rename(entry.c_str(), replaced.c_str()) != 0) {
      outcome.message = "cannot move the broken entry \"" + entry.string() + "\" aside: " + ErrnoText(errno);
      return discard();
    }
  }
  if (::rename(temp.c_str(), entry.c_str()) != 0) {
    outcome.message = "cannot move \"" + temp.string() + "\" to \"" + entry.string() + "\": " + ErrnoText(errno);
    return discard();
  }
  SyncDirectory(keyed_);
  lock = KeyLock();
  if (!replaced.empty()) RemoveTree(replaced);
  return true;
}

SaveOutcome KeyedStore::Save(const std::string& key, const std::vector<WorkspacePath>& paths,
                             const SaveOptions& options) {
  SaveOutcome outcome;
  if (auto error = EnsureLayout(); !error.empty()) {
    outcome.message = error;
    return outcome;
  }
  const fs::path entry = keyed_ / key;
  const std::vector<std::string> relatives = Relatives(paths);
  {
    // A whole entry under this key already: keys are immutable, skip the copy.
    Manifest existing;
    std::string ignored;
    if (ReadManifest(entry, &existing, true, &ignored)) {
      outcome.kind = SaveOutcome::Kind::exists;
      outcome.bytes = existing.bytes;
      outcome.files = existing.files;
      outcome.message = "an entry with key \"" + key + "\" exists";
      return outcome;
    }
  }

  Manifest manifest;
  manifest.key = key;
  manifest.paths = relatives;
  bool any = false;
  for (const auto& p : paths) {
    struct stat st {};
    const bool present = ::lstat(p.absolute.c_str(), &st) == 0;
    manifest.present.push_back(present);
    any = any || present;
  }
  if (!any) {
    outcome.kind = SaveOutcome::Kind::nothing_to_save;
    outcome.message = "none of the paths exists";
    return outcome;
  }

  const fs::path temp = keyed_ / ".tmp" / (key + "." + UniqueSuffix());
  if (::mkdir(temp.c_str(), 0700) != 0) {
    outcome.message = "cannot create \"" + temp.string() + "\": " + ErrnoText(errno);
    return outcome;
  }
  auto discard = [&temp](SaveOutcome result) {
    RemoveTree(temp);
    return result;
  };
  const fs::path pack_path = temp / kPackName;
  const int pack = ::open(pack_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (pack < 0) {
    outcome.message = "cannot create \"" + pack_path.string() + "\": " + ErrnoText(errno);
    return discard(outcome);
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!manifest.present[i]) continue;
    const std::string slot = std::to_string(i);
    CopyStatus status = PackTree(paths[i].absolute, pack, &manifest.pack_size, slot, &manifest.items, options.copy);
    if (!status.ok()) {
      ::close(pack);
      outcome.kind = status.kind == CopyStatus::Kind::cancelled ? SaveOutcome::Kind::cancelled : SaveOutcome::Kind::failed;
      outcome.message = status.message;
      return discard(outcome);
    }
  }
  if (options.durable && ::fsync(pack) != 0) {
    outcome.message = "cannot flush \"" + pack_path.string() + "\": " + ErrnoText(errno);
    ::close(pack);
    return discard(outcome);
  }
  struct stat pack_stat {};
  ::fstat(pack, &pack_stat);
  if (::close(pack) != 0) {
    outcome.message = "cannot write \"" + pack_path.string() + "\": " + ErrnoText(errno);
    return discard(outcome);
  }
  manifest.pack_mtime_ns = static_cast<std::int64_t>(pack_stat.st_mtim.tv_sec) * 1000000000LL + pack_stat.st_mtim.tv_nsec;
  for (const auto& item : manifest.items) {
    if (item.type != ManifestItem::Type::file) continue;
    manifest.files += 1;
    manifest.bytes += item.size;
  }
  manifest.created_unix =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();

  // The manifest last: an entry without one (a crash before this line) is never trusted.
  if (auto error = WriteNewFile(temp / kManifestName, SerializeManifest(manifest), Flush::yes); !error.empty()) {
    outcome.message = error;
    return discard(outcome);
  }
  if (auto error = WriteNewFile(temp / kLastUsedName, "", Flush::yes); !error.empty()) {
    outcome.message = error;
    return discard(outcome);
  }
  SyncDirectory(temp);
  if (!CommitEntry(key, temp, &outcome)) return outcome;
  outcome.kind = SaveOutcome::Kind::saved;
  outcome.bytes = manifest.bytes;
  outcome.files = manifest.files;
  if (!options.overlay_scratch.empty()) {
    // Held while the trees are placed and pinned: eviction (exclusive, never waiting) skips.
    KeyLock shared;
    std::string ignored;
    if (shared.Acquire(keyed_ / ".locks" / (key + ".lock"), LOCK_SH, &ignored)) {
      outcome.kept_as_trees = KeepAsTrees(keyed_, key, paths, manifest, options);
    }
  }
  return outcome;
}

std::string KeyedStore::NewImportDir(fs::path* dir) {
  if (auto error = EnsureLayout(); !error.empty()) return error;
  *dir = keyed_ / ".tmp" / ("import-" + UniqueSuffix());
  if (::mkdir(dir->c_str(), 0700) != 0) return "cannot create \"" + dir->string() + "\": " + ErrnoText(errno);
  return {};
}

SaveOutcome KeyedStore::Adopt(const std::string& key, const fs::path& fetched) {
  SaveOutcome outcome;
  Manifest manifest;
  std::string error;
  if (!ReadManifest(fetched, &manifest, false, &error)) {
    outcome.message = "its manifest is not whole: " + error;
    RemoveTree(fetched);
    return outcome;
  }
  if (manifest.key != key) {
    outcome.message = "its manifest names the key \"" + manifest.key + "\"";
    RemoveTree(fetched);
    return outcome;
  }
  const fs::path pack = fetched / kPackName;
  struct stat st {};
  if (::lstat(pack.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) != manifest.pack_size) {
    outcome.message = "its pack is missing or not the size its manifest says";
    RemoveTree(fetched);
    return outcome;
  }
  // The pack's time is part of what the manifest vouches for (a pack written to after the
  // save is caught by it): give the fetched copy the time it had where it was saved.
  const struct timespec times[2] = {{0, UTIME_OMIT},
                                    {static_cast<time_t>(manifest.pack_mtime_ns / 1000000000LL),
                                     static_cast<long>(manifest.pack_mtime_ns % 1000000000LL)}};
  ::chmod(pack.c_str(), 0600);
  ::chmod((fetched / kManifestName).c_str(), 0600);
  if (::utimensat(AT_FDCWD, pack.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    outcome.message = "cannot set the time of \"" + pack.string() + "\": " + ErrnoText(errno);
    RemoveTree(fetched);
    return outcome;
  }
  if (auto write_error = WriteNewFile(fetched / kLastUsedName, "", Flush::yes); !write_error.empty()) {
    outcome.message = write_error;
    RemoveTree(fetched);
    return outcome;
  }
  // It came from the remote level: nothing to push back.
  if (auto write_error = WriteNewFile(fetched / kRemotePushedName, "", Flush::yes); !write_error.empty()) {
    outcome.message = write_error;
    RemoveTree(fetched);
    return outcome;
  }
  if (!CommitEntry(key, fetched, &outcome)) return outcome;
  outcome.kind = SaveOutcome::Kind::saved;
  outcome.bytes = manifest.bytes;
  outcome.files = manifest.files;
  return outcome;
}

bool KeyedStore::RemotePushed(const std::string& key) const {
  struct stat st {};
  return ::lstat((keyed_ / key / kRemotePushedName).c_str(), &st) == 0;
}

void KeyedStore::MarkRemotePushed(const std::string& key) const {
  const int fd = ::open((keyed_ / key / kRemotePushedName).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) ::close(fd);
}

RestoreOutcome KeyedStore::Restore(const std::string& key, const std::vector<std::string>& restore_keys,
                                   const std::vector<WorkspacePath>& paths, const RestoreOptions& restore_options) {
  const CopyOptions& options = restore_options.copy;
  RestoreOutcome outcome;
  std::error_code ec;
  if (!fs::is_directory(keyed_, ec)) return outcome;
  if (auto error = EnsureLayout(); !error.empty()) {
    outcome.warnings.push_back(error);
    return outcome;
  }
  const std::vector<std::string> relatives = Relatives(paths);
  ReleaseUnmountedPins();

  // Candidates in order: the key itself, then per prefix the newest entry first.
  std::vector<std::pair<std::string, RestoreOutcome::Hit>> candidates;
  std::set<std::string> seen;
  if (fs::is_directory(keyed_ / key, ec)) {
    candidates.emplace_back(key, RestoreOutcome::Hit::exact);
    seen.insert(key);
  }
  if (!restore_keys.empty()) {
    std::vector<std::string> names;
    for (const auto& item : fs::directory_iterator(keyed_, ec)) {
      const std::string name = item.path().filename().string();
      if (!name.empty() && name[0] != '.') names.push_back(name);
    }
    for (const auto& prefix : restore_keys) {
      std::vector<std::pair<std::int64_t, std::string>> matching;
      for (const auto& name : names) {
        if (name.compare(0, prefix.size(), prefix) == 0 && !seen.count(name)) {
          struct stat st {};
          const std::int64_t created = ::stat((keyed_ / name / kManifestName).c_str(), &st) == 0
                                           ? static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec
                                           : 0;
          matching.emplace_back(created, name);
        }
      }
      std::sort(matching.begin(), matching.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second > b.second;
      });
      for (auto& [created, name] : matching) {
        seen.insert(name);
        candidates.emplace_back(name, RestoreOutcome::Hit::prefix);
      }
    }
  }

  for (const auto& [candidate, hit] : candidates) {
    const fs::path entry = keyed_ / candidate;
    KeyLock lock;
    std::string error;
    if (!lock.Acquire(keyed_ / ".locks" / (candidate + ".lock"), LOCK_SH, &error)) {
      outcome.warnings.push_back("entry \"" + candidate + "\": " + error);
      continue;
    }
    const std::uint64_t inode = Inode(entry);
    if (inode == 0) continue;  // evicted meanwhile
    Manifest manifest;
    if (!ReadManifest(entry, &manifest, false, &error)) {
      outcome.warnings.push_back("entry \"" + candidate + "\" is broken (" + error + "); ignoring it");
      lock = KeyLock();
      Quarantine(candidate, inode, &outcome.warnings);
      continue;
    }
    if (manifest.paths != relatives) {
      outcome.warnings.push_back("entry \"" + candidate + "\" holds other paths; skipping it");
      continue;
    }
    // The pack must be as the save left it: same size, not written since.
    const int pack = ::open((entry / kPackName).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat pack_stat {};
    if (pack < 0 || ::fstat(pack, &pack_stat) != 0 ||
        static_cast<std::uint64_t>(pack_stat.st_size) != manifest.pack_size ||
        static_cast<std::int64_t>(pack_stat.st_mtim.tv_sec) * 1000000000LL + pack_stat.st_mtim.tv_nsec !=
            manifest.pack_mtime_ns) {
      if (pack >= 0) ::close(pack);
      outcome.warnings.push_back("entry \"" + candidate + "\" is broken (its pack is missing, cut short or " +
                                 "changed since it was saved); ignoring it");
      lock = KeyLock();
      Quarantine(candidate, inode, &outcome.warnings);
      continue;
    }
    // A path restored before in this job may be an overlay still: it goes either way.
    for (const auto& path : paths) DetachMount(path.absolute);
    CopyStatus status;
    if (!restore_options.overlay_scratch.empty()) {
      status = MountTrees(keyed_, candidate, pack, manifest, paths, restore_options, &outcome.copied_because);
      outcome.mounted = status.ok() && outcome.copied_because.empty();
    }
    const std::vector<std::uint64_t> offsets = PackOffsets(manifest.items);
    // Restore every path into a temp dir beside its target; swap them in only when all
    // are whole.
    std::vector<std::pair<fs::path, fs::path>> restored;  // temp, target
    for (std::size_t i = 0; i < paths.size() && status.ok() && !outcome.mounted; ++i) {
      if (!manifest.present[i]) continue;
      const fs::path& target = paths[i].absolute;
      fs::create_directories(target.parent_path(), ec);
      if (ec) {
        status = CopyStatus{CopyStatus::Kind::io, "cannot create \"" + target.parent_path().string() + "\": " + ec.message()};
        break;
      }
      const fs::path temp = target.parent_path() / (".kiln-restore-" + UniqueSuffix());
      restored.emplace_back(temp, target);
      status = UnpackTree(pack, manifest.items, offsets, std::to_string(i), temp, options);
    }
    ::close(pack);
    if (!status.ok()) {
      for (const auto& [temp, target] : restored) RemoveTree(temp);
      if (status.kind == CopyStatus::Kind::cancelled) {
        outcome.cancelled = true;
        return outcome;
      }
      if (status.kind == CopyStatus::Kind::corrupt) {
        outcome.warnings.push_back("entry \"" + candidate + "\" is broken (" + status.message + "); ignoring it");
        lock = KeyLock();
        Quarantine(candidate, inode, &outcome.warnings);
        continue;
      }
      // The workspace side failed (no space, no permission): another entry would too.
      outcome.warnings.push_back("restoring entry \"" + candidate + "\" failed: " + status.message);
      return outcome;
    }
    ::utimensat(AT_FDCWD, (entry / kLastUsedName).c_str(), nullptr, 0);
    lock = KeyLock();
    for (const auto& [temp, target] : restored) {
      if (auto swap_error = SwapIntoPlace(temp, target); !swap_error.empty()) {
        outcome.warnings.push_back(swap_error);
      }
    }
    outcome.hit = hit;
    outcome.matched_key = candidate;
    outcome.bytes = manifest.bytes;
    outcome.files = manifest.files;
    return outcome;
  }
  return outcome;
}

void KeyedStore::Quarantine(const std::string& key, std::uint64_t inode, std::vector<std::string>* warnings) {
  KeyLock lock;
  std::string error;
  if (!lock.Acquire(keyed_ / ".locks" / (key + ".lock"), LOCK_EX | LOCK_NB, &error)) return;  // in use
  const fs::path entry = keyed_ / key;
  if (Inode(entry) != inode) return;  // replaced by a new save meanwhile
  if (EntryPinned(MountedLockPath(keyed_, key))) return;  // a job's overlay still shows its tree
  const fs::path trash = keyed_ / ".trash" / (key + "." + UniqueSuffix());
  if (::rename(entry.c_str(), trash.c_str()) != 0) return;
  lock = KeyLock();
  if (auto remove_error = RemoveTree(trash); !remove_error.empty()) warnings->push_back(remove_error);
}

std::vector<KeyedStore::EntryInfo> KeyedStore::List() const {
  std::vector<EntryInfo> entries;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(keyed_, ec)) {
    const std::string name = item.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (scope_.empty() && repository_scope::IsScopeName(name)) continue;  // a scope, not an old entry
    EntryInfo info;
    info.key = name;
    Manifest manifest;
    std::string error;
    info.valid = ReadManifest(item.path(), &manifest, true, &error);
    info.bytes = manifest.bytes;
    info.files = manifest.files;
    std::uint64_t tree_bytes = 0, tree_files = 0;  // the unpacked trees take their own room
    TreeUsage(item.path() / "trees", &tree_bytes, &tree_files);
    info.bytes += tree_bytes;
    info.last_used_unix = ModifiedUnix(item.path() / kLastUsedName);
    if (info.last_used_unix == 0) info.last_used_unix = ModifiedUnix(item.path() / kManifestName);
    if (info.last_used_unix == 0) info.last_used_unix = ModifiedUnix(item.path());
    entries.push_back(std::move(info));
  }
  return entries;
}

bool KeyedStore::Evict(const std::string& key, std::string* error) {
  if (auto layout_error = EnsureLayout(); !layout_error.empty()) {
    *error = layout_error;
    return false;
  }
  const fs::path lock_path = keyed_ / ".locks" / (key + ".lock");
  KeyLock lock;
  if (!lock.Acquire(lock_path, LOCK_EX | LOCK_NB, error)) return false;
  const fs::path entry = keyed_ / key;
  ReleaseUnmountedPins();
  if (EntryPinned(MountedLockPath(keyed_, key))) return false;  // a running job has its tree mounted
  ::unlink(MountedLockPath(keyed_, key).c_str());  // no new pin while we hold the key's lock
  const fs::path trash = keyed_ / ".trash" / (key + "." + UniqueSuffix());
  if (::rename(entry.c_str(), trash.c_str()) != 0 && errno != ENOENT) {
    *error = "cannot move \"" + entry.string() + "\" to the trash: " + ErrnoText(errno);
    return false;
  }
  lock.Unlink(lock_path);
  lock = KeyLock();
  *error = RemoveTree(trash);
  return error->empty();
}

void KeyedStore::CleanLeftovers(std::int64_t older_than_seconds) {
  std::error_code ec;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& item : fs::directory_iterator(keyed_ / ".tmp", ec)) {
    if (now - ModifiedUnix(item.path()) >= older_than_seconds) RemoveTree(item.path());
  }
  // Trash is removed by whoever put it there; what is left is from a crash.
  for (const auto& item : fs::directory_iterator(keyed_ / ".trash", ec)) {
    if (now - ModifiedUnix(item.path()) >= older_than_seconds) RemoveTree(item.path());
  }
}

}  // namespace kiln::cache

#include "tree_copy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>
#include <thread>

#include "safe_paths.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string ErrnoText(int error) { return std::error_code(error, std::generic_category()).message(); }

CopyStatus Fail(CopyStatus::Kind kind, std::string message) { return CopyStatus{kind, std::move(message)}; }

std::int64_t Nanoseconds(const struct timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

struct timespec Timespec(std::int64_t ns) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(ns / 1000000000LL);
  ts.tv_nsec = static_cast<long>(ns % 1000000000LL);
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000L;
    ts.tv_sec -= 1;
  }
  return ts;
}

// One file to copy: where from, where to (relative to the two root directory fds), and
// the manifest item it fills (save) or must match (restore).
struct FileJob {
  std::string src;
  std::string dst;
  std::size_t item;
};

struct Plan {
  int src_root = -1;
  int dst_root = -1;
  fs::path src_root_path;  // for messages
  fs::path dst_root_path;
  bool verify = false;  // restore: the source must match the item
};

CopyStatus CopyBytes(int in, int out, std::uint64_t expected, bool verify, std::uint64_t* copied,
                     std::vector<char>* buffer, bool* source_short) {
  bool kernel_copy = true;
  *copied = 0;
  *source_short = false;
  while (true) {
    ssize_t n;
    if (kernel_copy) {
      n = ::copy_file_range(in, nullptr, out, nullptr, std::size_t{1} << 30, 0);
      if (n < 0 && *copied == 0 &&
          (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM)) {
        kernel_copy = false;
        continue;
      }
    } else {
      if (buffer->empty()) buffer->resize(256 * 1024);
      n = ::read(in, buffer->data(), buffer->size());
      if (n > 0) {
        std::size_t written = 0;
        while (written < static_cast<std::size_t>(n)) {
          const ssize_t w = ::write(out, buffer->data() + written, static_cast<std::size_t>(n) - written);
          if (w < 0) {
            if (errno == EINTR) continue;
            return Fail(CopyStatus::Kind::io, ErrnoText(errno));
          }
          written += static_cast<std::size_t>(w);
        }
      }
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(CopyStatus::Kind::io, ErrnoText(errno));
    }
    if (n == 0) break;
    *copied += static_cast<std::uint64_t>(n);
    if (verify && *copied > expected) break;
  }
  if (verify && *copied != expected) *source_short = true;
  return {};
}

// `expected` is the manifest's word on the file (restore); `filled` receives what was
// copied (save) and is null when restoring.
CopyStatus CopyOneFile(const Plan& plan, const FileJob& job, const ManifestItem& expected, ManifestItem* filled,
                       std::vector<char>* buffer) {
  const ManifestItem* item = &expected;
  Fd in(::openat(plan.src_root, job.src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (in.get() < 0) {
    const int error = errno;
    return Fail(plan.verify ? CopyStatus::Kind::corrupt : CopyStatus::Kind::io,
                "cannot open \"" + Escape((plan.src_root_path / job.src).string()) + "\": " + ErrnoText(error));
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Fail(plan.verify ? CopyStatus::Kind::corrupt : CopyStatus::Kind::io,
                "\"" + Escape((plan.src_root_path / job.src).string()) + "\" is no longer a regular file");
  }
  if (plan.verify && (static_cast<std::uint64_t>(st.st_size) != item->size || Nanoseconds(st.st_mtim) != item->mtime_ns)) {
    return Fail(CopyStatus::Kind::corrupt, "\"" + Escape((plan.src_root_path / job.src).string()) +
                                               "\" does not match the manifest (size " + std::to_string(st.st_size) +
                                               ", expected " + std::to_string(item->size) + ")");
  }
  Fd out(::openat(plan.dst_root, job.dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) {
    return Fail(CopyStatus::Kind::io,
                "cannot create \"" + Escape((plan.dst_root_path / job.dst).string()) + "\": " + ErrnoText(errno));
  }
  std::uint64_t copied = 0;
  bool source_short = false;
  CopyStatus status = CopyBytes(in.get(), out.get(), item->size, plan.verify, &copied, buffer, &source_short);
  if (!status.ok()) {
    status.message = "copying \"" + Escape((plan.src_root_path / job.src).string()) + "\" to \"" +
                     Escape((plan.dst_root_path / job.dst).string()) + "\": " + status.message;
    return status;
  }
  if (source_short) {
    return Fail(CopyStatus::Kind::corrupt, "\"" + Escape((plan.src_root_path / job.src).string()) +
                                               "\" has " + std::to_string(copied) + " bytes, the manifest says " +
                                               std::to_string(item->size));
  }
  const std::uint32_t mode = plan.verify ? item->mode : static_cast<std::uint32_t>(st.st_mode & 07777);
  const std::int64_t mtime = plan.verify ? item->mtime_ns : Nanoseconds(st.st_mtim);
  struct timespec times[2] = {{0, UTIME_NOW}, Timespec(mtime)};
  if (::fchmod(out.get(), mode) != 0 || ::futimens(out.get(), times) != 0) {
    return Fail(CopyStatus::Kind::io, "setting mode and time of \"" +
                                          Escape((plan.dst_root_path / job.dst).string()) + "\": " + ErrnoText(errno));
  }
  if (filled != nullptr) {
    filled->mode = mode;
    filled->size = copied;
    filled->mtime_ns = mtime;
  }
  return {};
}

// Copies the files of `jobs` on `threads` threads. The calling thread copies too, and is
// the only one that polls `cancelled` (a StepContext belongs to the step's thread).
// `filled` is the save's item list (written), null when restoring from `items`.
CopyStatus RunFileJobs(const Plan& plan, const std::vector<FileJob>& jobs, const std::vector<ManifestItem>& items,
                       std::vector<ManifestItem>* filled, const CopyOptions& options) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  CopyStatus first_error;
  auto work = [&](bool polls_cancel) {
    std::vector<char> buffer;
    std::size_t done = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= jobs.size()) break;
      if (polls_cancel && (++done % 64) == 0 && options.cancelled && options.cancelled()) {
        std::lock_guard lock(mutex);
        if (first_error.ok()) first_error = Fail(CopyStatus::Kind::cancelled, "cancelled");
        stop = true;
        break;
      }
      const std::size_t index = jobs[i].item;
      CopyStatus status =
          CopyOneFile(plan, jobs[i], items[index], filled == nullptr ? nullptr : &(*filled)[index], &buffer);
      if (!status.ok()) {
        std::lock_guard lock(mutex);
        if (first_error.ok()) first_error = std::move(status);
        stop = true;
      }
    }
  };
  const unsigned threads = CopyThreads(options.threads);
  // Below a few hundred files, starting threads costs more than it saves.
  const unsigned helpers = jobs.size() < 256 ? 0 : threads - 1;
  std::vector<std::thread> pool;
  pool.reserve(helpers);
  try {
    for (unsigned t = 0; t < helpers; ++t) pool.emplace_back(work, false);
  } catch (const std::system_error&) {
    // No more threads: the ones started and this one finish the work.
  }
  work(true);
  for (auto& thread : pool) thread.join();
  return first_error;
}

// After the contents: directories get their own mode and time, deepest first.
CopyStatus FinishDirectories(const Plan& plan, const std::vector<std::pair<std::string, std::size_t>>& dirs,
                             const std::vector<ManifestItem>& items) {
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    const ManifestItem& item = items[it->second];
    struct timespec times[2] = {{0, UTIME_NOW}, Timespec(item.mtime_ns)};
    if (::fchmodat(plan.dst_root, it->first.c_str(), item.mode, 0) != 0 ||
        ::utimensat(plan.dst_root, it->first.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return Fail(CopyStatus::Kind::io, "setting mode and time of \"" +
                                            Escape((plan.dst_root_path / it->first).string()) + "\": " +
                                            ErrnoText(errno));
    }
  }
  return {};
}

CopyStatus MakeDirectory(const Plan& plan, const std::string& dst) {
  if (::mkdirat(plan.dst_root, dst.c_str(), 0700) != 0) {
    return Fail(CopyStatus::Kind::io,
                "cannot create \"" + Escape((plan.dst_root_path / dst).string()) + "\": " + ErrnoText(errno));
  }
  return {};
}

CopyStatus MakeSymlink(const Plan& plan, const std::string& dst, const std::string& target) {
  if (::symlinkat(target.c_str(), plan.dst_root, dst.c_str()) != 0) {
    return Fail(CopyStatus::Kind::io,
                "cannot create symlink \"" + Escape((plan.dst_root_path / dst).string()) + "\": " + ErrnoText(errno));
  }
  return {};
}

bool ReadLink(int dirfd, const char* name, std::string* target) {
  std::string buffer(256, '\0');
  while (true) {
    const ssize_t n = ::readlinkat(dirfd, name, buffer.data(), buffer.size());
    if (n < 0) return false;
    if (static_cast<std::size_t>(n) < buffer.size()) {
      buffer.resize(static_cast<std::size_t>(n));
      *target = std::move(buffer);
      return true;
    }
    buffer.resize(buffer.size() * 2);
  }
}

// Save: walks the source directory `src` (relative to plan.src_root), creating its
// directories and symlinks at `dst` as it goes and collecting the files to copy.
CopyStatus WalkAndCreate(const Plan& plan, const std::string& src, const std::string& dst, const std::string& path,
                         std::vector<ManifestItem>* items, std::vector<FileJob>* jobs,
                         std::vector<std::pair<std::string, std::size_t>>* dirs, const CopyOptions& options) {
  Fd fd(::openat(plan.src_root, src.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    return Fail(CopyStatus::Kind::io,
                "cannot open \"" + Escape((plan.src_root_path / src).string()) + "\": " + ErrnoText(errno));
  }
  ManifestItem dir_item;
  dir_item.type = ManifestItem::Type::directory;
  dir_item.path = path;
  dir_item.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  dir_item.mtime_ns = Nanoseconds(st.st_mtim);
  items->push_back(std::move(dir_item));
  dirs->emplace_back(dst, items->size() - 1);
  if (CopyStatus status = MakeDirectory(plan, dst); !status.ok()) return status;
  if (options.cancelled && options.cancelled()) return Fail(CopyStatus::Kind::cancelled, "cancelled");

  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) {
    return Fail(CopyStatus::Kind::io,
                "cannot read \"" + Escape((plan.src_root_path / src).string()) + "\": " + ErrnoText(errno));
  }
  const int dir_fd = fd.release();
  std::vector<std::pair<std::string, unsigned char>> children;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat child {};
      if (::fstatat(dir_fd, entry->d_name, &child, AT_SYMLINK_NOFOLLOW) == 0) {
        type = S_ISDIR(child.st_mode) ? DT_DIR : S_ISREG(child.st_mode) ? DT_REG : S_ISLNK(child.st_mode) ? DT_LNK : DT_UNKNOWN;
      }
    }
    if (type == DT_LNK) {
      std::string target;
      if (!ReadLink(dir_fd, entry->d_name, &target)) continue;  // vanished meanwhile
      ManifestItem link;
      link.type = ManifestItem::Type::symlink;
      link.path = path + "/" + std::string(name);
      link.target = std::move(target);
      if (CopyStatus status = MakeSymlink(plan, dst + "/" + std::string(name), link.target); !status.ok()) {
        ::closedir(dir);
        return status;
      }
      items->push_back(std::move(link));
    } else if (type == DT_DIR || type == DT_REG) {
      children.emplace_back(std::string(name), type);
    }
  }
  ::closedir(dir);  // closes dir_fd; keeps open descriptors at one per level at most

  for (auto& [name, type] : children) {
    const std::string child_src = src + "/" + name;
    const std::string child_dst = dst + "/" + name;
    const std::string child_path = path + "/" + name;
    if (type == DT_DIR) {
      CopyStatus status = WalkAndCreate(plan, child_src, child_dst, child_path, items, jobs, dirs, options);
      if (!status.ok()) return status;
    } else {
      ManifestItem file;
      file.type = ManifestItem::Type::file;
      file.path = child_path;
      items->push_back(std::move(file));
      jobs->push_back(FileJob{child_src, child_dst, items->size() - 1});
    }
  }
  return {};
}

Fd OpenDirectory(const fs::path& path) {
  return Fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

std::string RemoveAt(int parent, const std::string& name, const fs::path& shown) {
  if (::unlinkat(parent, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM && errno != EACCES) {
    return "cannot remove \"" + shown.string() + "\": " + ErrnoText(errno);
  }
  Fd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return {};
    return "cannot remove \"" + shown.string() + "\": " + ErrnoText(errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && (st.st_mode & 0700) != 0700) ::fchmod(fd.get(), (st.st_mode & 07777) | 0700);
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) return "cannot read \"" + shown.string() + "\": " + ErrnoText(errno);
  const int dir_fd = fd.release();
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string_view child = entry->d_name;
    if (child != "." && child != "..") names.emplace_back(child);
  }
  std::string error;
  for (const auto& child : names) {
    error = RemoveAt(dir_fd, child, shown / child);
    if (!error.empty()) break;
  }
  ::closedir(dir);
  if (!error.empty()) return error;
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return "cannot remove \"" + shown.string() + "\": " + ErrnoText(errno);
  }
  return {};
}

void UsageAt(int dir_fd, std::uint64_t* bytes, std::uint64_t* files) {
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    ::close(dir_fd);
    return;
  }
  std::vector<std::string> subdirs;
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      *bytes += static_cast<std::uint64_t>(st.st_size);
      *files += 1;
    } else if (S_ISDIR(st.st_mode)) {
      subdirs.emplace_back(name);
    }
  }
  for (const auto& name : subdirs) {
    const int child = ::openat(::dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child >= 0) UsageAt(child, bytes, files);
  }
  ::closedir(dir);
}

}  // namespace

void TreeUsage(const fs::path& path, std::uint64_t* bytes, std::uint64_t* files) {
  *bytes = 0;
  *files = 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) UsageAt(fd, bytes, files);
}

unsigned CopyThreads(unsigned requested) {
  if (requested > 0) return requested;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min(4u, cores);
}

CopyStatus SaveTree(const fs::path& source, const fs::path& destination, const std::string& slot,
                    std::vector<ManifestItem>* items, const CopyOptions& options) {
  Fd src_root = OpenDirectory(source.parent_path());
  Fd dst_root = OpenDirectory(destination.parent_path());
  if (src_root.get() < 0 || dst_root.get() < 0) {
    return Fail(CopyStatus::Kind::io, "cannot open the parent of \"" +
                                          Escape((src_root.get() < 0 ? source : destination).string()) + "\": " +
                                          ErrnoText(errno));
  }
  Plan plan{src_root.get(), dst_root.get(), source.parent_path(), destination.parent_path(), false};
  const std::string src = source.filename().string();
  const std::string dst = destination.filename().string();

  struct stat st {};
  if (::fstatat(plan.src_root, src.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Fail(CopyStatus::Kind::io, "cannot read \"" + Escape(source.string()) + "\": " + ErrnoText(errno));
  }
  std::vector<FileJob> jobs;
  std::vector<std::pair<std::string, std::size_t>> dirs;
  if (S_ISLNK(st.st_mode)) {
    ManifestItem link;
    link.type = ManifestItem::Type::symlink;
    link.path = slot;
    if (!ReadLink(plan.src_root, src.c_str(), &link.target)) {
      return Fail(CopyStatus::Kind::io, "cannot read symlink \"" + Escape(source.string()) + "\"");
    }
    if (CopyStatus status = MakeSymlink(plan, dst, link.target); !status.ok()) return status;
    items->push_back(std::move(link));
    return {};
  }
  if (S_ISREG(st.st_mode)) {
    ManifestItem file;
    file.type = ManifestItem::Type::file;
    file.path = slot;
    items->push_back(std::move(file));
    jobs.push_back(FileJob{src, dst, items->size() - 1});
  } else if (S_ISDIR(st.st_mode)) {
    CopyStatus status = WalkAndCreate(plan, src, dst, slot, items, &jobs, &dirs, options);
    if (!status.ok()) return status;
  } else {
    return Fail(CopyStatus::Kind::io, "\"" + Escape(source.string()) + "\" is not a file, directory or symlink");
  }
  if (CopyStatus status = RunFileJobs(plan, jobs, *items, items, options); !status.ok()) return status;
  return FinishDirectories(plan, dirs, *items);
}

CopyStatus RestoreTree(const fs::path& data_dir, const std::vector<ManifestItem>& items, const std::string& slot,
                       const fs::path& destination, const CopyOptions& options) {
  Fd src_root = OpenDirectory(data_dir);
  if (src_root.get() < 0) {
    return Fail(CopyStatus::Kind::corrupt, "cannot open \"" + Escape(data_dir.string()) + "\": " + ErrnoText(errno));
  }
  Fd dst_root = OpenDirectory(destination.parent_path());
  if (dst_root.get() < 0) {
    return Fail(CopyStatus::Kind::io,
                "cannot open \"" + Escape(destination.parent_path().string()) + "\": " + ErrnoText(errno));
  }
  Plan plan{src_root.get(), dst_root.get(), data_dir, destination.parent_path(), true};
  const std::string dst_top = destination.filename().string();
  const std::string slot_prefix = slot + "/";

  std::vector<FileJob> jobs;
  std::vector<std::pair<std::string, std::size_t>> dirs;
  std::size_t done = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const ManifestItem& item = items[i];
    if (item.path != slot && item.path.compare(0, slot_prefix.size(), slot_prefix) != 0) continue;
    const std::string dst = dst_top + item.path.substr(slot.size());
    if ((++done % 256) == 0 && options.cancelled && options.cancelled()) {
      return Fail(CopyStatus::Kind::cancelled, "cancelled");
    }
    switch (item.type) {
      case ManifestItem::Type::directory:
        if (CopyStatus status = MakeDirectory(plan, dst); !status.ok()) return status;
        dirs.emplace_back(dst, i);
        break;
      case ManifestItem::Type::symlink:
        if (CopyStatus status = MakeSymlink(plan, dst, item.target); !status.ok()) return status;
        break;
      case ManifestItem::Type::file:
        jobs.push_back(FileJob{item.path, dst, i});
        break;
    }
  }
  if (CopyStatus status = RunFileJobs(plan, jobs, items, nullptr, options); !status.ok()) return status;
  return FinishDirectories(plan, dirs, items);
}

std::string RemoveTree(const fs::path& path) {
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  Fd fd = OpenDirectory(parent);
  if (fd.get() < 0) {
    if (errno == ENOENT) return {};
    return "cannot open \"" + parent.string() + "\": " + ErrnoText(errno);
  }
  return RemoveAt(fd.get(), path.filename().string(), path);
}

}  // namespace kiln::cache

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

#include "errno_text.hpp"
#include "open_beneath.hpp"
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

// Moves `size` bytes (or, when `size` is unknown, everything up to the end of `in`)
// between explicit offsets; `*in_off`/`*out_off` may be null to use the file position.
// Falls back to pread/pwrite where the kernel cannot copy between the two files.
// Returns the bytes moved, or -1 with errno set.
long long MoveBytes(int in, loff_t* in_off, int out, loff_t* out_off, std::uint64_t size, bool until_eof) {
  std::uint64_t moved = 0;
  bool kernel_copy = true;
  std::vector<char> buffer;
  while (until_eof || moved < size) {
    const std::size_t want = until_eof ? (std::size_t{1} << 30) : static_cast<std::size_t>(size - moved);
    ssize_t n;
    if (kernel_copy) {
      n = ::copy_file_range(in, in_off, out, out_off, want, 0);
      if (n < 0 && moved == 0 &&
          (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM)) {
        kernel_copy = false;
        continue;
      }
    } else {
      if (buffer.empty()) buffer.resize(256 * 1024);
      const std::size_t chunk = std::min(want, buffer.size());
      n = in_off ? ::pread(in, buffer.data(), chunk, *in_off) : ::read(in, buffer.data(), chunk);
      if (n > 0) {
        if (in_off) *in_off += n;
        std::size_t written = 0;
        while (written < static_cast<std::size_t>(n)) {
          const ssize_t w = out_off ? ::pwrite(out, buffer.data() + written, static_cast<std::size_t>(n) - written, *out_off)
                                    : ::write(out, buffer.data() + written, static_cast<std::size_t>(n) - written);
          if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
          }
          if (out_off) *out_off += w;
          written += static_cast<std::size_t>(w);
        }
      }
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    moved += static_cast<std::uint64_t>(n);
  }
  return static_cast<long long>(moved);
}

// Creating an item of a restored tree: its parent is opened beneath the destination
// (open_beneath.hpp), so a symlink the entry planted earlier is never passed through.
CopyStatus MakeDirectory(int root, const fs::path& root_path, const std::string& dst) {
  std::string name;
  Fd parent(OpenParentBeneath(root, dst, &name));
  if (parent.get() < 0 || ::mkdirat(parent.get(), name.c_str(), 0700) != 0) {
    return Fail(CopyStatus::Kind::io,
                "cannot create \"" + Escape((root_path / dst).string()) + "\": " + ErrnoText(errno));
  }
  return {};
}

CopyStatus MakeSymlink(int root, const fs::path& root_path, const std::string& dst, const std::string& target) {
  std::string name;
  Fd parent(OpenParentBeneath(root, dst, &name));
  if (parent.get() < 0 || ::symlinkat(target.c_str(), parent.get(), name.c_str()) != 0) {
    return Fail(CopyStatus::Kind::io,
                "cannot create symlink \"" + Escape((root_path / dst).string()) + "\": " + ErrnoText(errno));
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

// A file to pack: its path relative to the source root, and its item.
struct PackJob {
  std::string src;
  std::size_t item;
};

// Walks the directory `src` (relative to `src_root`), adding its items (parents first)
// and the files to pack.
CopyStatus Walk(int src_root, const fs::path& src_root_path, const std::string& src, const std::string& path,
                std::vector<ManifestItem>* items, std::vector<PackJob>* jobs, const CopyOptions& options) {
  Fd fd(OpenBeneath(src_root, src, O_RDONLY | O_DIRECTORY));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    return Fail(CopyStatus::Kind::io,
                "cannot open \"" + Escape((src_root_path / src).string()) + "\": " + ErrnoText(errno));
  }
  ManifestItem dir_item;
  dir_item.type = ManifestItem::Type::directory;
  dir_item.path = path;
  dir_item.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  dir_item.mtime_ns = Nanoseconds(st.st_mtim);
  items->push_back(std::move(dir_item));
  if (options.cancelled && options.cancelled()) return Fail(CopyStatus::Kind::cancelled, "cancelled");

  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) {
    return Fail(CopyStatus::Kind::io,
                "cannot read \"" + Escape((src_root_path / src).string()) + "\": " + ErrnoText(errno));
  }
  const int dir_fd = fd.release();
  std::vector<std::pair<std::string, unsigned char>> children;
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
      ManifestItem link;
      link.type = ManifestItem::Type::symlink;
      link.path = path + "/" + std::string(name);
      if (!ReadLink(dir_fd, entry->d_name, &link.target)) continue;  // vanished meanwhile
      items->push_back(std::move(link));
    } else if (type == DT_DIR || type == DT_REG) {
      children.emplace_back(std::string(name), type);
    }
  }
  ::closedir(dir);  // closes dir_fd: one open descriptor per level at most

  // Sorted, so that the same tree packs the same way.
  std::sort(children.begin(), children.end());
  for (auto& [name, type] : children) {
    if (type == DT_DIR) {
      CopyStatus status = Walk(src_root, src_root_path, src + "/" + name, path + "/" + name, items, jobs, options);
      if (!status.ok()) return status;
    } else {
      ManifestItem file;
      file.type = ManifestItem::Type::file;
      file.path = path + "/" + name;
      items->push_back(std::move(file));
      jobs->push_back(PackJob{src + "/" + name, items->size() - 1});
    }
  }
  return {};
}

// Packs the files one after the other on this thread: the pack is written sequentially,
// which is what a disk (and the page cache's writeback) likes best.
CopyStatus PackFiles(int src_root, const fs::path& src_root_path, const std::vector<PackJob>& jobs, int pack_fd,
                     std::uint64_t* pack_size, std::vector<ManifestItem>* items, const CopyOptions& options) {
  std::size_t done = 0;
  for (const PackJob& job : jobs) {
    if ((++done % 64) == 0 && options.cancelled && options.cancelled()) {
      return Fail(CopyStatus::Kind::cancelled, "cancelled");
    }
    const fs::path shown = src_root_path / job.src;
    // Beneath the saved tree's parent, following no symlink: a directory swapped for a link
    // since the walk is not followed. O_NONBLOCK: a file replaced by a FIFO must not hang us.
    Fd in(OpenBeneath(src_root, job.src, O_RDONLY | O_NONBLOCK));
    struct stat st {};
    const bool opened = in.get() >= 0 && ::fstat(in.get(), &st) == 0;
    if (!opened || !S_ISREG(st.st_mode)) {
      if (!opened && errno != ENOENT && errno != ELOOP) {
        return Fail(CopyStatus::Kind::io, "cannot open \"" + Escape(shown.string()) + "\": " + ErrnoText(errno));
      }
      (*items)[job.item].path.clear();  // removed or replaced since the walk: leave it out
      continue;
    }
    loff_t out_off = static_cast<loff_t>(*pack_size);
    const long long moved = MoveBytes(in.get(), nullptr, pack_fd, &out_off, 0, true);
    if (moved < 0) {
      return Fail(CopyStatus::Kind::io, "packing \"" + Escape(shown.string()) + "\": " + ErrnoText(errno));
    }
    ManifestItem& item = (*items)[job.item];
    item.size = static_cast<std::uint64_t>(moved);
    item.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
    item.mtime_ns = Nanoseconds(st.st_mtim);
    *pack_size += item.size;
  }
  // Files that vanished between walk and pack have an empty path: drop them.
  items->erase(std::remove_if(items->begin(), items->end(), [](const ManifestItem& i) { return i.path.empty(); }),
               items->end());
  return {};
}

// A file to unpack: its item, where it starts in the pack, where it goes.
struct UnpackJob {
  std::size_t item;
  std::uint64_t offset;
  std::string dst;
};

constexpr std::size_t kSmallFile = 128 * 1024;

CopyStatus UnpackFile(int pack_fd, int dst_root, const fs::path& dst_root_path, const UnpackJob& job,
                      const ManifestItem& item, std::vector<char>* buffer) {
  const fs::path shown = dst_root_path / job.dst;
  Fd out(OpenBeneath(dst_root, job.dst, O_WRONLY | O_CREAT | O_EXCL, 0600));
  if (out.get() < 0) {
    return Fail(CopyStatus::Kind::io, "cannot create \"" + Escape(shown.string()) + "\": " + ErrnoText(errno));
  }
  loff_t in_off = static_cast<loff_t>(job.offset);
  long long moved;
  if (buffer != nullptr && item.size <= kSmallFile) {
    // Small files: one pread and one write beat copy_file_range's per-call set-up
    // (without reflinks the kernel splices through a pipe).
    moved = ::pread(pack_fd, buffer->data(), item.size, in_off);
    if (moved == static_cast<long long>(item.size) && item.size > 0) {
      std::size_t written = 0;
      while (written < item.size) {
        const ssize_t w = ::write(out.get(), buffer->data() + written, item.size - written);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          moved = -1;
          break;
        }
        written += static_cast<std::size_t>(w);
      }
    }
  } else {
    moved = MoveBytes(pack_fd, &in_off, out.get(), nullptr, item.size, false);
  }
  if (moved < 0) {
    return Fail(CopyStatus::Kind::io, "writing \"" + Escape(shown.string()) + "\": " + ErrnoText(errno));
  }
  if (static_cast<std::uint64_t>(moved) != item.size) {
    return Fail(CopyStatus::Kind::corrupt, "the pack ends inside \"" + Escape(item.path) + "\"");
  }
  struct timespec times[2] = {{0, UTIME_NOW}, Timespec(item.mtime_ns)};
  if (::fchmod(out.get(), item.mode) != 0 || ::futimens(out.get(), times) != 0) {
    return Fail(CopyStatus::Kind::io,
                "setting mode and time of \"" + Escape(shown.string()) + "\": " + ErrnoText(errno));
  }
  return {};
}

// Unpacks on `threads` threads; the calling thread works too and is the only one that
// polls `cancelled` (a StepContext belongs to the step's thread).
CopyStatus UnpackFiles(int pack_fd, int dst_root, const fs::path& dst_root_path, const std::vector<UnpackJob>& jobs,
                       const std::vector<ManifestItem>& items, const CopyOptions& options) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  CopyStatus first_error;
  auto work = [&](bool polls_cancel) {
    std::size_t done = 0;
    std::vector<char> buffer(kSmallFile);
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= jobs.size()) break;
      if (polls_cancel && (++done % 64) == 0 && options.cancelled && options.cancelled()) {
        std::lock_guard lock(mutex);
        if (first_error.ok()) first_error = Fail(CopyStatus::Kind::cancelled, "cancelled");
        stop = true;
        break;
      }
      CopyStatus status = UnpackFile(pack_fd, dst_root, dst_root_path, jobs[i], items[jobs[i].item], &buffer);
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

std::vector<std::uint64_t> PackOffsets(const std::vector<ManifestItem>& items) {
  std::vector<std::uint64_t> offsets(items.size(), 0);
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].type != ManifestItem::Type::file) continue;
    offsets[i] = offset;
    offset += items[i].size;
  }
  return offsets;
}

CopyStatus PackTree(const fs::path& source, int pack_fd, std::uint64_t* pack_size, const std::string& slot,
                    std::vector<ManifestItem>* items, const CopyOptions& options) {
  const fs::path parent = source.parent_path();
  Fd src_root = OpenDirectory(parent);
  if (src_root.get() < 0) {
    return Fail(CopyStatus::Kind::io, "cannot open \"" + Escape(parent.string()) + "\": " + ErrnoText(errno));
  }
  const std::string src = source.filename().string();
  struct stat st {};
  if (::fstatat(src_root.get(), src.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Fail(CopyStatus::Kind::io, "cannot read \"" + Escape(source.string()) + "\": " + ErrnoText(errno));
  }
  std::vector<PackJob> jobs;
  if (S_ISLNK(st.st_mode)) {
    ManifestItem link;
    link.type = ManifestItem::Type::symlink;
    link.path = slot;
    if (!ReadLink(src_root.get(), src.c_str(), &link.target)) {
      return Fail(CopyStatus::Kind::io, "cannot read symlink \"" + Escape(source.string()) + "\"");
    }
    items->push_back(std::move(link));
    return {};
  }
  if (S_ISREG(st.st_mode)) {
    ManifestItem file;
    file.type = ManifestItem::Type::file;
    file.path = slot;
    items->push_back(std::move(file));
    jobs.push_back(PackJob{src, items->size() - 1});
  } else if (S_ISDIR(st.st_mode)) {
    CopyStatus status = Walk(src_root.get(), parent, src, slot, items, &jobs, options);
    if (!status.ok()) return status;
  } else {
    return Fail(CopyStatus::Kind::io, "\"" + Escape(source.string()) + "\" is not a file, directory or symlink");
  }
  return PackFiles(src_root.get(), parent, jobs, pack_fd, pack_size, items, options);
}

CopyStatus UnpackTree(int pack_fd, const std::vector<ManifestItem>& items, const std::vector<std::uint64_t>& offsets,
                      const std::string& slot, const fs::path& destination, const CopyOptions& options) {
  const fs::path parent = destination.parent_path();
  Fd dst_root = OpenDirectory(parent);
  if (dst_root.get() < 0) {
    return Fail(CopyStatus::Kind::io, "cannot open \"" + Escape(parent.string()) + "\": " + ErrnoText(errno));
  }
  const std::string dst_top = destination.filename().string();
  const std::string slot_prefix = slot + "/";
  std::vector<UnpackJob> jobs;
  std::vector<std::pair<std::string, std::size_t>> dirs;
  std::size_t done = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const ManifestItem& item = items[i];
    if (item.path != slot && item.path.compare(0, slot_prefix.size(), slot_prefix) != 0) continue;
    std::string dst = dst_top + item.path.substr(slot.size());
    if ((++done % 256) == 0 && options.cancelled && options.cancelled()) {
      return Fail(CopyStatus::Kind::cancelled, "cancelled");
    }
    switch (item.type) {
      case ManifestItem::Type::directory:
        if (CopyStatus status = MakeDirectory(dst_root.get(), parent, dst); !status.ok()) return status;
        dirs.emplace_back(std::move(dst), i);
        break;
      case ManifestItem::Type::symlink:
        if (CopyStatus status = MakeSymlink(dst_root.get(), parent, dst, item.target); !status.ok()) return status;
        break;
      case ManifestItem::Type::file:
        jobs.push_back(UnpackJob{i, offsets[i], std::move(dst)});
        break;
    }
  }
  if (CopyStatus status = UnpackFiles(pack_fd, dst_root.get(), parent, jobs, items, options); !status.ok()) {
    return status;
  }
  // Directories get their own mode and time after their contents, deepest first.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    const ManifestItem& item = items[it->second];
    struct timespec times[2] = {{0, UTIME_NOW}, Timespec(item.mtime_ns)};
    Fd dir(OpenBeneath(dst_root.get(), it->first, O_RDONLY | O_DIRECTORY));
    if (dir.get() < 0 || ::fchmod(dir.get(), item.mode) != 0 || ::futimens(dir.get(), times) != 0) {
      return Fail(CopyStatus::Kind::io, "setting mode and time of \"" + Escape((parent / it->first).string()) +
                                            "\": " + ErrnoText(errno));
    }
  }
  return {};
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

#include "process/process_cgroup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace kiln {

namespace {

namespace fs = std::filesystem;

// The cgroup2 mount point, from /proc/self/mountinfo ("... - cgroup2 ..."); empty if none.
std::string Cgroup2Mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    if (root == "/") return mount_point;
  }
  return {};
}

// This process's cgroup v2 path ("0::/a/b" in /proc/self/cgroup).
std::string OwnCgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return {};
}

bool WriteText(const std::string& file, const char* text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text, std::strlen(text)) == static_cast<ssize_t>(std::strlen(text));
  ::close(fd);
  return ok;
}

std::vector<pid_t> Members(const std::string& cgroup) {
  std::vector<pid_t> out;
  std::ifstream in(cgroup + "/cgroup.procs");
  long pid = 0;
  while (in >> pid) out.push_back(static_cast<pid_t>(pid));
  return out;
}

// SIGKILLs everything in `cgroup` and waits up to 2 s for it to empty.
void KillCgroup(const std::string& cgroup) {
  if (Members(cgroup).empty()) return;
  if (!WriteText(cgroup + "/cgroup.kill", "1")) {
    // Before Linux 5.14: freeze (no fork can race the kill), kill each member, thaw.
    WriteText(cgroup + "/cgroup.freeze", "1");
    for (pid_t pid : Members(cgroup)) ::kill(pid, SIGKILL);
    WriteText(cgroup + "/cgroup.freeze", "0");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!Members(cgroup).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void RemoveCgroup(const std::string& cgroup) {
  for (int i = 0; i < 20 && ::rmdir(cgroup.c_str()) != 0 && errno == EBUSY; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// kiln's subtree for this process, made once: <mount><own cgroup>/kiln.<pid>.
struct KilnSubtree {
  pid_t owner = ::getpid();
  std::string base;  // the directory holding every kiln.<pid>
  std::string path;  // ours; empty when cgroups cannot be used
  std::string note;
  std::atomic<unsigned> next{0};

  KilnSubtree() {
    const std::string mount = Cgroup2Mount();
    const std::string own = OwnCgroup();
    if (mount.empty() || own.empty()) {
      note = "cgroup v2 is not mounted: step processes are bounded by their process group only";
      return;
    }
    base = (fs::path(mount) / fs::path(own).relative_path()).lexically_normal().string();
    if (!base.empty() && base.back() == '/') base.pop_back();
    std::string mine = base + "/kiln." + std::to_string(::getpid());
    if (::mkdir(mine.c_str(), 0755) != 0 && errno != EEXIST) {
      note = "cannot create " + mine + " (" + std::strerror(errno) +
             "): step processes are bounded by their process group only";
      return;
    }
    path = mine;
    note = "each step process runs in its own cgroup under " + path;
  }
  ~KilnSubtree() {
    if (!path.empty() && owner == ::getpid()) ::rmdir(path.c_str());
  }
};

// This process's subtree. A forked child that runs processes itself (a test, a helper)
// gets its own, so its steps are not filed under its parent's pid.
KilnSubtree& Subtree() {
  static std::mutex mutex;
  static std::unique_ptr<KilnSubtree> subtree;
  std::lock_guard lock(mutex);
  if (!subtree || subtree->owner != ::getpid()) {
    if (subtree) (void)subtree.release();  // the parent's: not ours to remove
    subtree = std::make_unique<KilnSubtree>();
    spdlog::debug("process runner: {}", subtree->note);
  }
  return *subtree;
}

}  // namespace

ProcessCgroup::ProcessCgroup(std::string path) : path_(std::move(path)), procs_file_(path_ + "/cgroup.procs") {}

std::unique_ptr<ProcessCgroup> ProcessCgroup::Create() {
  KilnSubtree& subtree = Subtree();
  if (subtree.path.empty()) return nullptr;
  std::string path = subtree.path + "/run-" + std::to_string(subtree.next.fetch_add(1));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return nullptr;
  return std::unique_ptr<ProcessCgroup>(new ProcessCgroup(std::move(path)));
}

ProcessCgroup::~ProcessCgroup() {
  KillCgroup(path_);
  RemoveCgroup(path_);
}

void ProcessCgroup::KillAll() { KillCgroup(path_); }

std::string CgroupAvailabilityNote() { return Subtree().note; }

int SweepAbandonedCgroups() {
  KilnSubtree& subtree = Subtree();
  if (subtree.path.empty()) return 0;
  int swept = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(subtree.base, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("kiln.", 0) != 0 || !entry.is_directory()) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + 5, &end, 10);
    if (end == nullptr || *end != '\0' || pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // its kiln still lives
    std::error_code inner;
    for (const auto& run : fs::directory_iterator(entry.path(), inner)) {
      if (!run.is_directory()) continue;
      KillCgroup(run.path().string());
      RemoveCgroup(run.path().string());
    }
    RemoveCgroup(entry.path().string());
    ++swept;
  }
  return swept;
}

}  // namespace kiln

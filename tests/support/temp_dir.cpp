#include "support/temp_dir.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "workspace/mounts_under.hpp"

namespace kiln::testing {

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
  // Searchable (not listable) by others: the job sandbox's processes run as an unprivileged
  // uid, which must be able to reach a workspace below this directory, as on a real machine
  // (/var/lib/kiln/work).
  ::chmod(path_.c_str(), 0711);
}

TempDir::~TempDir() {
  std::error_code ec;
  UnmountEverythingUnder(path_.string());  // what a test mounted (a cache restore's overlay)
  std::filesystem::remove_all(path_, ec);
  if (ec) {
    // Files made read-only by a test (git objects, image layers) need their mode back first.
    Shell("chmod -R u+rwX '" + path_.string() + "' 2>/dev/null; rm -rf '" + path_.string() + "'");
  }
}

void WriteFile(const std::filesystem::path& path, const std::string& content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << content;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int Shell(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer{};
  std::string collected;
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) collected.append(buffer.data(), n);
  int status = ::pclose(pipe);
  if (output) *output = std::move(collected);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace kiln::testing

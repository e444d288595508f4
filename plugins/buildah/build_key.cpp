#include "build_key.hpp"

#include "text.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <system_error>

#include "kiln/sha256.hpp"

namespace kiln::buildah {
namespace fs = std::filesystem;

namespace {

bool IsIgnored(const std::string& relative, const std::vector<std::string>& ignored) {
  for (const std::string& path : ignored) {
    if (relative == path || (relative.size() > path.size() && relative.compare(0, path.size(), path) == 0 &&
                             relative[path.size()] == '/')) {
      return true;
    }
  }
  return false;
}

// Every field with its length first, so that no choice of names (a file name may hold a
// newline) makes two different inputs give the same stream.
void Put(Sha256& hash, std::string_view kind, std::string_view text) {
  hash.Update(std::string(kind) + " " + std::to_string(text.size()) + ":");
  hash.Update(text);
}

// One record per entry, sorted by path; a file's contents follow its record.
bool HashTree(const fs::path& root, const std::vector<std::string>& ignored, Sha256& hash, std::string* error) {
  std::vector<std::string> entries;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string relative = fs::relative(it->path(), root, ec).generic_string();
    if (ec) break;
    if (IsIgnored(relative, ignored)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    entries.push_back(relative);
  }
  if (ec) {
    *error = "cannot read the context " + root.string() + ": " + ec.message();
    return false;
  }
  std::sort(entries.begin(), entries.end());
  std::vector<char> buffer(1 << 16);
  for (const std::string& relative : entries) {
    const fs::path path = root / relative;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      *error = "cannot read " + path.string();
      return false;
    }
    const std::string mode = std::to_string(st.st_mode & 07777);
    if (S_ISREG(st.st_mode)) {
      Put(hash, "file", relative);
      Put(hash, "mode", mode);
      Put(hash, "size", std::to_string(st.st_size));
      std::ifstream in(path, std::ios::binary);
      std::streamsize total = 0;
      while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        hash.Update(buffer.data(), static_cast<std::size_t>(in.gcount()));
        total += in.gcount();
      }
      if (total != st.st_size) {
        *error = "cannot read " + path.string() + " (changed while being read?)";
        return false;
      }
    } else if (S_ISDIR(st.st_mode)) {
      Put(hash, "dir", relative);
      Put(hash, "mode", mode);
    } else if (S_ISLNK(st.st_mode)) {
      Put(hash, "link", relative);
      Put(hash, "to", fs::read_symlink(path, ec).string());
    } else {
      Put(hash, "other", relative);
      Put(hash, "mode", std::to_string(st.st_mode));
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> PlainIgnoredPaths(const fs::path& context) {
  std::vector<std::string> lines;
  for (const char* name : {".dockerignore", ".containerignore"}) {
    std::ifstream in(context / name);
    for (std::string line; std::getline(in, line);) lines.push_back(Trim(line));
  }
  std::vector<std::string> paths;
  for (std::string line : lines) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '!') return {};  // exceptions re-include paths: interpret nothing
    while (line.rfind("./", 0) == 0) line.erase(0, 2);
    while (!line.empty() && line.front() == '/') line.erase(0, 1);
    while (!line.empty() && line.back() == '/') line.pop_back();
    if (line.empty() || line.find_first_of("*?[\\") != std::string::npos || line == "." ||
        line.find("..") != std::string::npos || line.find("//") != std::string::npos) {
      continue;
    }
    paths.push_back(line);
  }
  return paths;
}

std::string BuildKey(const BuildKeyInputs& inputs, std::string* error) {
  Sha256 hash;
  Put(hash, "kiln buildah build key", "1");
  Put(hash, "dockerfile", fs::relative(inputs.dockerfile, inputs.context).generic_string());
  Put(hash, "target", inputs.target);
  for (const auto& [name, value] : inputs.build_args) {
    Put(hash, "arg", name);
    Put(hash, "value", value);
  }
  for (const auto& [name, value] : inputs.labels) {
    Put(hash, "label", name);
    Put(hash, "value", value);
  }
  for (const auto& [name, id] : inputs.base_images) {
    Put(hash, "base", name);
    Put(hash, "id", id);
  }
  for (const auto& setting : inputs.settings) Put(hash, "setting", setting);
  Put(hash, "context", "");
  if (!HashTree(inputs.context, PlainIgnoredPaths(inputs.context), hash, error)) return {};
  return hash.HexDigest();
}

}  // namespace kiln::buildah

#include "run_mounts.hpp"

#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>

namespace kiln::buildah {
namespace {

std::vector<std::string> SplitOn(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  while (true) {
    std::size_t end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) return parts;
    begin = end + 1;
  }
}

bool HasDotDotComponent(const std::string& path) {
  for (const std::string& component : SplitOn(path, '/')) {
    if (component == "..") return true;
  }
  return false;
}

bool HasControlOrBackslash(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return c < 0x20 || c == 0x7f || c == '\\'; });
}

/// The options each type takes, after `src`, `dst` and `destination` are renamed.
const std::map<std::string, std::set<std::string>>& KnownOptions() {
  static const std::map<std::string, std::set<std::string>> known = {
      {"bind", {"type", "source", "target", "from", "ro", "readonly", "rw", "readwrite"}},
      {"cache",
       {"type", "id", "source", "target", "from", "sharing", "mode", "uid", "gid", "ro", "readonly", "rw",
        "readwrite"}},
      {"tmpfs", {"type", "target", "size", "tmpfs-size", "mode", "tmpfs-mode"}},
      {"secret", {"type", "id", "target", "required", "mode", "uid", "gid"}},
  };
  return known;
}

std::string CanonicalKey(const std::string& key) {
  if (key == "src") return "source";
  if (key == "dst" || key == "destination") return "target";
  return key;
}

/// Checks one option's value; "" when fine.
std::string CheckValue(const std::string& type, const std::string& key, const std::string& value) {
  static const std::regex kNumber("[0-9]{1,10}");
  static const std::regex kOctal("0?[0-7]{1,4}");
  static const std::regex kSize("[0-9]{1,12}[kKmMgG]?[bB]?");
  static const std::regex kBool("|true|false");
  if (value.find('$') != std::string::npos && key != "from") {
    return "a variable in '" + key + "' cannot be checked before buildah expands it";
  }
  if (key == "id" || key == "source") {
    const char* what = key == "id" ? (type == "cache" ? "a cache id names a directory on the host"
                                                      : "a secret id names a file on the host")
                                   : "a source names a path in the build context or the stage it is taken from";
    if (value.empty()) return std::string("'") + key + "' is empty";
    if (value.front() == '/') return "'" + key + "' is an absolute path (" + what + ": write it relative)";
    if (HasDotDotComponent(value)) return "'" + key + "' has a '..' component (" + what + ", and must stay inside it)";
    if (HasControlOrBackslash(value)) return "'" + key + "' has a backslash or control character";
    return {};
  }
  if (key == "target") {
    if (value.empty() || value.front() != '/') return "'target' must be an absolute path in the container";
    if (HasDotDotComponent(value)) return "'target' has a '..' component";
    if (HasControlOrBackslash(value)) return "'target' has a backslash or control character";
    return {};
  }
  if (key == "from") {
    if (value.empty()) return "'from' is empty";
    if (value.front() == '-') return "'from' begins with '-'";
    if (HasControlOrBackslash(value)) return "'from' has a backslash or control character";
    return {};
  }
  if (key == "sharing") {
    if (value != "shared" && value != "private" && value != "locked") {
      return "'sharing' must be shared, private or locked";
    }
    return {};
  }
  if (key == "uid" || key == "gid") return std::regex_match(value, kNumber) ? "" : "'" + key + "' must be a number";
  if (key == "mode" || key == "tmpfs-mode") {
    return std::regex_match(value, kOctal) ? "" : "'" + key + "' must be an octal mode";
  }
  if (key == "size" || key == "tmpfs-size") {
    return std::regex_match(value, kSize) ? "" : "'" + key + "' must be a size";
  }
  if (key == "ro" || key == "readonly" || key == "rw" || key == "readwrite" || key == "required") {
    return std::regex_match(value, kBool) ? "" : "'" + key + "' must be true, false or nothing";
  }
  return {};
}

std::string ReadMount(const std::string& spec, RunMount& mount) {
  if (spec.empty()) return "--mount has no options";
  if (spec.find_first_of("\"'") != std::string::npos) {
    return "--mount=" + spec + ": quotes are not accepted (kiln cannot tell how buildah splits them)";
  }
  std::map<std::string, std::string> options;
  for (const std::string& part : SplitOn(spec, ',')) {
    if (part.empty()) return "--mount=" + spec + ": an empty option";
    auto eq = part.find('=');
    std::string key = CanonicalKey(part.substr(0, eq));
    std::string value = eq == std::string::npos ? std::string() : part.substr(eq + 1);
    if (!options.emplace(key, value).second) return "--mount=" + spec + ": option '" + key + "' given twice";
  }
  mount.type = options.count("type") ? options.at("type") : "bind";
  auto known = KnownOptions().find(mount.type);
  if (known == KnownOptions().end()) {
    return "--mount=" + spec + ": type '" + mount.type + "' is not accepted (kiln accepts bind, cache, tmpfs and secret)";
  }
  for (const auto& [key, value] : options) {
    if (!known->second.count(key)) {
      return "--mount=" + spec + ": option '" + key + "' is not one kiln accepts for type " + mount.type;
    }
    if (std::string error = CheckValue(mount.type, key, value); !error.empty()) return "--mount=" + spec + ": " + error;
  }
  if (mount.type != "secret" && !options.count("target")) return "--mount=" + spec + ": no target";
  mount.options = std::move(options);
  return {};
}

}  // namespace

std::string ReadRunFlags(const std::string& rest, std::vector<RunMount>& mounts) {
  std::istringstream in(rest);
  for (std::string word; in >> word;) {
    if (word.rfind("--", 0) != 0) break;  // the command begins
    if (word.rfind("--mount=", 0) != 0) {
      return "flag " + word.substr(0, word.find('=')) + " is not accepted (kiln accepts only --mount=...)";
    }
    RunMount mount;
    if (std::string error = ReadMount(word.substr(8), mount); !error.empty()) return error;
    mounts.push_back(std::move(mount));
  }
  return {};
}

int CountMountWords(const std::string& text) {
  std::string lowered = AsciiLower(text);
  int count = 0;
  for (std::size_t at = lowered.find("--mount"); at != std::string::npos; at = lowered.find("--mount", at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace kiln::buildah

#include "step_args.hpp"

#include <algorithm>
#include <cctype>

#include <git2.h>

#include "libgit2_handles.hpp"

namespace kiln::git {
namespace {

std::string Where(std::string_view step, std::string_view name) {
  return "git." + std::string(step) + ": argument '" + std::string(name) + "'";
}

}  // namespace

std::string CheckArgumentNames(std::string_view step, const nlohmann::json& args,
                               std::initializer_list<std::string_view> known) {
  if (!args.is_object()) return "git." + std::string(step) + ": arguments must be a table";
  for (const auto& [key, value] : args.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (auto name : known) list += (list.empty() ? "" : ", ") + std::string(name);
      return "git." + std::string(step) + ": unknown argument '" + key + "' (known: " + list + ")";
    }
  }
  return {};
}

std::string RequireString(std::string_view step, const nlohmann::json& args, const char* name, std::string* out) {
  if (!args.contains(name) || args[name].is_null()) return Where(step, name) + " is required";
  if (!args[name].is_string()) return Where(step, name) + " must be a string";
  *out = args[name].get<std::string>();
  return {};
}

std::string OptionalString(std::string_view step, const nlohmann::json& args, const char* name, std::string* out) {
  if (!args.contains(name) || args[name].is_null()) return {};
  if (!args[name].is_string()) return Where(step, name) + " must be a string";
  *out = args[name].get<std::string>();
  return {};
}

std::string OptionalBool(std::string_view step, const nlohmann::json& args, const char* name, bool* out) {
  if (!args.contains(name) || args[name].is_null()) return {};
  if (!args[name].is_boolean()) return Where(step, name) + " must be true or false";
  *out = args[name].get<bool>();
  return {};
}

std::string ParseUrlArgument(std::string_view step, const std::string& text, RepoUrl* url) {
  std::string why;
  auto parsed = RepoUrl::Parse(text, &why);
  if (!parsed) return "malformed URL: " + Where(step, "url") + ": " + why;
  *url = *parsed;
  return {};
}

std::string ParseCommitArgument(std::string_view step, const std::string& text, std::string* commit) {
  const bool hex = std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c); });
  if (text.size() != 40 || !hex) {
    return Where(step, "commit") + " must be a full commit id (40 hex digits), got '" + text.substr(0, 64) + "'";
  }
  commit->resize(text.size());
  std::transform(text.begin(), text.end(), commit->begin(), [](unsigned char c) { return std::tolower(c); });
  return {};
}

std::string ParseRelativePath(std::string_view step, const char* name, const std::string& text,
                              std::filesystem::path* path) {
  if (text.empty() || text.front() == '/') return Where(step, name) + " must be a relative path";
  std::filesystem::path result;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('/', start);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return Where(step, name) + " must not have empty, '.' or '..' components";
    }
    if (std::any_of(part.begin(), part.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
      return Where(step, name) + " must not hold control characters";
    }
    result /= part;
    start = end + 1;
  }
  *path = result;
  return {};
}

std::string ParseRefArgument(std::string_view step, const std::string& text, std::string* full_ref,
                             std::string* branch) {
  EnsureLibgit2();
  std::string full = text.rfind("refs/", 0) == 0 ? text : "refs/heads/" + text;
  int valid = 0;
  if (text.empty() || git_reference_name_is_valid(&valid, full.c_str()) != 0 || !valid) {
    return Where(step, "ref") + " is not a valid ref name: '" + text.substr(0, 200) + "'";
  }
  *full_ref = full;
  branch->clear();
  if (full.rfind("refs/heads/", 0) == 0) *branch = full.substr(11);
  return {};
}

}  // namespace kiln::git

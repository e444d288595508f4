#include "image_naming.hpp"

#include <ctime>
#include <regex>

namespace kiln::buildah {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsSeparator(char c) { return c == '.' || c == '_' || c == '-'; }

std::string StringAt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return (it != object.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

/// One path component of a repository: lower case, [a-z0-9] runs joined by single
/// separators, nothing at the ends but [a-z0-9].
std::string SanitizeComponent(std::string_view text) {
  std::string out;
  for (char raw : text) {
    char c = ToLower(raw);
    if (IsLowerAlnum(c)) {
      out += c;
    } else if (!out.empty() && !IsSeparator(out.back())) {
      out += IsSeparator(c) ? c : '-';
    }
  }
  while (!out.empty() && IsSeparator(out.back())) out.pop_back();
  return out;
}

}  // namespace

std::string SanitizeTag(std::string_view text) {
  std::string out;
  for (char raw : text) {
    char c = ToLower(raw);
    bool keep = IsLowerAlnum(c) || c == '_' || c == '.' || c == '-';
    if (!keep) c = '-';
    if (out.empty() && (c == '.' || c == '-')) continue;  // a tag starts with [a-z0-9_]
    if (c == '-' && !out.empty() && out.back() == '-') continue;
    out += c;
  }
  if (out.size() > 128) out.resize(128);
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  return out;
}

bool IsValidTag(std::string_view tag) {
  static const std::regex kTag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(tag.begin(), tag.end(), kTag);
}

bool IsValidRepository(std::string_view repository) {
  static const std::regex kDomain(
      "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
      "(?::[0-9]+)?");
  static const std::regex kComponent("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  if (repository.empty() || repository.size() > 255) return false;
  std::vector<std::string> parts;
  std::string current;
  for (char c : repository) {
    if (c == '/') {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  std::size_t first = 0;
  // containers/image treats the first component as a registry host when it has a '.' or
  // a ':' or is "localhost", and there is more than one component.
  if (parts.size() > 1 && (parts[0].find_first_of(".:") != std::string::npos || parts[0] == "localhost")) {
    if (!std::regex_match(parts[0], kDomain)) return false;
    first = 1;
  }
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (!std::regex_match(parts[i], kComponent)) return false;
  }
  return true;
}

std::string RepositoryPathForJob(const nlohmann::json& job) {
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& repo = job.is_object() && job.contains("repo") ? job.at("repo") : empty;
  std::string name = StringAt(repo, "name");
  if (name.empty()) {
    // The URL's last two path components: https://host/acme/shop.git, git@host:acme/shop.
    std::string url = StripUrlCredentials(StringAt(repo, "url"));
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.size() > 4 && url.compare(url.size() - 4, 4, ".git") == 0) url.resize(url.size() - 4);
    auto scheme = url.find("://");
    std::string path = scheme == std::string::npos ? url : url.substr(scheme + 3);
    if (scheme != std::string::npos) {
      auto slash = path.find('/');
      path = slash == std::string::npos ? std::string() : path.substr(slash + 1);
    } else if (auto colon = path.find(':'); colon != std::string::npos) {
      path = path.substr(colon + 1);  // scp-like git@host:owner/repo
    }
    auto last = path.rfind('/');
    if (last != std::string::npos && last > 0) {
      auto before = path.rfind('/', last - 1);
      name = path.substr(before == std::string::npos ? 0 : before + 1);
    } else {
      name = path;
    }
  }
  std::string out;
  std::string component;
  auto flush = [&] {
    std::string clean = SanitizeComponent(component);
    if (!clean.empty()) out += (out.empty() ? "" : "/") + clean;
    component.clear();
  };
  for (char c : name) {
    if (c == '/') {
      flush();
    } else {
      component += c;
    }
  }
  flush();
  return out;
}

std::string ExpandRepository(std::string_view pattern, const nlohmann::json& job, std::string& error) {
  std::string out(pattern);
  if (auto at = out.find("{repo}"); at != std::string::npos) {
    std::string path = RepositoryPathForJob(job);
    if (path.empty()) {
      error = "the job names no repository (job.repo.name or job.repo.url) to fill '{repo}' in '" +
              std::string(pattern) + "'";
      return {};
    }
    out.replace(at, 6, path);
  }
  if (!IsValidRepository(out)) {
    error = "'" + out + "' is not a valid image repository";
    return {};
  }
  return out;
}

std::vector<std::string> TagsForJob(const nlohmann::json& job) {
  std::vector<std::string> tags;
  std::string commit = StringAt(job, "commit");
  if (!commit.empty()) {
    std::string short_id = SanitizeTag(commit.substr(0, 12));
    if (!short_id.empty()) tags.push_back(short_id);
  }
  std::string branch = SanitizeTag(StringAt(job, "branch"));
  if (!branch.empty() && (tags.empty() || tags.front() != branch)) tags.push_back(branch);
  return tags;
}

std::string RefuseOptionLikeName(std::string_view what, std::string_view name) {
  if (name.empty() || name.front() != '-') return {};
  return std::string(what) + ": '" + std::string(name) + "' begins with '-', which buildah would read as an option";
}

std::string StripUrlCredentials(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  auto authority_begin = scheme + 3;
  auto authority_end = url.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  auto at = url.rfind('@', authority_end);
  if (at == std::string_view::npos || at < authority_begin) return std::string(url);
  return std::string(url.substr(0, authority_begin)) + std::string(url.substr(at + 1));
}

std::string Rfc3339Utc(std::chrono::system_clock::time_point when) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::map<std::string, std::string> OciLabelsForJob(const nlohmann::json& job,
                                                   std::chrono::system_clock::time_point now) {
  std::map<std::string, std::string> labels;
  labels["org.opencontainers.image.created"] = Rfc3339Utc(now);
  if (std::string commit = StringAt(job, "commit"); !commit.empty()) {
    labels["org.opencontainers.image.revision"] = commit;
  }
  if (job.is_object() && job.contains("repo")) {
    if (std::string url = StringAt(job.at("repo"), "url"); !url.empty()) {
      labels["org.opencontainers.image.source"] = StripUrlCredentials(url);
    }
  }
  return labels;
}

}  // namespace kiln::buildah

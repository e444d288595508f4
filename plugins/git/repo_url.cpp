#include "repo_url.hpp"

#include "ascii_lower.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace kiln::git {
namespace {

bool IsKnownScheme(std::string_view scheme) {
  return scheme == "https" || scheme == "http" || scheme == "ssh" || scheme == "git" || scheme == "file";
}

bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.front() == '[') {  // IPv6 literal
    if (host.back() != ']') return false;
    return std::all_of(host.begin() + 1, host.end() - 1,
                       [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
  }
  if (host.front() == '-' || host.front() == '.') return false;
  return std::all_of(host.begin(), host.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_'; });
}

// Splits "/a/b/c" into its non-empty components; false when one is "." or "..".
bool SplitPath(std::string_view path, std::vector<std::string>* parts) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "." || part == "..") return false;
    if (!part.empty()) parts->emplace_back(part);
    start = end + 1;
  }
  return true;
}

std::string SafeComponent(std::string_view part) {
  std::string out;
  for (unsigned char c : part) out += (std::isalnum(c) || c == '.' || c == '_' || c == '-') ? char(c) : '_';
  if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
  return out;
}

std::uint32_t Fnv1a(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

// The checks every form shares. Messages never quote the URL: it may hold a password.
bool CheckCharacters(std::string_view text, std::string* error) {
  if (text.empty()) return Fail(error, "the URL is empty");
  if (text.front() == '-') return Fail(error, "the URL starts with '-'");
  for (unsigned char c : text) {
    if (c < 0x21 || c == 0x7f) return Fail(error, "the URL contains a space or a control character");
  }
  return true;
}

}  // namespace

std::optional<RepoUrl> RepoUrl::Parse(std::string_view text, std::string* error) {
  if (!CheckCharacters(text, error)) return std::nullopt;
  RepoUrl url;
  std::string_view rest;
  const std::size_t scheme_end = text.find("://");
  const std::size_t first_colon = text.find(':');
  const std::size_t first_slash = text.find('/');
  if (scheme_end != std::string_view::npos && scheme_end == first_colon) {
    url.scheme = AsciiLower(text.substr(0, scheme_end));
    if (!IsKnownScheme(url.scheme)) {
      Fail(error, "unsupported scheme '" + url.scheme + "' (use https, http, ssh, git or file)");
      return std::nullopt;
    }
    rest = text.substr(scheme_end + 3);
  } else if (text.front() == '/') {
    url.scheme = "file";
    url.path = std::string(text);
  } else if (first_colon != std::string_view::npos && first_colon > 0 &&
             (first_slash == std::string_view::npos || first_colon < first_slash)) {
    // scp-like: [user@]host:path
    url.scheme = "ssh";
    url.scp_like = true;
    std::string_view authority = text.substr(0, first_colon);
    std::string_view path = text.substr(first_colon + 1);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
      url.user = std::string(authority.substr(0, at));
      authority = authority.substr(at + 1);
    }
    url.host = AsciiLower(authority);
    url.path = path.empty() || path.front() != '/' ? "/" + std::string(path) : std::string(path);
  } else {
    Fail(error, "not a URL (expected scheme://host/path, user@host:path or an absolute path)");
    return std::nullopt;
  }

  if (!rest.empty() || (url.path.empty() && !url.scp_like)) {
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    url.path = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      authority = authority.substr(at + 1);
      if (const auto colon = userinfo.find(':'); colon != std::string_view::npos) {
        url.user = std::string(userinfo.substr(0, colon));
        url.password = std::string(userinfo.substr(colon + 1));
      } else {
        url.user = std::string(userinfo);
      }
    }
    // host[:port]; an IPv6 literal keeps its brackets.
    std::string_view host = authority;
    if (const auto close = authority.rfind(']'); !authority.empty() && authority.front() == '[') {
      if (close == std::string_view::npos) {
        Fail(error, "unterminated IPv6 address in the host");
        return std::nullopt;
      }
      host = authority.substr(0, close + 1);
      authority = authority.substr(close + 1);
      if (!authority.empty() && authority.front() != ':') {
        Fail(error, "unexpected text after the IPv6 address");
        return std::nullopt;
      }
      if (!authority.empty()) authority = authority.substr(1);
      else authority = {};
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      authority = authority.substr(colon + 1);
    } else {
      authority = {};
    }
    if (!authority.empty()) {
      int port = 0;
      auto [end, ec] = std::from_chars(authority.data(), authority.data() + authority.size(), port);
      if (ec != std::errc() || end != authority.data() + authority.size() || port < 1 || port > 65535) {
        Fail(error, "bad port '" + std::string(authority) + "'");
        return std::nullopt;
      }
      url.port = port;
    }
    url.host = AsciiLower(host);
  }

  if (url.scheme == "file") {
    if (!url.host.empty() && url.host != "localhost") {
      Fail(error, "a file URL cannot name a host ('" + url.host + "')");
      return std::nullopt;
    }
    url.host.clear();
    if (!url.user.empty() || url.port != 0) {
      Fail(error, "a file URL cannot carry a user or a port");
      return std::nullopt;
    }
  } else if (!ValidHost(url.host)) {
    Fail(error, url.host.empty() ? std::string("the URL has no host") : "bad host '" + url.host + "'");
    return std::nullopt;
  }
  std::vector<std::string> parts;
  if (!SplitPath(url.path, &parts)) {
    Fail(error, "the path has '.' or '..' components");
    return std::nullopt;
  }
  if (parts.empty()) {
    Fail(error, "the URL names no repository path");
    return std::nullopt;
  }
  if (url.scheme != "https" && url.scheme != "http" && !url.password.empty()) {
    Fail(error, "a password in the URL is only accepted for https and http");
    return std::nullopt;
  }
  return url;
}

std::string RepoUrl::clean() const {
  if (scheme == "file") return "file://" + path;
  std::string host_port = host;
  if (port != 0) host_port += ":" + std::to_string(port);
  const std::string user_at = user.empty() ? std::string() : user + "@";
  if (scp_like) return user_at + host_port + ":" + path.substr(1);
  return scheme + "://" + user_at + host_port + path;
}

std::string RepoUrl::host_key() const {
  if (port == 0) return host;
  return host + ":" + std::to_string(port);
}

std::filesystem::path RepoUrl::mirror_relative_path() const {
  std::vector<std::string> parts;
  SplitPath(path, &parts);  // Parse already refused '.' and '..'
  std::string first = scheme == "file" ? std::string("_local") : host;
  if (port != 0) first += "_" + std::to_string(port);
  std::string last = parts.back();
  if (last.size() > 4 && last.compare(last.size() - 4, 4, ".git") == 0) last.resize(last.size() - 4);
  parts.back() = last;

  bool changed = SafeComponent(first) != first;
  std::filesystem::path relative = SafeComponent(first);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string safe = SafeComponent(parts[i]);
    changed = changed || safe != parts[i];
    if (i + 1 == parts.size()) {
      if (changed) {
        char suffix[16];
        std::snprintf(suffix, sizeof suffix, "-%08x", Fnv1a(first + path));
        safe += suffix;
      }
      safe += ".git";
    }
    relative /= safe;
  }
  return relative;
}

std::optional<RepoUrl> ResolveSubmoduleUrl(const RepoUrl& super, std::string_view url, std::string* error) {
  if (!(url.substr(0, 2) == "./" || url.substr(0, 3) == "../")) return RepoUrl::Parse(url, error);
  std::vector<std::string> parts;
  SplitPath(super.path, &parts);
  while (!url.empty()) {
    if (url.substr(0, 2) == "./") {
      url.remove_prefix(2);
    } else if (url.substr(0, 3) == "../") {
      url.remove_prefix(3);
      if (parts.empty()) {
        if (error) *error = "the relative submodule URL climbs above the superproject's host";
        return std::nullopt;
      }
      parts.pop_back();
    } else {
      break;
    }
  }
  RepoUrl resolved = super;
  resolved.password.clear();
  std::string path;
  for (const auto& part : parts) path += "/" + part;
  resolved.path = path + "/" + std::string(url);
  std::string reparse_error;
  auto checked = RepoUrl::Parse(resolved.clean(), &reparse_error);
  if (!checked) {
    if (error) *error = "the relative submodule URL resolves to a bad URL: " + reparse_error;
    return std::nullopt;
  }
  return checked;
}

}  // namespace kiln::git

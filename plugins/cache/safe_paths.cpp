#include "safe_paths.hpp"

#include <cstdio>
#include <system_error>

#include "kiln/workspace_path.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

bool KeyChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '.': case '_': case '-': case '+': case '=': case '@': case ',': case ':': case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string ValidateKey(std::string_view key, std::string_view what) {
  const std::string shown = "\"" + Escape(key.substr(0, 80)) + (key.size() > 80 ? "..." : "") + "\"";
  if (key.empty()) return std::string(what) + ": must not be empty";
  if (key.size() > kMaxKeyLength) {
    return std::string(what) + " " + shown + ": longer than " + std::to_string(kMaxKeyLength) +
           " characters";
  }
  if (key.front() == '.') {
    return std::string(what) + " " + shown + ": must not start with '.' (no '.', '..' or hidden names)";
  }
  for (char c : key) {
    if (!KeyChar(c)) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "0x%02x", static_cast<unsigned char>(c));
      return std::string(what) + " " + shown + ": character " + buffer +
             " not allowed (letters, digits and . _ - + = @ , : ~ only; no '/')";
    }
  }
  return {};
}

bool ResolveInWorkspace(const fs::path& workspace, std::string_view path, fs::path* resolved,
                        std::string* error) {
  const std::string shown = "path \"" + Escape(path.substr(0, 200)) + "\"";
  if (path.empty()) {
    *error = "path: must not be empty";
    return false;
  }
  if (path.size() > kMaxPathLength) {
    *error = shown + ": longer than " + std::to_string(kMaxPathLength) + " bytes";
    return false;
  }
  if (path.find('\0') != std::string_view::npos) {
    *error = shown + ": contains a NUL byte";
    return false;
  }
  const fs::path given{std::string(path)};
  for (const auto& part : given) {
    if (part == "..") {
      *error = shown + ": '..' is not allowed";
      return false;
    }
  }
  // Beneath the workspace without a symlink leading out (kiln/workspace_path.hpp), and
  // strictly inside: a save or restore of the workspace itself is refused.
  const auto beneath = workspace_path::Resolve(workspace, path);
  if (!beneath) {
    *error = "path: " + beneath.error;
    return false;
  }
  if (beneath.is_root()) {
    *error = shown + ": is the workspace itself (name a directory or file inside it)";
    return false;
  }
  *resolved = beneath.path;
  return true;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '%') {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", u);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

bool Unescape(std::string_view text, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      *out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = hex(text[i + 1]);
    const int lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

}  // namespace kiln::cache

#include "secrets/redactor.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace kiln {

namespace {

constexpr std::size_t kMinSecretLength = 4;

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

// Ends of the user-info part of a URL authority: the '@' must come before any of these.
bool EndsAuthority(char c) {
  return c == '/' || c == '?' || c == '#' || std::isspace(static_cast<unsigned char>(c)) || c == '"' ||
         c == '\'' || c == '<' || c == '>';
}

void ReplaceAll(std::string& text, std::string_view needle) {
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), Redactor::kMask);
    pos += Redactor::kMask.size();
  }
}

}  // namespace

void Redactor::add(std::string_view secret) {
  if (secret.size() < kMinSecretLength) return;
  std::unique_lock lock(mutex_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::redact_url_credentials(std::string_view text) {
  std::string out(text);
  mask_url_credentials(out);
  return out;
}

void Redactor::mask_url_credentials(std::string& out) {
  std::size_t search_from = 0;
  while (true) {
    std::size_t sep = out.find("://", search_from);
    if (sep == std::string::npos) break;
    // A scheme is letters (and + - .) right before "://".
    std::size_t scheme_start = sep;
    while (scheme_start > 0 && IsSchemeChar(out[scheme_start - 1])) --scheme_start;
    std::size_t authority = sep + 3;
    if (scheme_start == sep) {
      search_from = authority;
      continue;
    }
    std::size_t end = authority;
    std::size_t at = std::string::npos;
    while (end < out.size() && !EndsAuthority(out[end])) {
      if (out[end] == '@') at = end;  // the last '@' ends the user-info
      ++end;
    }
    if (at != std::string::npos) {
      out.replace(authority, at - authority, kMask);
      search_from = authority + kMask.size() + 1;
    } else {
      search_from = authority;
    }
  }
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  redact_in_place(out);
  return out;
}

void Redactor::redact_in_place(std::string& text) const {
  mask_url_credentials(text);
  std::shared_lock lock(mutex_);
  for (const auto& secret : secrets_) ReplaceAll(text, secret);
}

std::size_t Redactor::safe_stream_cut(std::string_view text) const {
  std::shared_lock lock(mutex_);
  std::size_t cut = text.size();
  for (const auto& secret : secrets_) {
    // The longest suffix of text that is a proper prefix of the secret.
    const std::size_t longest = std::min(secret.size() - 1, text.size());
    for (std::size_t start = text.size() - longest; start < text.size(); ++start) {
      if (text[start] == secret[0] && secret.compare(0, text.size() - start, text.substr(start)) == 0) {
        cut = std::min(cut, start);
        break;
      }
    }
  }
  // A whole value that runs across the cut: cut before it instead (and look again).
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& secret : secrets_) {
      const std::size_t from = cut >= secret.size() ? cut - secret.size() + 1 : 0;
      const std::size_t pos = text.find(secret, from);
      if (pos != std::string_view::npos && pos < cut && pos + secret.size() > cut) {
        cut = pos;
        moved = true;
      }
    }
  }
  return cut;
}

bool Redactor::contains_secret(std::string_view text) const {
  std::shared_lock lock(mutex_);
  for (const auto& secret : secrets_) {
    if (text.find(secret) != std::string_view::npos) return true;
  }
  return false;
}

void Redactor::redact_json(nlohmann::json& value) const {
  if (value.is_string()) {
    value = redact(value.get_ref<const std::string&>());
  } else if (value.is_array()) {
    for (auto& item : value) redact_json(item);
  } else if (value.is_object()) {
    nlohmann::json cleaned = nlohmann::json::object();
    for (auto& [key, item] : value.items()) {
      redact_json(item);
      cleaned[redact(key)] = std::move(item);
    }
    value = std::move(cleaned);
  }
}

}  // namespace kiln

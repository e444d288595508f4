#include "git_config.hpp"

#include "ascii_lower.hpp"

#include <algorithm>
#include <cctype>

namespace kiln::git {
namespace {

std::string TypeName(const nlohmann::json& value) { return value.type_name(); }

bool ParseEnum(const nlohmann::json& value, const char* key, const char* first, const char* second,
               bool* is_first, std::string* error) {
  const std::string quoted = std::string("'") + first + "' or '" + second + "'";
  if (!value.is_string()) {
    *error = std::string("git.") + key + ": must be " + quoted + ", got a " + TypeName(value);
    return false;
  }
  const auto text = value.get<std::string>();
  if (text != first && text != second) {
    *error = std::string("git.") + key + ": must be " + quoted + ", got '" + text + "'";
    return false;
  }
  *is_first = text == first;
  return true;
}

}  // namespace

std::optional<GitConfig> GitConfig::Parse(const nlohmann::json& section, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  GitConfig config;
  if (section.is_null()) return config;
  if (!section.is_object()) {
    *error = "git: must be a mapping, got a " + TypeName(section);
    return std::nullopt;
  }
  for (const auto& [key, value] : section.items()) {
    if (key == "transport") {
      bool libgit2 = false;
      if (!ParseEnum(value, "transport", "libgit2", "cli", &libgit2, error)) return std::nullopt;
      config.transport = libgit2 ? Transport::libgit2 : Transport::cli;
    } else if (key == "fetch") {
      bool always = false;
      if (!ParseEnum(value, "fetch", "always", "missing", &always, error)) return std::nullopt;
      config.fetch = always ? FetchPolicy::always : FetchPolicy::missing;
    } else if (key == "credentials") {
      if (value.is_null()) continue;
      if (!value.is_object()) {
        *error = "git.credentials: must be a mapping of host to secret name, got a " + TypeName(value);
        return std::nullopt;
      }
      for (const auto& [host, secret] : value.items()) {
        const std::string where = "git.credentials." + host;
        if (host.empty() || host.find_first_of("/@ \t") != std::string::npos) {
          *error = where + ": must be a host or host:port (no scheme, user or path)";
          return std::nullopt;
        }
        if (!secret.is_string() || secret.get<std::string>().empty()) {
          *error = where + ": must be the name of a secret";
          return std::nullopt;
        }
        config.credentials[AsciiLower(host)] = secret.get<std::string>();
      }
    } else if (key == "submodule_credentials") {
      auto targets = SubmoduleCredentialTargets::Parse(value, error);
      if (!targets) return std::nullopt;
      config.submodule_credentials = std::move(*targets);
    } else {
      *error = "git." + key + ": unknown key (known: transport, fetch, credentials, submodule_credentials)";
      return std::nullopt;
    }
  }
  return config;
}

std::optional<std::string> GitConfig::credentials_for(const std::string& host_key) const {
  if (auto it = credentials.find(host_key); it != credentials.end()) return it->second;
  if (const auto colon = host_key.rfind(':'); colon != std::string::npos && host_key.back() != ']') {
    if (auto it = credentials.find(host_key.substr(0, colon)); it != credentials.end()) return it->second;
  }
  return std::nullopt;
}

}  // namespace kiln::git

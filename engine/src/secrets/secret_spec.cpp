// SecretStore::ValidateSpec lives apart from secret_store.cpp: the config loader needs the
// check of a spec's form without anything that reads secrets.
//
// No message here ever repeats the spec after its prefix: a user who pasted the secret
// itself into the config (`registry_token: ghp_...`) must not see it echoed into a log.
#include <string>

#include "secrets/secret_store.hpp"

namespace kiln {

namespace {

bool IsEnvVarName(std::string_view name) {
  if (name.empty()) return false;
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!letter(name.front())) return false;
  for (char c : name) {
    if (!letter(c) && !digit(c)) return false;
  }
  return true;
}

}  // namespace

Result<bool> SecretStore::ValidateSpec(std::string_view spec) {
  constexpr std::string_view kEnv = "env:";
  constexpr std::string_view kFile = "file:";
  if (spec.substr(0, kEnv.size()) == kEnv) {
    if (!IsEnvVarName(spec.substr(kEnv.size()))) {
      return MakeError("'env:' must be followed by an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    return true;
  }
  if (spec.substr(0, kFile.size()) == kFile) {
    const std::string_view path = spec.substr(kFile.size());
    if (path.empty()) return MakeError("'file:' must be followed by the path of the file that holds the secret");
    if (path.find_first_of(std::string_view("\0\n\r", 3)) != std::string_view::npos) {
      return MakeError("'file:' path must not contain NUL or line breaks");
    }
    return true;
  }
  return MakeError(
      "must be 'env:VARIABLE' or 'file:PATH' (the config names where a secret is, never the secret itself)");
}

}  // namespace kiln

#include "secrets/secret_store.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "secrets/redactor.hpp"

namespace kiln {

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

std::optional<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string value = buffer.str();
  // Secret files conventionally end with a newline that is not part of the secret.
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

}  // namespace

SecretStore::SecretStore(const std::map<std::string, std::string>& specs, Redactor& redactor,
                         const EnvLookup& env) {
  for (const auto& [name, spec] : specs) {
    specs_.emplace(name, spec);
    std::optional<std::string> value;
    if (spec.rfind("env:", 0) == 0) {
      value = env(spec.substr(4));
    } else if (spec.rfind("file:", 0) == 0) {
      value = ReadSecretFile(spec.substr(5));
    }
    if (value && !value->empty()) {
      redactor.add(*value);
      values_.emplace(name, std::move(*value));
    }
  }
}

std::optional<std::string> SecretStore::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

}  // namespace kiln

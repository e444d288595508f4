// The configured secrets (`secrets:` in the config): name -> "env:VAR" or "file:PATH".
//
// Every value is read once at start-up and registered with the Redactor, so it is masked
// everywhere even if no step ever asks for it. Thread-safe after construction.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace kiln {

class Redactor;

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
/// Reads the process environment.
EnvLookup ProcessEnvironment();

class SecretStore {
 public:
  SecretStore() = default;
  /// Reads every secret now; a secret whose source is missing stays unset (get() gives nullopt).
  SecretStore(const std::map<std::string, std::string>& specs, Redactor& redactor, const EnvLookup& env);

  /// Checks the form of one spec ("env:NAME" or "file:PATH").
  static Result<bool> ValidateSpec(std::string_view spec);

  std::optional<std::string> get(std::string_view name) const;
  bool configured(std::string_view name) const { return specs_.count(std::string(name)) > 0; }

 private:
  std::map<std::string, std::string, std::less<>> specs_;
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace kiln

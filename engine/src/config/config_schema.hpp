// The keys of kiln's core config sections: for each, its section and name, how to read and
// check a value for it, and therefore its environment variable. One table, so the file,
// the environment, the docs test and the did-you-mean hint all agree on the same keys.
// Internal to the config loader.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/config_value.hpp"

namespace kiln::config_schema {

/// Reads `input`, checks it and stores it in its field; on failure returns the problem
/// only ("must be between 1 and 256, got 0"): the loader adds key and origin.
using Apply = Result<bool> (*)(Config& config, const config_value::Input& input);

struct CoreKey {
  std::string_view section;
  std::string_view key;
  Apply apply;
  /// A secret reference: messages never repeat the value (it may be a pasted secret).
  bool hides_value = false;

  std::string name() const { return std::string(section) + "." + std::string(key); }
};

/// Every key of the typed sections (secrets excluded: its keys are the user's names).
const std::vector<CoreKey>& CoreKeys();

/// nats, worker, build, pipelines, plugins, logging, secrets, gateway.
const std::vector<std::string_view>& CoreSections();
bool IsCoreSection(std::string_view section);
/// The keys of one typed section, in table order.
std::vector<std::string_view> KeysOf(std::string_view section);

/// SECTION_KEY: upper case, every character that is not a letter or digit becomes '_'.
std::string EnvVarName(std::string_view section, std::string_view key);

/// [a-z][a-z0-9_]*: what a top-level section (and hence a plugin) may be called.
bool IsSectionName(std::string_view name);
/// [A-Za-z_][A-Za-z0-9_-]*: what a secret may be called.
bool IsSecretName(std::string_view name);

/// Checks one nats.url value: one or more comma-separated server URLs with scheme nats,
/// tls, ws or wss and a host. Messages never show URL credentials.
Result<bool> CheckNatsUrl(std::string_view url);

/// The candidate closest to `word` when it is a likely typo (edit distance at most 2, and
/// less than half the word), else empty.
std::string ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace kiln::config_schema

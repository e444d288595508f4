// Typed reading of one configuration value, whether it came from the YAML file or from an
// environment variable. Internal to the config loader (config.cpp, config_schema.cpp).
//
// A reader returns only the problem ("expected an integer, got the string '5'"); the loader
// adds the key and where the value came from. YAML scalars are typed the way YAML 1.2's
// core schema types them: a quoted scalar is always a string, a plain one is null, a
// boolean (true/false only: `yes`/`on` are strings, unlike YAML 1.1), an integer, a float,
// or else a string. Environment values are untyped text, so the reader of each key's type
// parses them itself (booleans there also take 1/0/yes/no).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "config/duration.hpp"
#include "util/result.hpp"

namespace kiln::config_value {

/// One value to read: a node of the file, or the text of an environment variable.
struct Input {
  static Input FromNode(const YAML::Node& node) { return Input{&node, {}}; }
  static Input FromEnv(std::string text) { return Input{nullptr, std::move(text)}; }

  bool from_env() const { return node == nullptr; }

  const YAML::Node* node;
  std::string env_text;
};

enum class ScalarKind { null, boolean, integer, floating, string };

/// How YAML 1.2's core schema types a scalar node (quoted or !!str: always a string).
ScalarKind ClassifyScalar(const YAML::Node& node);
/// How a plain (unquoted) scalar's text is typed.
ScalarKind ClassifyPlainText(std::string_view text);
/// "a map", "a list", "null", "true", "the number 1.5", "the string 'x'"; with
/// `show_value` false the value itself is left out (for secrets).
std::string Describe(const Input& input, bool show_value = true);

Result<std::string> ReadString(const Input& input);
Result<std::int64_t> ReadInteger(const Input& input, std::int64_t min, std::int64_t max);
Result<std::uint64_t> ReadCount(const Input& input, std::uint64_t min);
Result<bool> ReadBool(const Input& input);
/// A bare number is seconds ("90" or 90); else ParseDuration's forms.
Result<Duration> ReadDuration(const Input& input);
/// Bytes: a plain number, or with B, KiB, MiB, GiB.
Result<std::uint64_t> ReadSize(const Input& input);
/// A YAML list of strings, or comma-separated text from the environment (items trimmed,
/// empty items dropped so that "" means an empty list).
Result<std::vector<std::string>> ReadStringList(const Input& input);

Result<std::uint64_t> ParseSize(std::string_view text);
/// "1048576" -> "1MiB", "1000" -> "1000 bytes": for messages.
std::string FormatSize(std::uint64_t bytes);
/// true/false/1/0/yes/no, any case.
Result<bool> ParseEnvBool(std::string_view text);

/// Converts a node to JSON: maps to objects (keys must be scalars, no duplicates), lists
/// to arrays, scalars typed by ClassifyScalar (integers beyond 64 bits and .inf/.nan stay
/// strings). `path` names the node in messages ("git.remotes"). More than 10,000 values
/// (aliases count at each use) or nesting deeper than 64 levels is an error.
Result<nlohmann::json> YamlToJson(const YAML::Node& node, const std::string& path, const std::string& file);

/// Types an environment value to replace `current` in a plugin section: like `current`
/// when it is a boolean, a number or a string; by ClassifyPlainText when it is null; a
/// list takes comma-separated items typed like its existing items.
Result<nlohmann::json> EnvTextAsJson(std::string_view text, const nlohmann::json& current);

}  // namespace kiln::config_value

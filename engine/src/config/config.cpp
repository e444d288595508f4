// LoadConfig: the built-in defaults, then the file, then SECTION_KEY environment overrides,
// then the checks between keys. Every problem found is collected, so a user fixes a bad
// file in one go; each names its key and where the value came from (the file and line, or
// the environment variable).
#include "config/config.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "config/config_schema.hpp"
#include "config/config_value.hpp"
#include "config/schedules_section.hpp"

namespace kiln {

namespace {

namespace fs = std::filesystem;
using config_value::Input;
using config_schema::CoreKey;

// So that a file with many mistakes gives a readable message, not a wall of text.
constexpr std::size_t kMaxReportedProblems = 20;

class ConfigLoader {
 public:
  ConfigLoader(std::optional<std::string> path, const EnvLookup& env) : path_(std::move(path)), env_(env) {}

  Result<Config> Load() {
    config_.source = path_ ? *path_ : "built-in defaults";
    config_.base_dir = BaseDir();
    if (path_) {
      std::optional<YAML::Node> root = ReadFile();
      if (!root) return Failure();
      ApplyRoot(*root);
    }
    if (env_) ApplyEnvironment();
    CheckAcrossKeys();
    if (!problems_.empty()) return Failure();
    return std::move(config_);
  }

 private:
  std::string BaseDir() const {
    std::error_code ec;
    if (path_) {
      const fs::path absolute = fs::absolute(fs::path(*path_), ec);
      if (!ec) return absolute.lexically_normal().parent_path().string();
    }
    const fs::path cwd = fs::current_path(ec);
    return ec ? std::string(".") : cwd.string();
  }

  std::string AtLine(const YAML::Node& node) const {
    return "(" + *path_ + " line " + std::to_string(node.Mark().line + 1) + ")";
  }

  void Problem(std::string message) { problems_.push_back(std::move(message)); }

  Error Failure() const {
    std::string message;
    for (std::size_t i = 0; i < problems_.size() && i < kMaxReportedProblems; ++i) {
      message += (i == 0 ? "" : "\n") + problems_[i];
    }
    if (problems_.size() > kMaxReportedProblems) {
      message += "\n... and " + std::to_string(problems_.size() - kMaxReportedProblems) + " more";
    }
    return MakeError(std::move(message));
  }

  std::optional<YAML::Node> ReadFile() {
    const std::string& path = *path_;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      Problem(path + ": cannot read the config file: it is a directory");
      return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      Problem(path + ": cannot read the config file: " + std::strerror(errno));
      return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
      Problem(path + ": cannot read the config file: " + std::strerror(errno));
      return std::nullopt;
    }
    try {
      if (CountDocuments(text.str(), 2) > 1) {
        Problem(path + ": holds 2 YAML documents (or more); a config is one");
        return std::nullopt;
      }
      return YAML::Load(text.str());
    } catch (const YAML::ParserException& e) {
      Problem(path + " line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) +
              ": YAML syntax error: " + e.msg);
      return std::nullopt;
    }
  }

  // The documents in `text`, counted up to `limit`. Not YAML::LoadAll: on some malformed
  // input (`"[a", 1, false]`, found by config_fuzzer) yaml-cpp 0.7's parser yields empty
  // documents forever, and LoadAll keeps them all until memory runs out.
  static std::size_t CountDocuments(const std::string& text, std::size_t limit) {
    struct IgnoreEvents : YAML::EventHandler {
      void OnDocumentStart(const YAML::Mark&) override {}
      void OnDocumentEnd() override {}
      void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
      void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
      void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
      void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
      void OnSequenceEnd() override {}
      void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
      void OnMapEnd() override {}
    } ignore;
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    std::size_t count = 0;
    while (count < limit && parser.HandleNextDocument(ignore)) ++count;
    return count;
  }

  void ApplyRoot(const YAML::Node& root) {
    if (root.IsNull()) return;  // an empty file: the defaults
    if (!root.IsMap()) {
      Problem(*path_ + ": expected a map of sections (nats:, worker:, ...) at the top, got " +
              config_value::Describe(Input::FromNode(root)) + " " + AtLine(root));
      return;
    }
    std::set<std::string> seen;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: `it->` yields a proxy that dies with the statement
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        Problem(*path_ + ": a section name must be a plain name " + AtLine(key));
        continue;
      }
      const std::string& name = key.Scalar();
      if (!seen.insert(name).second) {
        Problem(name + ": duplicate section " + AtLine(key));
        continue;
      }
      if (!config_schema::IsSectionName(name)) {
        Problem("'" + name + "': not a valid section name; a section is named [a-z][a-z0-9_]* " + AtLine(key));
        continue;
      }
      if (name == "secrets") {
        ApplySecrets(key, value);
      } else if (name == "schedules") {
        for (std::string& problem : config_schedules::Read(value, *path_, config_.schedules)) Problem(std::move(problem));
      } else if (config_schema::IsCoreSection(name)) {
        ApplyCoreSection(name, key, value);
      } else {
        ApplyPluginSection(name, key, value);
      }
    }
  }

  // A section's value must be a map; an empty section (`logging:`) is allowed and changes
  // nothing.
  bool IsSectionMap(const std::string& section, const YAML::Node& key, const YAML::Node& value,
                    std::string_view what) {
    if (value.IsNull() || value.IsMap()) return true;
    Problem(section + ": expected a map of " + std::string(what) + ", got " +
            config_value::Describe(Input::FromNode(value)) + " " + AtLine(key));
    return false;
  }

  void ApplyCoreSection(const std::string& section, const YAML::Node& section_key, const YAML::Node& value) {
    if (!IsSectionMap(section, section_key, value, "settings") || value.IsNull()) return;
    std::set<std::string> seen;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) {
        Problem(section + ": a key must be a plain name " + AtLine(key));
        continue;
      }
      const std::string name = section + "." + key.Scalar();
      if (!seen.insert(key.Scalar()).second) {
        Problem(name + ": duplicate key " + AtLine(key));
        continue;
      }
      const CoreKey* spec = FindCoreKey(section, key.Scalar());
      if (spec == nullptr) {
        Problem(name + ": unknown key " + AtLine(key) + UnknownKeyHint(section, key.Scalar()));
        continue;
      }
      const YAML::Node key_value = it->second;
      auto applied = spec->apply(config_, Input::FromNode(key_value));
      if (!applied) Problem(name + ": " + applied.error() + " " + AtLine(key));
      origin_[name] = AtLine(key);
    }
  }

  static const CoreKey* FindCoreKey(std::string_view section, std::string_view key) {
    for (const CoreKey& spec : config_schema::CoreKeys()) {
      if (spec.section == section && spec.key == key) return &spec;
    }
    return nullptr;
  }

  static std::string UnknownKeyHint(std::string_view section, std::string_view key) {
    const std::vector<std::string_view> known = config_schema::KeysOf(section);
    const std::string closest = config_schema::ClosestMatch(key, known);
    if (!closest.empty()) return "; did you mean " + closest + "?";
    std::string list;
    for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
    return "; the keys of " + std::string(section) + " are " + list;
  }

  void ApplySecrets(const YAML::Node& section_key, const YAML::Node& value) {
    if (!IsSectionMap("secrets", section_key, value, "name: env:VARIABLE | file:PATH") || value.IsNull()) return;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar() || !config_schema::IsSecretName(key.Scalar())) {
        Problem("secrets: '" + (key.IsScalar() ? key.Scalar() : std::string("?")) +
                "' is not a valid secret name ([A-Za-z_][A-Za-z0-9_-]*) " + AtLine(key));
        continue;
      }
      const std::string name = "secrets." + key.Scalar();
      if (config_.secrets.count(key.Scalar()) > 0) {
        Problem(name + ": duplicate key " + AtLine(key));
        continue;
      }
      const YAML::Node spec = it->second;
      if (!spec.IsScalar()) {
        // Never show the value: a secret pasted in place of its reference must not leak.
        Problem(name + ": expected 'env:VARIABLE' or 'file:PATH', got " +
                config_value::Describe(Input::FromNode(spec), false) + " " + AtLine(key));
        continue;
      }
      auto valid = SecretStore::ValidateSpec(spec.Scalar());
      if (!valid) {
        Problem(name + ": " + valid.error() + " " + AtLine(key));
        continue;
      }
      config_.secrets[key.Scalar()] = spec.Scalar();
      origin_[name] = AtLine(key);
    }
  }

  void ApplyPluginSection(const std::string& section, const YAML::Node& section_key, const YAML::Node& value) {
    if (!IsSectionMap(section, section_key, value, "the " + section + " plugin's settings")) return;
    auto json = config_value::YamlToJson(value, section, *path_);
    if (!json) {
      Problem(json.error());
      return;
    }
    config_.plugin_sections[section] = json.value().is_null() ? nlohmann::json::object() : std::move(json).value();
  }

  void ApplyEnvironment() {
    for (const CoreKey& spec : config_schema::CoreKeys()) {
      const std::string variable = config_schema::EnvVarName(spec.section, spec.key);
      std::optional<std::string> text = env_(variable);
      if (!text) continue;
      auto applied = spec.apply(config_, Input::FromEnv(*text));
      const std::string from = "(from environment variable " + variable + ")";
      if (!applied) Problem(spec.name() + ": " + applied.error() + " " + from);
      origin_[spec.name()] = from;
    }
    // Secrets and plugin sections have no fixed keys: only keys the file names can be
    // overridden, since the environment cannot be asked what is set under a prefix.
    for (auto& [name, spec] : config_.secrets) {
      const std::string variable = config_schema::EnvVarName("secrets", name);
      std::optional<std::string> text = env_(variable);
      if (!text) continue;
      auto valid = SecretStore::ValidateSpec(*text);
      if (!valid) {
        Problem("secrets." + name + ": " + valid.error() + " (from environment variable " + variable + ")");
        continue;
      }
      spec = *text;
    }
    for (auto& [section, json] : config_.plugin_sections) OverridePluginKeys(section, section, json);
  }

  void OverridePluginKeys(const std::string& dotted, const std::string& env_prefix, nlohmann::json& object) {
    if (!object.is_object()) return;
    for (auto& [key, value] : object.items()) {
      const std::string name = dotted + "." + key;
      const std::string variable = config_schema::EnvVarName(env_prefix, key);
      if (value.is_object()) {
        // Nested keys chain on: GIT_MIRROR_DEPTH for git.mirror.depth.
        OverridePluginKeys(name, variable, value);
        continue;
      }
      std::optional<std::string> text = env_(variable);
      if (!text) continue;
      auto typed = config_value::EnvTextAsJson(*text, value);
      if (!typed) {
        Problem(name + ": " + typed.error() + " (from environment variable " + variable + ")");
        continue;
      }
      value = std::move(typed).value();
    }
  }

  std::string OriginOf(const std::string& key) const {
    auto it = origin_.find(key);
    return it == origin_.end() ? "(built-in default)" : it->second;
  }

  void CheckAcrossKeys() {
    for (std::string& problem : config_schedules::CheckJobs(config_)) Problem(std::move(problem));
    const WorkerConfig& worker = config_.worker;
    if (worker.retry_delay > worker.retry_max_delay) {
      Problem("worker.retry_delay: must not exceed worker.retry_max_delay (" +
              FormatDuration(worker.retry_max_delay) + " " + OriginOf("worker.retry_max_delay") + "), got " +
              FormatDuration(worker.retry_delay) + " " + OriginOf("worker.retry_delay"));
    }
  }

  std::optional<std::string> path_;
  const EnvLookup& env_;
  Config config_;
  std::vector<std::string> problems_;
  std::map<std::string, std::string> origin_;  // key -> where its value came from
};

}  // namespace

Result<Config> LoadConfig(const std::optional<std::string>& path, const EnvLookup& env) {
  try {
    return ConfigLoader(path, env).Load();
  } catch (const std::exception& e) {
    // yaml-cpp throws on misuse of a node and the allocator may throw: neither may escape.
    return MakeError((path ? *path + ": " : std::string()) + "cannot load the config: " + e.what());
  }
}

std::optional<std::string> ConfigPathFrom(const std::optional<std::string>& flag, const EnvLookup& env) {
  if (flag) return flag;
  if (!env) return std::nullopt;
  std::optional<std::string> from_env = env("CONFIG_PATH");
  // CONFIG_PATH= (set but empty, as compose files often leave it) means no file.
  if (from_env && from_env->empty()) return std::nullopt;
  return from_env;
}

std::string ResolveConfigPath(const Config& config, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(config.base_dir) / path).lexically_normal().string();
}

}  // namespace kiln

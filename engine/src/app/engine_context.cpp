#include "app/engine_context.hpp"

#include <filesystem>

#include "log/logging.hpp"
#include "sandbox/sandbox_probe.hpp"

namespace kiln {

namespace {

Result<std::optional<SandboxPolicy>> SetUpSandbox(const Config& config, bool probe) {
  if (!config.sandbox.enabled) {
    Log(spdlog::level::warn,
        "sandbox.enabled is false: every process a job starts (installs, builds, kiln.exec) runs with kiln's own "
        "privileges, environment and network; only for repositories whose every author you trust (docs/security.md)");
    return std::optional<SandboxPolicy>();
  }
  const std::string config_file = config.source == "built-in defaults" ? std::string() : config.source;
  auto policy = MakeSandboxPolicy(config.sandbox, PrivateFilesOf(config, config_file));
  if (!policy) return MakeError(policy.error());
  if (!probe) return std::optional<SandboxPolicy>(std::move(policy.value()));
  const std::string workspace_root = ResolveConfigPath(config, config.build.workspace_path);
  std::error_code ec;
  std::filesystem::create_directories(workspace_root, ec);
  if (ec) return MakeError("build.workspace_path: cannot create " + workspace_root + ": " + ec.message());
  std::string problem = ProbeSandbox(policy.value(), workspace_root);
  if (!problem.empty()) return MakeError("sandbox: " + problem);
  return std::optional<SandboxPolicy>(std::move(policy.value()));
}

}  // namespace

Result<std::unique_ptr<EngineContext>> SetUpEngine(const GlobalOptions& options, const EngineSetup& setup) {
  EnvLookup env = ProcessEnvironment();
  auto config = LoadConfig(ConfigPathFrom(options.config_path, env), env);
  if (!config) return MakeError(config.error());

  auto engine = std::make_unique<EngineContext>();
  engine->config = std::move(config.value());
  if (options.nats_url) engine->config.nats.url = *options.nats_url;
  SetUpLogging(engine->config.logging, &engine->redactor);
  engine->secrets = std::make_unique<SecretStore>(engine->config.secrets, engine->redactor, env);

  engine->plugins = std::make_unique<PluginHost>();
  if (setup.load_plugins) {
    std::vector<std::string> extra;
    for (const auto& dir : engine->config.plugins.dirs) {
      std::filesystem::path p(dir);
      if (!p.is_absolute() && !engine->config.base_dir.empty()) p = std::filesystem::path(engine->config.base_dir) / p;
      extra.push_back(p.lexically_normal().string());
    }
    engine->plugins->load_dirs(PluginHost::DefaultDirs(extra));
    for (const auto& problem : engine->plugins->problems()) {
      Log(spdlog::level::warn, "plugin skipped: " + problem.file + ": " + problem.reason);
    }
    if (setup.configure_plugins) {
      auto errors = engine->plugins->configure(engine->config.plugin_sections);
      if (!errors.empty()) {
        std::string message = "configuration (" + engine->config.source + "):";
        for (const auto& error : errors) message += "\n  " + error;
        return MakeError(message);
      }
    }
  }
  if (setup.sandbox) {
    auto sandbox = SetUpSandbox(engine->config, setup.probe_sandbox);
    if (!sandbox) return MakeError(sandbox.error());
    engine->sandbox = std::move(sandbox.value());
  }
  return engine;
}

}  // namespace kiln

// What every kiln command that runs or serves jobs sets up first: the configuration, the
// redactor fed with every configured secret, the secret store, logging, and the plugins
// (loaded from their dirs and configured with their sections).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "plugin_host/plugin_host.hpp"
#include "sandbox/sandbox_policy.hpp"
#include "secrets/redactor.hpp"
#include "secrets/secret_store.hpp"
#include "util/result.hpp"

namespace kiln {

/// Options every command takes.
struct GlobalOptions {
  std::optional<std::string> config_path;  // --config
  std::optional<std::string> nats_url;     // --nats (overrides nats.url)
};

struct EngineContext {
  Config config;
  Redactor redactor;
  std::unique_ptr<SecretStore> secrets;
  std::unique_ptr<PluginHost> plugins;
  /// Every process of a job runs under it; unset when sandbox.enabled is false (or the
  /// command runs no jobs).
  std::optional<SandboxPolicy> sandbox;
};

struct EngineSetup {
  bool load_plugins = true;
  /// Plugin problems (bad files) are reported as warnings; config errors of plugins fail.
  bool configure_plugins = true;
  /// The command runs jobs: set up the job sandbox (or warn that it is off).
  bool sandbox = false;
  /// And prove it works before going on (a long-lived worker: a few ms at start is nothing,
  /// and a worker that cannot contain jobs must not take any). `kiln run` skips it: its first
  /// sandboxed process says the same.
  bool probe_sandbox = false;
};

/// Loads config (file, env), sets up logging, secrets and plugins. The error names what is
/// wrong (exit code 2 for the caller).
Result<std::unique_ptr<EngineContext>> SetUpEngine(const GlobalOptions& options, const EngineSetup& setup);

}  // namespace kiln

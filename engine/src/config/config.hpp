// kiln's configuration: DESIGN.md's config.yaml, SECTION_KEY environment overrides,
// validation that names the bad key (and its line in the file).
//
// Core sections are typed here. Any other top-level section belongs to the plugin of that
// name (`git:`, `buildah:`, a third party's) and is kept as JSON for the plugin's own
// configure(); a section no loaded plugin claims is an error reported by the plugin host.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/duration.hpp"
#include "job/job.hpp"
#include "secrets/secret_store.hpp"
#include "util/result.hpp"

namespace kiln {

struct NatsConfig {
  std::string url = "nats://localhost:4222";
  Duration reconnect_wait = std::chrono::seconds(2);
  Duration connect_timeout = std::chrono::seconds(5);
  std::string credentials;  // a .creds file
  std::string user;
  std::string password;     // a secret reference ("env:..."/"file:...") or empty
  std::string token;        // a secret reference or empty
  std::string tls_ca;       // CA file; TLS is on when any tls_* is set or the URL is tls://
  std::string tls_cert;
  std::string tls_key;
  int stream_replicas = 1;  // R3 on a cluster
};

struct WorkerConfig {
  std::string id;           // empty: host name and pid
  int pool_size = 5;
  int queue_size = 100;
  Duration timeout = std::chrono::seconds(3600);
  int max_retries = 3;
  Duration retry_delay = std::chrono::seconds(1);   // first job-level retry delay... see docs/design.md
  Duration retry_max_delay = std::chrono::seconds(300);
  Duration shutdown_grace = std::chrono::seconds(30);
  int metrics_port = 0;     // 0: no /metrics and /healthz listener
  Duration ack_wait = std::chrono::seconds(30);  // consumer ack wait; in-progress acks every third of it
};

struct BuildConfig {
  std::string code_cache_path = "/var/cache/kiln/repos";
  std::string build_cache_path = "/var/cache/kiln/deps";
  std::string workspace_path = "/var/lib/kiln/work";
  bool keep_failed_workspaces = false;
  bool allow_file_urls = false;   // file:// repository URLs in jobs from NATS
};

/// `sandbox:`: the job sandbox every process of a job runs in (docs/security.md).
struct SandboxConfig {
  bool enabled = true;      // false: a warning at start, and jobs run with the worker's privileges
  int uid = 61000;          // the job's processes run as this uid/gid (when kiln runs as root)
  int gid = 61000;
  std::string bwrap = "bwrap";              // bubblewrap, looked up in PATH
  std::string slirp4netns = "slirp4netns";  // for steps with network = "egress"
  /// Hidden inside the sandbox even where the system is visible (/etc is): kiln's config
  /// file and every file a `file:` secret or nats.* names are hidden without being listed.
  std::vector<std::string> private_paths = {"/etc/kiln", "/etc/shadow", "/etc/gshadow", "/etc/ssh",
                                            "/etc/ssl/private", "/etc/containers/auth.json", "/etc/sudoers",
                                            "/etc/sudoers.d"};
  /// Shown read-only besides /usr and /etc (a toolchain in /opt).
  std::vector<std::string> read_only_paths;
  std::uint64_t disk_quota = 20ull << 30;  // bytes a job's workspace may hold
  int max_processes = 4096;                // RLIMIT_NPROC of the sandbox uid
};

struct PipelinesConfig {
  std::string dir = "pipelines";
  bool allow_repo_scripts = false;
  std::uint64_t memory_limit = 64ull * 1024 * 1024;   // bytes a job's Lua state may hold
  std::uint64_t instruction_limit = 200'000'000;       // Lua VM instructions per job
  Duration step_timeout = std::chrono::minutes(30);    // when neither step nor kiln.defaults sets one
  Duration script_time_limit = std::chrono::seconds(30);  // the script's own running time, waits in steps excluded
};

struct PluginsConfig {
  std::vector<std::string> dirs;  // searched after the plugin dir next to the binary
};

struct LoggingConfig {
  std::string level = "info";   // trace, debug, info, warn, error, off
  std::string format = "json";  // json or text
};

/// `logs:`: the build logs a worker keeps on JetStream (stream BUILD_LOGS, docs/configuration.md).
struct LogsConfig {
  Duration max_age = std::chrono::hours(7 * 24);  // how long a job's log stays in the stream
  std::uint64_t max_bytes = 64ull << 20;          // per job, all attempts; past it the head and the tail are kept
};

/// One entry of `schedules:`: at each tick of `cron` (UTC), a worker publishes `job` with an
/// id made of the name and the tick time (schedule/scheduler.hpp).
struct ScheduleConfig {
  std::string name;  // [a-z0-9][a-z0-9_-]*, at most 64 characters
  std::string cron;  // five fields, checked by CronExpression::Parse
  Job job;           // every field of a job message but the id
};

/// `kiln gateway`: the GitHub webhook receiver and the status API (docs/configuration.md).
struct GatewayConfig {
  std::string address = "0.0.0.0";
  int port = 8080;
  std::string webhook_secret;  // a secret reference; the gateway refuses to start without one
  std::string api_token;       // a secret reference; empty: GET /builds answers 401 to everyone
  Duration delivery_ttl = std::chrono::hours(7 * 24);  // how long a delivery id is remembered
  std::string tag_pushes = "ignore";        // ignore | build
  std::string branch_deletions = "ignore";  // ignore | build
  // The HTTP server's limits (http/http_limits.hpp; docs/security.md says what they stop).
  std::uint64_t max_body = 25ull * 1024 * 1024;  // GitHub caps webhook payloads at 25 MB
  bool allow_compressed_bodies = false;          // Content-Encoding gzip/deflate: 415 unless true
  Duration header_timeout = std::chrono::seconds(10);
  Duration request_timeout = std::chrono::seconds(60);
  Duration idle_timeout = std::chrono::seconds(60);
  std::uint64_t max_connections = 1024;
  std::uint64_t max_connections_per_address = 64;
  bool badges = true;  // GET /badge/<owner>/<repo>/<branch>.svg without a token (for READMEs)
};

struct Config {
  NatsConfig nats;
  WorkerConfig worker;
  BuildConfig build;
  PipelinesConfig pipelines;
  PluginsConfig plugins;
  LoggingConfig logging;
  LogsConfig logs;
  GatewayConfig gateway;
  SandboxConfig sandbox;
  std::map<std::string, std::string> secrets;           // name -> "env:VAR" | "file:PATH"
  std::map<std::string, nlohmann::json> plugin_sections;  // top-level sections for plugins
  std::vector<ScheduleConfig> schedules;                   // `schedules:`, in file order
  std::string source = "built-in defaults";              // the file it came from
  std::string base_dir;  // directory relative paths resolve against (the file's, else cwd)
};

/// Loads `path` (when given) over the defaults, then applies SECTION_KEY overrides from
/// `env`, then validates. Errors name the key ("worker.pool_size: must be between 1 and
/// 256, got 0 (config.yaml line 4)").
Result<Config> LoadConfig(const std::optional<std::string>& path, const EnvLookup& env);

/// The path to use: the --config flag, else CONFIG_PATH, else none (built-in defaults).
std::optional<std::string> ConfigPathFrom(const std::optional<std::string>& flag, const EnvLookup& env);

/// `path` as the config means it: relative paths (build.*_path, pipelines.dir, plugins.dirs,
/// nats.credentials and tls_*, a plugin's paths) are relative to config.base_dir, the
/// directory of the config file (the current directory without one). Empty stays empty.
std::string ResolveConfigPath(const Config& config, const std::string& path);

}  // namespace kiln

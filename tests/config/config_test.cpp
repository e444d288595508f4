#include "config/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "config_test_util.hpp"
#include "support/contains.hpp"

namespace kiln {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::LoadYaml;
using testing::MapEnv;
using testing::TempDir;
using testing::WriteFile;

using testing::Contains;

// ---------------------------------------------------------------------------------------
// Defaults

TEST(LoadConfig, WithoutAFileGivesTheBuiltInDefaults) {
  auto loaded = LoadConfig(std::nullopt, MapEnv());
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const Config& c = loaded.value();
  EXPECT_EQ(c.nats.url, "nats://localhost:4222");
  EXPECT_EQ(c.nats.reconnect_wait, seconds(2));
  EXPECT_EQ(c.nats.connect_timeout, seconds(5));
  EXPECT_EQ(c.nats.credentials, "");
  EXPECT_EQ(c.nats.stream_replicas, 1);
  EXPECT_EQ(c.worker.id, "");
  EXPECT_EQ(c.worker.pool_size, 5);
  EXPECT_EQ(c.worker.queue_size, 100);
  EXPECT_EQ(c.worker.timeout, seconds(3600));
  EXPECT_EQ(c.worker.max_retries, 3);
  EXPECT_EQ(c.worker.retry_delay, seconds(1));
  EXPECT_EQ(c.worker.retry_max_delay, seconds(300));
  EXPECT_EQ(c.worker.shutdown_grace, seconds(30));
  EXPECT_EQ(c.worker.metrics_port, 0);
  EXPECT_EQ(c.build.code_cache_path, "/var/cache/kiln/repos");
  EXPECT_EQ(c.build.build_cache_path, "/var/cache/kiln/deps");
  EXPECT_EQ(c.build.workspace_path, "/var/lib/kiln/work");
  EXPECT_FALSE(c.build.keep_failed_workspaces);
  EXPECT_FALSE(c.build.allow_file_urls);
  EXPECT_EQ(c.pipelines.dir, "pipelines");
  EXPECT_FALSE(c.pipelines.allow_repo_scripts);
  EXPECT_EQ(c.pipelines.memory_limit, 64u << 20);
  EXPECT_EQ(c.pipelines.instruction_limit, 200'000'000u);
  EXPECT_EQ(c.pipelines.step_timeout, minutes(30));
  EXPECT_TRUE(c.plugins.dirs.empty());
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.logging.format, "json");
  EXPECT_TRUE(c.secrets.empty());
  EXPECT_TRUE(c.plugin_sections.empty());
  EXPECT_EQ(c.source, "built-in defaults");
  EXPECT_EQ(c.base_dir, std::filesystem::current_path().string());
}

TEST(LoadConfig, AnEmptyOrCommentOnlyFileGivesTheDefaults) {
  TempDir dir;
  for (const std::string text : {"", "# nothing yet\n", "---\n"}) {
    auto config = LoadYaml(dir, text);
    ASSERT_TRUE(config.ok()) << config.error();
    EXPECT_EQ(config->worker.pool_size, 5);
    EXPECT_EQ(config->source, (dir / "config.yaml").string());
  }
}

TEST(LoadConfig, AnEmptyLookupFunctionMeansNoEnvironment) {
  auto config = LoadConfig(std::nullopt, EnvLookup());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->worker.pool_size, 5);
}

// ---------------------------------------------------------------------------------------
// A full file

TEST(LoadConfig, ReadsDesignMdsExampleVerbatim) {
  TempDir dir;
  auto config = LoadYaml(dir, R"(
nats:    { url: "nats://localhost:4222", reconnect_wait: 2s, connect_timeout: 5s, credentials: "" }
worker:  { id: "", pool_size: 5, queue_size: 100, timeout: 3600, max_retries: 3, retry_delay: 1s }
build:   { code_cache_path: "/var/cache/kiln/repos", build_cache_path: "/var/cache/kiln/deps", workspace_path: "/var/lib/kiln/work" }
pipelines: { dir: "pipelines", allow_repo_scripts: false }
plugins: { dirs: [] }
logging: { level: "info", format: "json" }
secrets: { registry_token: "env:REGISTRY_TOKEN", deploy_key: "file:/run/secrets/deploy" }
)");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->worker.timeout, hours(1));
  EXPECT_EQ(config->secrets.size(), 2u);
}

TEST(LoadConfig, ReadsEveryCoreKeyFromAFile) {
  TempDir dir;
  auto loaded = LoadYaml(dir, R"(nats:
  url: "tls://nats-1.internal:4222, tls://nats-2.internal:4222"
  reconnect_wait: 250ms
  connect_timeout: 10
  credentials: creds/worker.creds
  user: kiln
  password: env:NATS_PASSWORD
  token: ""
  tls_ca: /etc/kiln/ca.pem
  tls_cert: /etc/kiln/cert.pem
  tls_key: /etc/kiln/key.pem
  stream_replicas: 3
worker:
  id: w7
  pool_size: 16
  queue_size: 2000
  timeout: 2h
  max_retries: 0
  retry_delay: "90"
  retry_max_delay: 10m
  shutdown_grace: 0
  metrics_port: 9100
build:
  code_cache_path: cache/repos
  build_cache_path: /srv/deps
  workspace_path: work
  keep_failed_workspaces: true
  allow_file_urls: true
pipelines:
  dir: /etc/kiln/pipelines
  allow_repo_scripts: true
  memory_limit: 128MiB
  instruction_limit: 5000000
  step_timeout: 45m
plugins:
  dirs: [/opt/kiln/plugins, plugins]
logging:
  level: debug
  format: text
)");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const Config& c = loaded.value();
  EXPECT_EQ(c.nats.url, "tls://nats-1.internal:4222, tls://nats-2.internal:4222");
  EXPECT_EQ(c.nats.reconnect_wait, milliseconds(250));
  EXPECT_EQ(c.nats.connect_timeout, seconds(10));
  EXPECT_EQ(c.nats.credentials, "creds/worker.creds");
  EXPECT_EQ(c.nats.user, "kiln");
  EXPECT_EQ(c.nats.password, "env:NATS_PASSWORD");
  EXPECT_EQ(c.nats.token, "");
  EXPECT_EQ(c.nats.tls_ca, "/etc/kiln/ca.pem");
  EXPECT_EQ(c.nats.tls_cert, "/etc/kiln/cert.pem");
  EXPECT_EQ(c.nats.tls_key, "/etc/kiln/key.pem");
  EXPECT_EQ(c.nats.stream_replicas, 3);
  EXPECT_EQ(c.worker.id, "w7");
  EXPECT_EQ(c.worker.pool_size, 16);
  EXPECT_EQ(c.worker.queue_size, 2000);
  EXPECT_EQ(c.worker.timeout, hours(2));
  EXPECT_EQ(c.worker.max_retries, 0);
  EXPECT_EQ(c.worker.retry_delay, seconds(90));
  EXPECT_EQ(c.worker.retry_max_delay, minutes(10));
  EXPECT_EQ(c.worker.shutdown_grace, Duration::zero());
  EXPECT_EQ(c.worker.metrics_port, 9100);
  EXPECT_EQ(c.build.code_cache_path, "cache/repos");  // kept as written: users resolve it
  EXPECT_EQ(c.build.build_cache_path, "/srv/deps");
  EXPECT_EQ(c.build.workspace_path, "work");
  EXPECT_TRUE(c.build.keep_failed_workspaces);
  EXPECT_TRUE(c.build.allow_file_urls);
  EXPECT_EQ(c.pipelines.dir, "/etc/kiln/pipelines");
  EXPECT_TRUE(c.pipelines.allow_repo_scripts);
  EXPECT_EQ(c.pipelines.memory_limit, 128u << 20);
  EXPECT_EQ(c.pipelines.instruction_limit, 5'000'000u);
  EXPECT_EQ(c.pipelines.step_timeout, minutes(45));
  EXPECT_EQ(c.plugins.dirs, (std::vector<std::string>{"/opt/kiln/plugins", "plugins"}));
  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_EQ(c.logging.format, "text");
}

TEST(LoadConfig, ScalarFormsOfEachTypeThatAreAccepted) {
  TempDir dir;
  auto config = LoadYaml(dir, R"(worker:
  id: 42
  timeout: "90"
  retry_delay: "2s"
pipelines:
  memory_limit: 1048576
  allow_repo_scripts: True
plugins:
  dirs:
)");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->worker.id, "42");
  EXPECT_EQ(config->worker.timeout, seconds(90));
  EXPECT_EQ(config->worker.retry_delay, seconds(2));
  EXPECT_EQ(config->pipelines.memory_limit, 1u << 20);
  EXPECT_TRUE(config->pipelines.allow_repo_scripts);
  EXPECT_TRUE(config->plugins.dirs.empty());
}

TEST(LoadConfig, SizesTakeIecUnits) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::uint64_t>> cases = {
      {"64MiB", 64ull << 20}, {"2048KiB", 2ull << 20}, {"1GiB", 1ull << 30}, {"1048576B", 1ull << 20},
      {"\"3145728\"", 3ull << 20}};
  for (const auto& [text, bytes] : cases) {
    auto config = LoadYaml(dir, "pipelines:\n  memory_limit: " + text + "\n");
    ASSERT_TRUE(config.ok()) << text << ": " << config.error();
    EXPECT_EQ(config->pipelines.memory_limit, bytes) << text;
  }
  for (const std::string text : {"64MB", "64 MiB", "lots", "1.5MiB", "64mib", "-1"}) {
    auto config = LoadYaml(dir, "pipelines:\n  memory_limit: " + text + "\n");
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_TRUE(Contains(config.error(), "pipelines.memory_limit: expected a size like 64MiB")) << config.error();
  }
}

// ---------------------------------------------------------------------------------------
// Relative paths and the file's place

TEST(LoadConfig, BaseDirIsTheFilesDirectoryAndPathsStayAsWritten) {
  TempDir dir;
  const auto path = dir / "etc" / "kiln.yaml";
  WriteFile(path, "build:\n  workspace_path: ../work\nplugins:\n  dirs: [extra]\n");
  auto config = LoadConfig(path.string(), MapEnv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->base_dir, (dir / "etc").string());
  EXPECT_EQ(config->source, path.string());
  EXPECT_EQ(config->build.workspace_path, "../work");
  EXPECT_EQ(ResolveConfigPath(config.value(), config->build.workspace_path), (dir / "work").string());
  EXPECT_EQ(ResolveConfigPath(config.value(), "extra"), (dir / "etc" / "extra").string());
  EXPECT_EQ(ResolveConfigPath(config.value(), "/abs/x"), "/abs/x");
  EXPECT_EQ(ResolveConfigPath(config.value(), ""), "");
}

TEST(ConfigPathFrom, FlagThenConfigPathThenNone) {
  EXPECT_EQ(ConfigPathFrom(std::string("a.yaml"), MapEnv({{"CONFIG_PATH", "b.yaml"}})), "a.yaml");
  EXPECT_EQ(ConfigPathFrom(std::nullopt, MapEnv({{"CONFIG_PATH", "b.yaml"}})), "b.yaml");
  EXPECT_EQ(ConfigPathFrom(std::nullopt, MapEnv()), std::nullopt);
  EXPECT_EQ(ConfigPathFrom(std::nullopt, MapEnv({{"CONFIG_PATH", ""}})), std::nullopt);
  EXPECT_EQ(ConfigPathFrom(std::nullopt, EnvLookup()), std::nullopt);
}

// ---------------------------------------------------------------------------------------
// Environment overrides

TEST(EnvOverrides, EachKindOfCoreKey) {
  auto loaded = LoadConfig(std::nullopt, MapEnv({
                                             {"NATS_URL", "nats://queue:4222"},
                                             {"NATS_RECONNECT_WAIT", "250ms"},
                                             {"NATS_STREAM_REPLICAS", "3"},
                                             {"NATS_TLS_CA", "/ca.pem"},
                                             {"WORKER_POOL_SIZE", "12"},
                                             {"WORKER_TIMEOUT", "90"},
                                             {"WORKER_ID", ""},
                                             {"BUILD_CODE_CACHE_PATH", "/mnt/repos"},
                                             {"BUILD_ALLOW_FILE_URLS", "1"},
                                             {"PIPELINES_ALLOW_REPO_SCRIPTS", "yes"},
                                             {"PIPELINES_MEMORY_LIMIT", "32MiB"},
                                             {"PIPELINES_INSTRUCTION_LIMIT", "1000"},
                                             {"PLUGINS_DIRS", "/opt/a, b,,c "},
                                             {"LOGGING_LEVEL", "warn"},
                                             {"LOGGING_FORMAT", "text"},
                                         }));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const Config& c = loaded.value();
  EXPECT_EQ(c.nats.url, "nats://queue:4222");
  EXPECT_EQ(c.nats.reconnect_wait, milliseconds(250));
  EXPECT_EQ(c.nats.stream_replicas, 3);
  EXPECT_EQ(c.nats.tls_ca, "/ca.pem");
  EXPECT_EQ(c.worker.pool_size, 12);
  EXPECT_EQ(c.worker.timeout, seconds(90));
  EXPECT_EQ(c.worker.id, "");
  EXPECT_EQ(c.build.code_cache_path, "/mnt/repos");
  EXPECT_TRUE(c.build.allow_file_urls);
  EXPECT_TRUE(c.pipelines.allow_repo_scripts);
  EXPECT_EQ(c.pipelines.memory_limit, 32u << 20);
  EXPECT_EQ(c.pipelines.instruction_limit, 1000u);
  EXPECT_EQ(c.plugins.dirs, (std::vector<std::string>{"/opt/a", "b", "c"}));
  EXPECT_EQ(c.logging.level, "warn");
  EXPECT_EQ(c.logging.format, "text");
}

TEST(EnvOverrides, BooleansTakeTrueFalseOneZeroYesNoInAnyCase) {
  const std::vector<std::pair<std::string, bool>> cases = {{"true", true}, {"TRUE", true}, {"1", true},
                                                           {"yes", true},  {"Yes", true},  {"false", false},
                                                           {"0", false},   {"no", false},  {"NO", false}};
  for (const auto& [text, expected] : cases) {
    auto config = LoadConfig(std::nullopt, MapEnv({{"PIPELINES_ALLOW_REPO_SCRIPTS", text}}));
    ASSERT_TRUE(config.ok()) << text << ": " << config.error();
    EXPECT_EQ(config->pipelines.allow_repo_scripts, expected) << text;
  }
}

TEST(EnvOverrides, WinOverTheFile) {
  TempDir dir;
  auto config = LoadYaml(dir, "worker:\n  pool_size: 4\nplugins:\n  dirs: [a, b]\n",
                         {{"WORKER_POOL_SIZE", "9"}, {"PLUGINS_DIRS", ""}});
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->worker.pool_size, 9);
  EXPECT_TRUE(config->plugins.dirs.empty());
}

TEST(EnvOverrides, AnInvalidValueNamesTheVariableAndTheKey) {
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> cases = {
      {{"WORKER_POOL_SIZE", "lots"}, "worker.pool_size: expected an integer, got 'lots'"},
      {{"WORKER_POOL_SIZE", "0"}, "worker.pool_size: must be between 1 and 256, got 0"},
      {{"WORKER_POOL_SIZE", ""}, "worker.pool_size: expected an integer, got ''"},
      {{"WORKER_TIMEOUT", "soon"}, "worker.timeout: expected a duration like"},
      {{"WORKER_TIMEOUT", "0"}, "worker.timeout: must be greater than 0, got 0s"},
      {{"PIPELINES_ALLOW_REPO_SCRIPTS", "maybe"}, "pipelines.allow_repo_scripts: expected a boolean"},
      {{"PIPELINES_MEMORY_LIMIT", "512KiB"}, "pipelines.memory_limit: must be at least 1MiB, got 512KiB"},
      {{"PIPELINES_INSTRUCTION_LIMIT", "-5"}, "pipelines.instruction_limit: must be at least 1000"},
      {{"LOGGING_LEVEL", "loud"}, "logging.level: must be one of trace, debug, info, warn, error, off"},
      {{"NATS_URL", "http://x:4222"}, "nats.url: scheme must be nats, tls, ws or wss"},
      {{"BUILD_WORKSPACE_PATH", ""}, "build.workspace_path: must not be empty"},
  };
  for (const auto& [var, expected] : cases) {
    auto config = LoadConfig(std::nullopt, MapEnv({var}));
    ASSERT_FALSE(config.ok()) << var.first << "=" << var.second;
    EXPECT_TRUE(Contains(config.error(), expected)) << config.error();
    EXPECT_TRUE(Contains(config.error(), "(from environment variable " + var.first + ")")) << config.error();
  }
}

TEST(EnvOverrides, ReachKeysOfPluginSectionsThatTheFileNames) {
  TempDir dir;
  auto config = LoadYaml(dir, R"(git:
  transport: libgit2
  depth: 50
  shallow: false
  ratio: 0.5
  remotes: [origin, upstream]
  ports: [22, 2222]
  mirror:
    path: /srv/mirror
  anything:
buildah:
  storage_driver: vfs
)",
                         {{"GIT_TRANSPORT", "cli"},
                          {"GIT_DEPTH", "1"},
                          {"GIT_SHALLOW", "yes"},
                          {"GIT_RATIO", "2"},
                          {"GIT_REMOTES", "a, b"},
                          {"GIT_PORTS", "9418"},
                          {"GIT_MIRROR_PATH", "/mnt/mirror"},
                          {"GIT_ANYTHING", "17"},
                          {"GIT_NOT_IN_FILE", "x"},
                          {"BUILDAH_ISOLATION", "oci"}});
  ASSERT_TRUE(config.ok()) << config.error();
  const nlohmann::json& git = config->plugin_sections.at("git");
  EXPECT_EQ(git.at("transport"), "cli");
  EXPECT_EQ(git.at("depth"), 1);
  EXPECT_EQ(git.at("shallow"), true);
  EXPECT_EQ(git.at("ratio"), 2.0);
  EXPECT_TRUE(git.at("ratio").is_number_float());
  EXPECT_EQ(git.at("remotes"), nlohmann::json::array({"a", "b"}));
  EXPECT_EQ(git.at("ports"), nlohmann::json::array({9418}));
  EXPECT_EQ(git.at("mirror").at("path"), "/mnt/mirror");
  EXPECT_EQ(git.at("anything"), 17);  // was null: typed like a plain YAML scalar
  EXPECT_FALSE(git.contains("not_in_file"));
  EXPECT_FALSE(config->plugin_sections.at("buildah").contains("isolation"));
}

TEST(EnvOverrides, AnInvalidPluginOverrideNamesTheVariableAndTheKey) {
  TempDir dir;
  auto config = LoadYaml(dir, "git:\n  depth: 50\n  shallow: true\n",
                         {{"GIT_DEPTH", "deep"}, {"GIT_SHALLOW", "sometimes"}});
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.error(), "git.depth: expected an integer, got 'deep' (from environment variable GIT_DEPTH)"))
      << config.error();
  EXPECT_TRUE(Contains(config.error(), "git.shallow: expected a boolean")) << config.error();
  EXPECT_TRUE(Contains(config.error(), "GIT_SHALLOW")) << config.error();
}

// ---------------------------------------------------------------------------------------
// Plugin sections

TEST(PluginSections, PassThroughAsJsonWithYamlTypes) {
  TempDir dir;
  auto config = LoadYaml(dir, R"(git:
  transport: cli
  depth: 1
  big: 18446744073709551615
  negative: -3
  ratio: 0.25
  exp: 1e3
  shallow: true
  off_word: off
  quoted_number: "42"
  quoted_bool: 'true'
  nothing: ~
  tags: [a, 1, false]
  nested: { list: [{ x: 1 }], empty: {} }
my_plugin_2:
empty_map: {}
)");
  ASSERT_TRUE(config.ok()) << config.error();
  const nlohmann::json& git = config->plugin_sections.at("git");
  EXPECT_EQ(git.at("transport"), "cli");
  EXPECT_EQ(git.at("depth"), 1);
  EXPECT_TRUE(git.at("depth").is_number_integer());
  EXPECT_EQ(git.at("big").get<std::uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(git.at("negative"), -3);
  EXPECT_EQ(git.at("ratio"), 0.25);
  EXPECT_EQ(git.at("exp"), 1000.0);
  EXPECT_EQ(git.at("shallow"), true);
  EXPECT_EQ(git.at("off_word"), "off");  // YAML 1.2: `off` is a string, not a boolean
  EXPECT_EQ(git.at("quoted_number"), "42");
  EXPECT_EQ(git.at("quoted_bool"), "true");
  EXPECT_TRUE(git.at("nothing").is_null());
  EXPECT_EQ(git.at("tags"), nlohmann::json::parse(R"(["a", 1, false])"));
  EXPECT_EQ(git.at("nested"), nlohmann::json::parse(R"({"list": [{"x": 1}], "empty": {}})"));
  EXPECT_EQ(config->plugin_sections.at("my_plugin_2"), nlohmann::json::object());
  EXPECT_EQ(config->plugin_sections.at("empty_map"), nlohmann::json::object());
  EXPECT_EQ(config->plugin_sections.size(), 3u);
}

TEST(PluginSections, BadSectionsAreErrorsWithTheirLine) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"worker:\n  pool_size: 2\nGit:\n  x: 1\n", "'Git': not a valid section name"},
      {"my-plugin:\n  x: 1\n", "'my-plugin': not a valid section name"},
      {"\n_x: {}\n", "'_x': not a valid section name"},
      {"git: cli\n", "git: expected a map of the git plugin's settings, got the string 'cli'"},
      {"git: [a]\n", "git: expected a map of the git plugin's settings, got a list"},
      {"git:\n  a: 1\n  a: 2\n", "git.a: duplicate key"},
      {"git:\n  a: 1\ngit:\n  b: 2\n", "git: duplicate section"},
  };
  for (const auto& [yaml, expected] : cases) {
    auto config = LoadYaml(dir, yaml);
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_TRUE(Contains(config.error(), expected)) << config.error();
    EXPECT_TRUE(Contains(config.error(), "config.yaml line ")) << config.error();
  }
  auto config = LoadYaml(dir, "worker:\n  pool_size: 2\nGit:\n  x: 1\n");
  EXPECT_TRUE(Contains(config.error(), "line 3")) << config.error();
}

// ---------------------------------------------------------------------------------------
// Errors in the file

TEST(FileErrors, AnUnknownKeyIsNamedWithItsLineAndAGuess) {
  TempDir dir;
  auto config = LoadYaml(dir, R"(# kiln
nats:
  url: nats://localhost:4222

worker:
  pool_size: 4
  pool_sise: 5
)");
  ASSERT_FALSE(config.ok());
  const std::string path = (dir / "config.yaml").string();
  EXPECT_EQ(config.error(), "worker.pool_sise: unknown key (" + path + " line 7); did you mean pool_size?");
}

TEST(FileErrors, AnUnknownKeyWithoutACloseMatchListsTheKeys) {
  TempDir dir;
  auto config = LoadYaml(dir, "logging:\n  colour: true\n");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.error(), "logging.colour: unknown key")) << config.error();
  EXPECT_TRUE(Contains(config.error(), "the keys of logging are level, format")) << config.error();
}

TEST(FileErrors, AWrongTypeNamesTheKeyTheExpectedTypeAndWhatItGot) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"worker:\n  pool_size: five\n", "worker.pool_size: expected an integer, got the string 'five' ("},
      {"worker:\n  pool_size: \"5\"\n", "worker.pool_size: expected an integer, got the string '5'"},
      {"worker:\n  pool_size: 2.5\n", "worker.pool_size: expected an integer, got the number 2.5"},
      {"worker:\n  pool_size:\n", "worker.pool_size: expected an integer, got null"},
      {"worker:\n  timeout: true\n", "worker.timeout: expected a duration like 90 (seconds), 250ms, 2s, 5m or 1h, got true"},
      {"worker:\n  timeout: [1]\n", "worker.timeout: expected a duration like 90 (seconds), 250ms, 2s, 5m or 1h, got a list"},
      {"worker:\n  timeout: 1.5\n", "worker.timeout: expected a duration like 90 (seconds), 250ms, 2s, 5m or 1h, got '1.5'"},
      {"worker:\n  timeout: 10 minutes\n", "worker.timeout: expected a duration"},
      {"pipelines:\n  allow_repo_scripts: yes\n", "pipelines.allow_repo_scripts: expected a boolean (true or false), got the string 'yes'"},
      {"pipelines:\n  allow_repo_scripts: \"true\"\n", "pipelines.allow_repo_scripts: expected a boolean (true or false), got the string 'true'"},
      {"pipelines:\n  allow_repo_scripts: 1\n", "pipelines.allow_repo_scripts: expected a boolean (true or false), got the number 1"},
      {"pipelines:\n  instruction_limit: many\n", "pipelines.instruction_limit: expected a whole number, got the string 'many'"},
      {"plugins:\n  dirs: /opt/plugins\n", "plugins.dirs: expected a list of strings, got the string '/opt/plugins'"},
      {"plugins:\n  dirs: [a, [b]]\n", "plugins.dirs: expected a list of strings, item 2 is a list"},
      {"nats:\n  url: { host: x }\n", "nats.url: expected a string, got a map"},
      {"worker: 5\n", "worker: expected a map of settings, got the number 5"},
      {"logging: [info]\n", "logging: expected a map of settings, got a list"},
      {"- nats\n", "expected a map of sections (nats:, worker:, ...) at the top, got a list"},
  };
  for (const auto& [yaml, expected] : cases) {
    auto config = LoadYaml(dir, yaml);
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_TRUE(Contains(config.error(), expected)) << "expected: " << expected << "\ngot: " << config.error();
    EXPECT_TRUE(Contains(config.error(), "config.yaml line 1") || Contains(config.error(), "config.yaml line 2"))
        << config.error();
  }
}

TEST(FileErrors, OutOfRangeValuesNameTheRange) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"worker:\n  pool_size: 0\n", "worker.pool_size: must be between 1 and 256, got 0"},
      {"worker:\n  pool_size: 257\n", "worker.pool_size: must be between 1 and 256, got 257"},
      {"worker:\n  pool_size: 99999999999999999999\n", "worker.pool_size: must be between 1 and 256"},
      {"worker:\n  queue_size: 0\n", "worker.queue_size: must be between 1 and 100000, got 0"},
      {"worker:\n  queue_size: 100001\n", "worker.queue_size: must be between 1 and 100000, got 100001"},
      {"worker:\n  max_retries: -1\n", "worker.max_retries: must be between 0 and 100, got -1"},
      {"worker:\n  max_retries: 101\n", "worker.max_retries: must be between 0 and 100, got 101"},
      {"worker:\n  timeout: 0\n", "worker.timeout: must be greater than 0, got 0s"},
      {"worker:\n  timeout: 0ms\n", "worker.timeout: must be greater than 0, got 0s"},
      {"worker:\n  metrics_port: 65536\n", "worker.metrics_port: must be between 0 and 65535"},
      {"nats:\n  connect_timeout: 0s\n", "nats.connect_timeout: must be greater than 0"},
      {"nats:\n  reconnect_wait: 0\n", "nats.reconnect_wait: must be greater than 0"},
      {"nats:\n  stream_replicas: 0\n", "nats.stream_replicas: must be between 1 and 5, got 0"},
      {"nats:\n  stream_replicas: 6\n", "nats.stream_replicas: must be between 1 and 5, got 6"},
      {"nats:\n  url: http://localhost:4222\n", "nats.url: scheme must be nats, tls, ws or wss, got 'http'"},
      {"nats:\n  url: localhost:4222\n", "nats.url: expected a URL like nats://host:4222"},
      {"nats:\n  url: nats://:4222\n", "nats.url: no host"},
      {"nats:\n  url: nats://host:0\n", "nats.url: port must be between 1 and 65535"},
      {"nats:\n  url: nats://host:4222,ftp://other\n", "nats.url: scheme must be nats, tls, ws or wss, got 'ftp'"},
      {"nats:\n  url: \"\"\n", "nats.url: must not be empty"},
      {"logging:\n  level: verbose\n", "logging.level: must be one of trace, debug, info, warn, error, off, got 'verbose'"},
      {"logging:\n  format: xml\n", "logging.format: must be one of json, text, got 'xml'"},
      {"pipelines:\n  memory_limit: 512KiB\n", "pipelines.memory_limit: must be at least 1MiB, got 512KiB"},
      {"pipelines:\n  memory_limit: 0\n", "pipelines.memory_limit: must be at least 1MiB, got 0 bytes"},
      {"pipelines:\n  instruction_limit: 999\n", "pipelines.instruction_limit: must be at least 1000, got 999"},
      {"pipelines:\n  step_timeout: 0\n", "pipelines.step_timeout: must be greater than 0"},
      {"pipelines:\n  dir: \"\"\n", "pipelines.dir: must not be empty"},
      {"build:\n  code_cache_path:\n", "build.code_cache_path: must not be empty"},
  };
  for (const auto& [yaml, expected] : cases) {
    auto config = LoadYaml(dir, yaml);
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_TRUE(Contains(config.error(), expected)) << "expected: " << expected << "\ngot: " << config.error();
    EXPECT_TRUE(Contains(config.error(), "config.yaml line 2)")) << config.error();
  }
}

TEST(FileErrors, TheEdgesOfEachRangeAreAccepted) {
  TempDir dir;
  auto low = LoadYaml(dir, R"(worker: { pool_size: 1, queue_size: 1, max_retries: 0, timeout: 1ms, metrics_port: 0 }
nats: { stream_replicas: 1, url: "wss://[::1]:443/path" }
pipelines: { memory_limit: 1MiB, instruction_limit: 1000 }
logging: { level: off }
)");
  ASSERT_TRUE(low.ok()) << low.error();
  auto high = LoadYaml(dir, R"(worker: { pool_size: 256, queue_size: 100000, max_retries: 100, metrics_port: 65535 }
nats: { stream_replicas: 5, url: "ws://host" }
)");
  ASSERT_TRUE(high.ok()) << high.error();
}

TEST(FileErrors, ANatsUrlErrorNeverShowsItsCredentials) {
  TempDir dir;
  auto config = LoadYaml(dir, "nats:\n  url: nats://kiln:hunter2secret@queue:99999\n");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.error(), "nats.url: port must be between 1 and 65535 in 'nats://***@queue:99999'"))
      << config.error();
  EXPECT_FALSE(Contains(config.error(), "hunter2secret")) << config.error();
}

TEST(FileErrors, EveryProblemIsReportedAtOnce) {
  TempDir dir;
  auto config = LoadYaml(dir, R"(worker:
  pool_size: 0
  queue_sise: 5
logging:
  level: loud
)");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.error(), "worker.pool_size: must be between 1 and 256, got 0")) << config.error();
  EXPECT_TRUE(Contains(config.error(), "worker.queue_sise: unknown key")) << config.error();
  EXPECT_TRUE(Contains(config.error(), "logging.level: must be one of")) << config.error();
  EXPECT_TRUE(Contains(config.error(), "line 5")) << config.error();
}

TEST(FileErrors, ADuplicateKeyIsAnError) {
  TempDir dir;
  auto config = LoadYaml(dir, "worker:\n  pool_size: 2\n  pool_size: 3\n");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.error(), "worker.pool_size: duplicate key")) << config.error();
  EXPECT_TRUE(Contains(config.error(), "line 3")) << config.error();
}

TEST(FileErrors, RetryDelayAboveItsMaximumNamesBothKeysAndOrigins) {
  TempDir dir;
  auto config = LoadYaml(dir, "worker:\n  retry_delay: 10m\n", {{"WORKER_RETRY_MAX_DELAY", "1m"}});
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.error(),
                       "worker.retry_delay: must not exceed worker.retry_max_delay (1m (from environment variable "
                       "WORKER_RETRY_MAX_DELAY)), got 10m"))
      << config.error();
  EXPECT_TRUE(Contains(config.error(), "config.yaml line 2")) << config.error();
}

TEST(FileErrors, BadYamlNamesTheFileAndLine) {
  TempDir dir;
  auto config = LoadYaml(dir, "worker:\n  pool_size: 4\n  dirs: [a, b\nlogging:\n  level: info\n");
  ASSERT_FALSE(config.ok());
  const std::string path = (dir / "config.yaml").string();
  EXPECT_TRUE(Contains(config.error(), path + " line ")) << config.error();
  EXPECT_TRUE(Contains(config.error(), "YAML syntax error")) << config.error();

  auto tabs = LoadYaml(dir, "worker:\n  pool_size: 4\n\tqueue_size: 5\n");
  ASSERT_FALSE(tabs.ok());
  EXPECT_TRUE(Contains(tabs.error(), path + " line 3")) << tabs.error();

  auto alias = LoadYaml(dir, "worker:\n  pool_size: *missing\n");
  ASSERT_FALSE(alias.ok());
  EXPECT_TRUE(Contains(alias.error(), path + " line 2")) << alias.error();
}

TEST(FileErrors, SeveralDocumentsAreRefused) {
  TempDir dir;
  auto config = LoadYaml(dir, "worker: {}\n---\nlogging: {}\n");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.error(), "holds 2 YAML documents")) << config.error();
}

TEST(FileErrors, AMissingOrUnreadableFileIsNamed) {
  TempDir dir;
  const std::string missing = (dir / "nope.yaml").string();
  auto config = LoadConfig(missing, MapEnv());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error(), missing + ": cannot read the config file: No such file or directory");

  auto directory = LoadConfig(dir.str(), MapEnv());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error(), dir.str() + ": cannot read the config file: it is a directory");

  auto empty_path = LoadConfig(std::string(), MapEnv());
  ASSERT_FALSE(empty_path.ok());
  EXPECT_TRUE(Contains(empty_path.error(), "cannot read the config file")) << empty_path.error();
}

}  // namespace
}  // namespace kiln

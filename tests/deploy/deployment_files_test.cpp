// Issue 8, point 4: the deployment files, checked without a Docker engine (CI has none).
// docker-compose.yml is read with yaml-cpp and its structure checked: three NATS nodes
// forming one JetStream cluster, at least two worker replicas, the gateway, the volumes.
// `docker compose config` runs too where a compose CLI exists (it does not need an engine).
// The compose config file must load with kiln's own loader; the systemd unit must pass
// `systemd-analyze verify`; the Dockerfile must be the two-stage Debian 12 build.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "support/temp_dir.hpp"
#include "support/contains.hpp"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = KILN_SOURCE_DIR;

std::vector<std::string> Strings(const YAML::Node& list) {
  std::vector<std::string> out;
  if (list.IsSequence()) {
    for (const auto& item : list) out.push_back(item.as<std::string>());
  } else if (list.IsScalar()) {
    // A command string: split on spaces (the file uses lists; this keeps the check honest
    // if someone writes a string).
    std::istringstream words(list.as<std::string>());
    for (std::string w; words >> w;) out.push_back(w);
  }
  return out;
}

/// The value after `flag` in a command, or "" (also accepts --flag=value).
std::string FlagValue(const std::vector<std::string>& command, const std::string& flag) {
  for (std::size_t i = 0; i < command.size(); ++i) {
    if (command[i] == flag && i + 1 < command.size()) return command[i + 1];
    if (command[i].rfind(flag + "=", 0) == 0) return command[i].substr(flag.size() + 1);
  }
  return "";
}

bool HasFlag(const std::vector<std::string>& command, std::initializer_list<std::string> names) {
  for (const auto& arg : command) {
    if (std::find(names.begin(), names.end(), arg) != names.end()) return true;
  }
  return false;
}

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

/// The environment of a service, as a map (compose takes a map or a list of K=V).
std::map<std::string, std::string> Environment(const YAML::Node& service) {
  std::map<std::string, std::string> env;
  const YAML::Node node = service["environment"];
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) env[it->first.as<std::string>()] = it->second.as<std::string>();
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      const std::string kv = item.as<std::string>();
      const auto eq = kv.find('=');
      env[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
  }
  return env;
}

/// Volume mounts "source:target[:mode]" of a service, as target -> source.
std::map<std::string, std::string> Mounts(const YAML::Node& service) {
  std::map<std::string, std::string> mounts;
  for (const auto& item : service["volumes"]) {
    if (item.IsMap()) {
      mounts[item["target"].as<std::string>()] = item["source"] ? item["source"].as<std::string>() : "";
      continue;
    }
    const auto parts = Split(item.as<std::string>(), ':');
    if (parts.size() == 1) mounts[parts[0]] = "";  // an anonymous volume
    else mounts[parts[1]] = parts[0];
  }
  return mounts;
}

bool IsNamedVolume(const std::string& source) {
  return !source.empty() && source[0] != '.' && source[0] != '/' && source[0] != '~' && source[0] != '$';
}

class Compose : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = YAML::LoadFile((kSource / "docker-compose.yml").string());
    ASSERT_TRUE(root_["services"].IsMap()) << "docker-compose.yml has no services map";
    for (auto it = root_["services"].begin(); it != root_["services"].end(); ++it) {
      services_[it->first.as<std::string>()] = it->second;
    }
  }

  /// Services whose command starts with `kiln_command` (the image's entrypoint is kiln).
  std::vector<std::string> KilnServices(const std::string& kiln_command) {
    std::vector<std::string> names;
    for (const auto& [name, service] : services_) {
      const auto command = Strings(service["command"]);
      if (!command.empty() && command[0] == kiln_command && !IsNats(service)) names.push_back(name);
    }
    return names;
  }

  static bool IsNats(const YAML::Node& service) {
    return service["image"] && service["image"].as<std::string>().rfind("nats", 0) == 0;
  }

  YAML::Node root_;
  std::map<std::string, YAML::Node> services_;
};

TEST_F(Compose, ThreeNatsNodesFormOneJetStreamClusterWithRoutesToEachOther) {
  std::map<std::string, std::vector<std::string>> nats;
  for (const auto& [name, service] : services_) {
    if (IsNats(service)) nats[name] = Strings(service["command"]);
  }
  ASSERT_EQ(nats.size(), 3u) << "expected three NATS services";
  std::set<std::string> server_names, cluster_names;
  for (const auto& [name, command] : nats) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(HasFlag(command, {"--jetstream", "-js"})) << "JetStream is not on";
    const std::string store = FlagValue(command, "--store_dir");
    ASSERT_FALSE(store.empty()) << "no --store_dir";
    // The store is on a named volume, declared at the top level.
    const auto mounts = Mounts(services_[name]);
    ASSERT_TRUE(mounts.count(store)) << "the store dir " << store << " is not a volume";
    EXPECT_TRUE(IsNamedVolume(mounts.at(store)));
    EXPECT_TRUE(root_["volumes"][mounts.at(store)]) << mounts.at(store) << " is not declared under volumes:";
    server_names.insert(FlagValue(command, "--name"));
    cluster_names.insert(FlagValue(command, "--cluster_name"));
    const std::string listen = FlagValue(command, "--cluster");
    ASSERT_EQ(listen.rfind("nats://", 0), 0u) << "--cluster " << listen;
    const std::string port = listen.substr(listen.rfind(':') + 1);
    // Routes name the two other nodes, by service name, on the cluster port.
    std::set<std::string> routed;
    for (const std::string& route : Split(FlagValue(command, "--routes"), ',')) {
      ASSERT_EQ(route.rfind("nats://", 0), 0u) << route;
      const std::string host_port = route.substr(7);
      const auto colon = host_port.rfind(':');
      EXPECT_EQ(host_port.substr(colon + 1), port) << route;
      routed.insert(host_port.substr(0, colon));
    }
    std::set<std::string> others;
    for (const auto& [other, unused] : nats) {
      if (other != name) others.insert(other);
    }
    EXPECT_EQ(routed, others) << "routes must reach the other two nodes";
  }
  EXPECT_EQ(server_names.size(), 3u) << "each node needs its own --name";
  EXPECT_FALSE(server_names.count(""));
  EXPECT_EQ(cluster_names.size(), 1u) << "one --cluster_name for all nodes";
  EXPECT_FALSE(cluster_names.count(""));
}

TEST_F(Compose, TwoOrMoreWorkersWithTheConfigTheClusterAndCacheVolumes) {
  const auto workers = KilnServices("worker");
  ASSERT_FALSE(workers.empty()) << "no service runs `kiln worker`";
  int replicas = 0;
  for (const auto& name : workers) {
    SCOPED_TRACE(name);
    const YAML::Node service = services_[name];
    replicas += service["deploy"]["replicas"] ? service["deploy"]["replicas"].as<int>() : 1;
    const auto mounts = Mounts(service);
    ASSERT_TRUE(mounts.count("/etc/kiln/config.yaml")) << "the config is not mounted";
    EXPECT_TRUE(fs::exists(kSource / mounts.at("/etc/kiln/config.yaml"))) << mounts.at("/etc/kiln/config.yaml");
    for (const std::string cache : {"/var/cache/kiln/repos", "/var/cache/kiln/deps"}) {
      ASSERT_TRUE(mounts.count(cache)) << cache << " is not a volume";
      EXPECT_TRUE(root_["volumes"][mounts.at(cache)]) << mounts.at(cache) << " is not declared";
    }
    // Every NATS node is in the worker's server list, and the streams are R3.
    const auto env = Environment(service);
    ASSERT_TRUE(env.count("NATS_URL"));
    for (const auto& [nats_name, nats_service] : services_) {
      if (IsNats(nats_service)) {
        EXPECT_TRUE(Contains(env.at("NATS_URL"), "nats://" + nats_name + ":4222")) << nats_name;
      }
    }
    EXPECT_EQ(env.count("NATS_STREAM_REPLICAS") ? env.at("NATS_STREAM_REPLICAS") : "", "3");
    const auto command = Strings(service["command"]);
    EXPECT_EQ(FlagValue(command, "--config"), "/etc/kiln/config.yaml");
  }
  EXPECT_GE(replicas, 2) << "at least two worker replicas";
}

TEST_F(Compose, TheGatewayIsThereWithItsPort) {
  const auto gateways = KilnServices("gateway");
  ASSERT_EQ(gateways.size(), 1u) << "one service runs `kiln gateway`";
  const YAML::Node gateway = services_[gateways[0]];
  EXPECT_EQ(FlagValue(Strings(gateway["command"]), "--config"), "/etc/kiln/config.yaml");
  EXPECT_TRUE(gateway["ports"].IsSequence() && gateway["ports"].size() >= 1);
  EXPECT_TRUE(Mounts(gateway).count("/etc/kiln/config.yaml"));
  // The container port it publishes is the one deploy/config.yaml makes it listen on, and
  // the secrets the config names come from its environment.
  auto config = LoadConfig((kSource / "deploy" / "config.yaml").string(), [](std::string_view) {
    return std::optional<std::string>();
  });
  ASSERT_TRUE(config.ok()) << config.error();
  const std::string published = gateway["ports"][0].as<std::string>();
  EXPECT_EQ(published.substr(published.rfind(':') + 1), std::to_string(config->gateway.port)) << published;
  const auto env = Environment(gateway);
  for (const std::string& reference : {config->gateway.webhook_secret, config->gateway.api_token}) {
    ASSERT_EQ(reference.rfind("env:", 0), 0u) << reference;
    EXPECT_TRUE(env.count(reference.substr(4))) << reference << " is not in the gateway's environment";
  }
}

TEST_F(Compose, ReferencesResolve) {
  std::set<std::string> declared;
  for (auto it = root_["volumes"].begin(); it != root_["volumes"].end(); ++it) declared.insert(it->first.as<std::string>());
  for (const auto& [name, service] : services_) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(service["image"] || service["build"]) << "neither image nor build";
    for (const auto& [target, source] : Mounts(service)) {
      if (IsNamedVolume(source)) {
        EXPECT_TRUE(declared.count(source)) << source << " (for " << target << ") is not declared";
      }
      if (!source.empty() && source[0] == '.') {
        EXPECT_TRUE(fs::exists(kSource / source)) << source;
      }
    }
    for (const auto& dependency : service["depends_on"]) {
      const std::string other = dependency.IsScalar() ? dependency.as<std::string>() : dependency.first.as<std::string>();
      EXPECT_TRUE(services_.count(other)) << "depends on unknown service " << other;
    }
    if (service["build"]) {
      const std::string context = service["build"]["context"] ? service["build"]["context"].as<std::string>() : ".";
      const std::string dockerfile =
          service["build"]["dockerfile"] ? service["build"]["dockerfile"].as<std::string>() : "Dockerfile";
      EXPECT_TRUE(fs::exists(kSource / context / dockerfile));
    }
  }
}

TEST_F(Compose, TheComposeConfigFileLoadsWithTheComposeEnvironment) {
  const auto workers = KilnServices("worker");
  ASSERT_FALSE(workers.empty());
  const auto env = Environment(services_[workers[0]]);
  const EnvLookup lookup = [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto config = LoadConfig((kSource / "deploy" / "config.yaml").string(), lookup);
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->nats.stream_replicas, 3);
  EXPECT_TRUE(Contains(config->nats.url, "nats-3"));
  ASSERT_FALSE(config->schedules.empty());
  EXPECT_EQ(config->schedules[0].job.pipeline, "cache-gc");
  EXPECT_TRUE(fs::exists(kSource / "pipelines" / "cache-gc.lua"));
}

TEST(ComposeCli, DockerComposeConfigAcceptsTheFileWhereACliExists) {
  // `docker compose config` needs the compose plugin but no engine; CI machines may have
  // neither, so this is skipped there (the structural checks above always run).
  std::string out;
  std::string cli;
  if (Shell("docker compose version >/dev/null 2>&1") == 0) cli = "docker compose";
  else if (Shell("docker-compose version >/dev/null 2>&1") == 0) cli = "docker-compose";
  if (cli.empty()) GTEST_SKIP() << "no docker compose CLI here";
  const int code = Shell("cd '" + kSource.string() + "' && " + cli + " -f docker-compose.yml config -q 2>&1", &out);
  EXPECT_EQ(code, 0) << out;
}

TEST(Dockerfile, TwoStagesOnDebian12WithKilnAndBuildahInstalled) {
  const std::string text = ReadFile(kSource / "Dockerfile");
  std::vector<std::string> from;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("FROM ", 0) == 0) from.push_back(line);
  }
  ASSERT_GE(from.size(), 2u) << "multi-stage";
  for (const auto& line : from) EXPECT_TRUE(Contains(line, "debian:12")) << line;
  EXPECT_TRUE(Contains(from.front(), " AS build"));
  EXPECT_TRUE(Contains(text, "cpack -G DEB"));
  EXPECT_TRUE(Contains(text, "COPY --from=build"));
  EXPECT_TRUE(Contains(text, "buildah"));
  EXPECT_TRUE(Contains(text, "ENTRYPOINT [\"/usr/bin/kiln\"]"));
  // Every file the Dockerfile copies from the context exists.
  EXPECT_TRUE(fs::exists(kSource / "deploy" / "config.yaml"));
  EXPECT_TRUE(fs::exists(kSource / ".dockerignore"));
}

TEST(SystemdUnit, PassesSystemdAnalyzeVerify) {
  const fs::path unit = kSource / "deploy" / "kiln-worker.service";
  const std::string text = ReadFile(unit);
  EXPECT_TRUE(Contains(text, "ExecStart=/usr/bin/kiln worker --config /etc/kiln/config.yaml"));
  EXPECT_TRUE(Contains(text, "KillSignal=SIGTERM"));
  if (Shell("command -v systemd-analyze >/dev/null 2>&1") != 0) GTEST_SKIP() << "no systemd-analyze here";
  // verify checks that ExecStart's binary exists: point it at the one just built.
  TempDir dir("kiln-unit");
  std::string copy = text;
  for (std::size_t at; (at = copy.find("/usr/bin/kiln")) != std::string::npos;) {
    copy.replace(at, 13, std::string(KILN_BINARY_DIR) + "/bin/kiln");
  }
  WriteFile(dir / "kiln-worker.service", copy);
  std::string out;
  const int code = Shell("systemd-analyze verify '" + (dir / "kiln-worker.service").string() + "' 2>&1", &out);
  EXPECT_EQ(code, 0) << out;
  // Unknown or misspelt directives are only warned about: any output is a failure here.
  EXPECT_EQ(out, "") << out;
}

}  // namespace
}  // namespace kiln::testing

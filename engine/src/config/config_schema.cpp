#include "config/config_schema.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <initializer_list>

#include "secrets/secret_store.hpp"

namespace kiln::config_schema {

namespace {

using config_value::Input;

constexpr std::uint64_t kMinMemoryLimit = 1ull << 20;
constexpr std::uint64_t kMinInstructionLimit = 1000;
constexpr std::uint64_t kMinDiskQuota = 1ull << 20;
constexpr std::uint64_t kMinLogBytes = 1ull << 20;

Result<bool> SetString(std::string& field, const Input& input, bool required = false) {
  auto value = config_value::ReadString(input);
  if (!value) return MakeError(value.error());
  if (required && value.value().empty()) return MakeError("must not be empty");
  field = std::move(value).value();
  return true;
}

Result<bool> SetInt(int& field, const Input& input, int min, int max) {
  auto value = config_value::ReadInteger(input, min, max);
  if (!value) return MakeError(value.error());
  field = static_cast<int>(value.value());
  return true;
}

Result<bool> SetBool(bool& field, const Input& input) {
  auto value = config_value::ReadBool(input);
  if (!value) return MakeError(value.error());
  field = value.value();
  return true;
}

enum class DurationRange { positive, non_negative };

Result<bool> SetDuration(Duration& field, const Input& input, DurationRange range) {
  auto value = config_value::ReadDuration(input);
  if (!value) return MakeError(value.error());
  // ParseDuration takes no sign, so only zero can be out of range here.
  if (range == DurationRange::positive && value.value() <= Duration::zero()) {
    return MakeError("must be greater than 0, got " + FormatDuration(value.value()));
  }
  field = value.value();
  return true;
}

Result<bool> SetSize(std::uint64_t& field, const Input& input, std::uint64_t min) {
  auto value = config_value::ReadSize(input);
  if (!value) return MakeError(value.error());
  if (value.value() < min) {
    return MakeError("must be at least " + config_value::FormatSize(min) + ", got " +
                     config_value::FormatSize(value.value()));
  }
  field = value.value();
  return true;
}

Result<bool> SetCount(std::uint64_t& field, const Input& input, std::uint64_t min) {
  auto value = config_value::ReadCount(input, min);
  if (!value) return MakeError(value.error());
  field = value.value();
  return true;
}

Result<bool> SetList(std::vector<std::string>& field, const Input& input) {
  auto value = config_value::ReadStringList(input);
  if (!value) return MakeError(value.error());
  field = std::move(value).value();
  return true;
}

// Paths shown in or hidden from the sandbox: relative ones would depend on where kiln runs.
Result<bool> SetAbsolutePaths(std::vector<std::string>& field, const Input& input) {
  auto value = config_value::ReadStringList(input);
  if (!value) return MakeError(value.error());
  for (const auto& path : value.value()) {
    if (path.empty() || path.front() != '/') return MakeError("must hold absolute paths, got '" + path + "'");
  }
  field = std::move(value).value();
  return true;
}

Result<bool> SetOneOf(std::string& field, const Input& input, std::initializer_list<std::string_view> allowed) {
  auto value = config_value::ReadString(input);
  if (!value) return MakeError(value.error());
  if (std::find(allowed.begin(), allowed.end(), value.value()) == allowed.end()) {
    std::string choices;
    for (std::string_view choice : allowed) choices += (choices.empty() ? "" : ", ") + std::string(choice);
    return MakeError("must be one of " + choices + ", got '" + value.value() + "'");
  }
  field = std::move(value).value();
  return true;
}

Result<bool> SetSecretReference(std::string& field, const Input& input) {
  if (!input.from_env() && !input.node->IsNull() && !input.node->IsScalar()) {
    return MakeError("expected 'env:VARIABLE' or 'file:PATH', got " + config_value::Describe(input, false));
  }
  auto value = config_value::ReadString(input);
  if (!value) return MakeError(value.error());
  if (!value.value().empty()) {
    auto valid = SecretStore::ValidateSpec(value.value());
    if (!valid) return MakeError(valid.error());
  }
  field = std::move(value).value();
  return true;
}

Result<bool> SetNatsUrl(std::string& field, const Input& input) {
  auto value = config_value::ReadString(input);
  if (!value) return MakeError(value.error());
  auto valid = CheckNatsUrl(value.value());
  if (!valid) return MakeError(valid.error());
  field = std::move(value).value();
  return true;
}

// A remembered delivery id must outlive BUILDS' duplicate window (2 minutes): below it, a
// redelivery could find neither the id nor JetStream's memory of it and build twice.
Result<bool> SetDeliveryTtl(Duration& field, const Input& input) {
  auto value = config_value::ReadDuration(input);
  if (!value) return MakeError(value.error());
  if (value.value() < std::chrono::minutes(2)) {
    return MakeError("must be at least 2m (JetStream's duplicate window), got " + FormatDuration(value.value()));
  }
  field = value.value();
  return true;
}

// The URL with any user-info replaced, so that a message about it leaks no password.
std::string WithoutCredentials(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < authority) return std::string(url);
  return std::string(url.substr(0, authority)) + "***" + std::string(url.substr(at));
}

Result<bool> CheckOneNatsUrl(std::string_view url) {
  const std::string shown = "'" + WithoutCredentials(url) + "'";
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return MakeError("expected a URL like nats://host:4222, got " + shown);
  }
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme != "nats" && scheme != "tls" && scheme != "ws" && scheme != "wss") {
    return MakeError("scheme must be nats, tls, ws or wss, got '" + scheme + "' in " + shown);
  }
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:4222
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return MakeError("unterminated IPv6 address in " + shown);
    host = authority.substr(0, close + 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return MakeError("unexpected text after the host in " + shown);
    if (!rest.empty()) port = rest.substr(1);
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return MakeError("no host in " + shown);
  if (authority.size() > host.size()) {  // a ':' was there, so a port must follow
    int number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number < 1 || number > 65535) {
      return MakeError("port must be between 1 and 65535 in " + shown);
    }
  }
  return true;
}

std::vector<CoreKey> MakeCoreKeys() {
  using R = DurationRange;
  // Captureless lambdas convert to the Apply function pointer; each names its field and
  // its range once, here.
  return {
      {"nats", "url", [](Config& c, const Input& in) { return SetNatsUrl(c.nats.url, in); }},
      {"nats", "reconnect_wait",
       [](Config& c, const Input& in) { return SetDuration(c.nats.reconnect_wait, in, R::positive); }},
      {"nats", "connect_timeout",
       [](Config& c, const Input& in) { return SetDuration(c.nats.connect_timeout, in, R::positive); }},
      {"nats", "credentials", [](Config& c, const Input& in) { return SetString(c.nats.credentials, in); }},
      {"nats", "user", [](Config& c, const Input& in) { return SetString(c.nats.user, in); }},
      {"nats", "password", [](Config& c, const Input& in) { return SetSecretReference(c.nats.password, in); }, true},
      {"nats", "token", [](Config& c, const Input& in) { return SetSecretReference(c.nats.token, in); }, true},
      {"nats", "tls_ca", [](Config& c, const Input& in) { return SetString(c.nats.tls_ca, in); }},
      {"nats", "tls_cert", [](Config& c, const Input& in) { return SetString(c.nats.tls_cert, in); }},
      {"nats", "tls_key", [](Config& c, const Input& in) { return SetString(c.nats.tls_key, in); }},
      {"nats", "stream_replicas", [](Config& c, const Input& in) { return SetInt(c.nats.stream_replicas, in, 1, 5); }},

      {"worker", "id", [](Config& c, const Input& in) { return SetString(c.worker.id, in); }},
      {"worker", "pool_size", [](Config& c, const Input& in) { return SetInt(c.worker.pool_size, in, 1, 256); }},
      {"worker", "queue_size", [](Config& c, const Input& in) { return SetInt(c.worker.queue_size, in, 1, 100000); }},
      {"worker", "timeout", [](Config& c, const Input& in) { return SetDuration(c.worker.timeout, in, R::positive); }},
      {"worker", "max_retries", [](Config& c, const Input& in) { return SetInt(c.worker.max_retries, in, 0, 100); }},
      {"worker", "retry_delay",
       [](Config& c, const Input& in) { return SetDuration(c.worker.retry_delay, in, R::non_negative); }},
      {"worker", "retry_max_delay",
       [](Config& c, const Input& in) { return SetDuration(c.worker.retry_max_delay, in, R::non_negative); }},
      {"worker", "ack_wait", [](Config& c, const Input& in) { return SetDuration(c.worker.ack_wait, in, R::positive); }},
      {"worker", "shutdown_grace",
       [](Config& c, const Input& in) { return SetDuration(c.worker.shutdown_grace, in, R::non_negative); }},
      {"worker", "metrics_port", [](Config& c, const Input& in) { return SetInt(c.worker.metrics_port, in, 0, 65535); }},

      {"build", "code_cache_path",
       [](Config& c, const Input& in) { return SetString(c.build.code_cache_path, in, true); }},
      {"build", "build_cache_path",
       [](Config& c, const Input& in) { return SetString(c.build.build_cache_path, in, true); }},
      {"build", "workspace_path",
       [](Config& c, const Input& in) { return SetString(c.build.workspace_path, in, true); }},
      {"build", "keep_failed_workspaces",
       [](Config& c, const Input& in) { return SetBool(c.build.keep_failed_workspaces, in); }},
      {"build", "allow_file_urls", [](Config& c, const Input& in) { return SetBool(c.build.allow_file_urls, in); }},

      {"pipelines", "dir", [](Config& c, const Input& in) { return SetString(c.pipelines.dir, in, true); }},
      {"pipelines", "allow_repo_scripts",
       [](Config& c, const Input& in) { return SetBool(c.pipelines.allow_repo_scripts, in); }},
      {"pipelines", "memory_limit",
       [](Config& c, const Input& in) { return SetSize(c.pipelines.memory_limit, in, kMinMemoryLimit); }},
      {"pipelines", "instruction_limit",
       [](Config& c, const Input& in) { return SetCount(c.pipelines.instruction_limit, in, kMinInstructionLimit); }},
      {"pipelines", "step_timeout",
       [](Config& c, const Input& in) { return SetDuration(c.pipelines.step_timeout, in, R::positive); }},
      {"pipelines", "script_time_limit",
       [](Config& c, const Input& in) { return SetDuration(c.pipelines.script_time_limit, in, R::positive); }},

      {"plugins", "dirs", [](Config& c, const Input& in) { return SetList(c.plugins.dirs, in); }},

      {"logging", "level",
       [](Config& c, const Input& in) {
         return SetOneOf(c.logging.level, in, {"trace", "debug", "info", "warn", "error", "off"});
       }},
      {"logging", "format", [](Config& c, const Input& in) { return SetOneOf(c.logging.format, in, {"json", "text"}); }},

      {"logs", "max_age", [](Config& c, const Input& in) { return SetDuration(c.logs.max_age, in, R::positive); }},
      {"logs", "max_bytes", [](Config& c, const Input& in) { return SetSize(c.logs.max_bytes, in, kMinLogBytes); }},

      {"sandbox", "enabled", [](Config& c, const Input& in) { return SetBool(c.sandbox.enabled, in); }},
      {"sandbox", "uid", [](Config& c, const Input& in) { return SetInt(c.sandbox.uid, in, 1, 2147483646); }},
      {"sandbox", "gid", [](Config& c, const Input& in) { return SetInt(c.sandbox.gid, in, 1, 2147483646); }},
      {"sandbox", "bwrap", [](Config& c, const Input& in) { return SetString(c.sandbox.bwrap, in, true); }},
      {"sandbox", "slirp4netns", [](Config& c, const Input& in) { return SetString(c.sandbox.slirp4netns, in, true); }},
      {"sandbox", "private_paths", [](Config& c, const Input& in) { return SetAbsolutePaths(c.sandbox.private_paths, in); }},
      {"sandbox", "read_only_paths",
       [](Config& c, const Input& in) { return SetAbsolutePaths(c.sandbox.read_only_paths, in); }},
      {"sandbox", "disk_quota",
       [](Config& c, const Input& in) { return SetSize(c.sandbox.disk_quota, in, kMinDiskQuota); }},
      {"sandbox", "max_processes",
       [](Config& c, const Input& in) { return SetInt(c.sandbox.max_processes, in, 16, 1 << 22); }},

      {"gateway", "address", [](Config& c, const Input& in) { return SetString(c.gateway.address, in, true); }},
      {"gateway", "port", [](Config& c, const Input& in) { return SetInt(c.gateway.port, in, 1, 65535); }},
      {"gateway", "webhook_secret",
       [](Config& c, const Input& in) { return SetSecretReference(c.gateway.webhook_secret, in); }, true},
      {"gateway", "api_token", [](Config& c, const Input& in) { return SetSecretReference(c.gateway.api_token, in); },
       true},
      {"gateway", "delivery_ttl", [](Config& c, const Input& in) { return SetDeliveryTtl(c.gateway.delivery_ttl, in); }},
      {"gateway", "tag_pushes",
       [](Config& c, const Input& in) { return SetOneOf(c.gateway.tag_pushes, in, {"ignore", "build"}); }},
      {"gateway", "branch_deletions",
       [](Config& c, const Input& in) { return SetOneOf(c.gateway.branch_deletions, in, {"ignore", "build"}); }},
      {"gateway", "max_body", [](Config& c, const Input& in) { return SetSize(c.gateway.max_body, in, 1024); }},
      {"gateway", "allow_compressed_bodies",
       [](Config& c, const Input& in) { return SetBool(c.gateway.allow_compressed_bodies, in); }},
      {"gateway", "header_timeout",
       [](Config& c, const Input& in) { return SetDuration(c.gateway.header_timeout, in, DurationRange::positive); }},
      {"gateway", "request_timeout",
       [](Config& c, const Input& in) { return SetDuration(c.gateway.request_timeout, in, DurationRange::positive); }},
      {"gateway", "idle_timeout",
       [](Config& c, const Input& in) { return SetDuration(c.gateway.idle_timeout, in, DurationRange::positive); }},
      {"gateway", "max_connections",
       [](Config& c, const Input& in) { return SetCount(c.gateway.max_connections, in, 1); }},
      {"gateway", "max_connections_per_address",
       [](Config& c, const Input& in) { return SetCount(c.gateway.max_connections_per_address, in, 1); }},
      {"gateway", "badges", [](Config& c, const Input& in) { return SetBool(c.gateway.badges, in); }},
  };
}

}  // namespace

const std::vector<CoreKey>& CoreKeys() {
  static const std::vector<CoreKey> keys = MakeCoreKeys();
  return keys;
}

const std::vector<std::string_view>& CoreSections() {
  static const std::vector<std::string_view> sections = {"nats",    "worker",  "build",   "pipelines",
                                                         "plugins", "logging", "logs",    "secrets",
                                                         "gateway", "sandbox"};
  return sections;
}

bool IsCoreSection(std::string_view section) {
  const auto& sections = CoreSections();
  return std::find(sections.begin(), sections.end(), section) != sections.end();
}

std::vector<std::string_view> KeysOf(std::string_view section) {
  std::vector<std::string_view> keys;
  for (const CoreKey& key : CoreKeys()) {
    if (key.section == section) keys.push_back(key.key);
  }
  return keys;
}

std::string EnvVarName(std::string_view section, std::string_view key) {
  std::string name = std::string(section) + "_" + std::string(key);
  for (char& c : name) {
    const auto u = static_cast<unsigned char>(c);
    c = std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return name;
}

bool IsSectionName(std::string_view name) {
  if (name.empty() || name.front() < 'a' || name.front() > 'z') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool IsSecretName(std::string_view name) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !letter(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '-'; });
}

Result<bool> CheckNatsUrl(std::string_view url) {
  if (url.empty()) return MakeError("must not be empty");
  // A cluster is given as several comma-separated servers, as cnats takes them.
  std::size_t start = 0;
  while (start <= url.size()) {
    std::size_t comma = url.find(',', start);
    if (comma == std::string_view::npos) comma = url.size();
    std::string_view one = url.substr(start, comma - start);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    auto valid = CheckOneNatsUrl(one);
    if (!valid) return valid;
    start = comma + 1;
  }
  return true;
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates) {
  // Optimal string alignment distance: a swapped pair of letters ("pool_sise") counts once.
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.size()][b.size()];
  };
  std::string best;
  std::size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    const std::size_t dist = distance(word, candidate);
    if (dist < best_distance && dist * 2 < word.size()) {
      best = std::string(candidate);
      best_distance = dist;
    }
  }
  return best;
}

}  // namespace kiln::config_schema

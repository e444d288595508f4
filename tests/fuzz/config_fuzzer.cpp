// The config loader (LoadConfig): YAML from a file, then SECTION_KEY environment overrides.
//
// An input is the file's text. A line "#--- environment" (a YAML comment, so the input stays
// a valid config) starts NAME=value lines the loader sees as its environment, so the
// overrides' own parsing (durations, sizes, booleans, lists, plugin keys) is fuzzed too.
//
// Promises checked: no crash, no exception escapes, no unbounded time or memory (libFuzzer's
// -timeout and -rss_limit_mb); an error is never empty; a loaded config's plugin sections
// serialise as JSON (a plugin's configure() gets them).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "fuzz_checks.hpp"

namespace {

constexpr std::string_view kEnvironmentMarker = "#--- environment";

const std::string& ConfigPath() {
  static const std::string path = [] {
    std::string dir = "/tmp/kiln-config-fuzz-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) kiln::fuzz::Fail("cannot make a temp dir");
    return dir + "/config.yaml";
  }();
  return path;
}

std::map<std::string, std::string> EnvironmentIn(std::string_view text) {
  std::map<std::string, std::string> variables;
  auto marker = text.find(kEnvironmentMarker);
  if (marker == std::string_view::npos) return variables;
  text.remove_prefix(marker + kEnvironmentMarker.size());
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    auto equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    variables[std::string(line.substr(0, equals))] = std::string(line.substr(equals + 1));
  }
  return variables;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(ConfigPath(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) kiln::fuzz::Fail("cannot write " + ConfigPath());
  }
  const std::map<std::string, std::string> variables = EnvironmentIn(text);
  const kiln::EnvLookup env = [&variables](std::string_view name) -> std::optional<std::string> {
    auto it = variables.find(std::string(name));
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };

  auto config = kiln::LoadConfig(ConfigPath(), env);
  if (!config) {
    if (config.error().empty()) kiln::fuzz::Fail("an empty error");
    return 0;
  }
  for (const auto& [section, json] : config->plugin_sections) {
    (void)json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}

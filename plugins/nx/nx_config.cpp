#include "nx_config.hpp"

namespace kiln::nx {

std::optional<InstallMode> ParseInstallMode(std::string_view text) {
  if (text == "auto") return InstallMode::automatic;
  if (text == "ci") return InstallMode::ci;
  if (text == "none") return InstallMode::none;
  return std::nullopt;
}

std::string_view ToString(InstallMode mode) {
  switch (mode) {
    case InstallMode::automatic: return "auto";
    case InstallMode::ci: return "ci";
    case InstallMode::none: return "none";
  }
  return "auto";
}

Parsed<NxConfig> ParseConfig(const nlohmann::json& section) {
  NxConfig config;
  if (section.is_null()) return config;
  if (!section.is_object()) return std::string("nx: must be a mapping, got ") + section.type_name();
  for (const auto& [key, value] : section.items()) {
    if (key == "install") {
      if (!value.is_string()) return std::string("nx.install: must be 'auto', 'ci' or 'none', got a ") + value.type_name();
      auto mode = ParseInstallMode(value.get<std::string>());
      if (!mode) return "nx.install: must be 'auto', 'ci' or 'none', got '" + value.get<std::string>() + "'";
      config.install = *mode;
    } else if (key == "parallel") {
      // An environment override (NX_PARALLEL=4) may arrive as a string.
      long long number = -1;
      if (value.is_number_integer()) {
        number = value.get<long long>();
      } else if (value.is_string() && !value.get<std::string>().empty() &&
                 value.get<std::string>().size() <= 3 &&
                 value.get<std::string>().find_first_not_of("0123456789") == std::string::npos) {
        number = std::stoll(value.get<std::string>());
      }
      if (number < 0 || number > 256) return "nx.parallel: must be an integer from 0 to 256, got " + value.dump();
      config.parallel = static_cast<int>(number);
    } else {
      return "nx." + key + ": unknown key (known: install, parallel)";
    }
  }
  return config;
}

}  // namespace kiln::nx

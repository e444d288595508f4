#include "package_manager_pin.hpp"

#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

namespace kiln::nx {

Parsed<std::optional<PackageManagerPin>> ParsePackageManagerPin(const std::string& package_json, std::string* ignored) {
  const auto doc = nlohmann::json::parse(package_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::optional<PackageManagerPin>{};
  const auto field = doc.find("packageManager");
  if (field == doc.end() || field->is_null()) return std::optional<PackageManagerPin>{};
  if (!field->is_string()) {
    return std::string("package.json: packageManager must be a string like \"yarn@4.15.0\", got a ") + field->type_name();
  }
  const std::string spec = field->get<std::string>();
  // A semver version, optionally followed by the hash Corepack checks the download against.
  static const std::regex kPin(R"(^(npm|pnpm|yarn|bun)@([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?)(\+[a-z0-9]+\.[0-9a-fA-F]+)?$)");
  std::smatch match;
  if (spec.size() > 300 || !std::regex_match(spec, match, kPin)) {
    return "package.json: packageManager '" + spec.substr(0, 300) +
           "' is not <npm|pnpm|yarn>@<version>[+<algorithm>.<hex hash>]";
  }
  if (match[1] == "bun") {
    if (ignored) *ignored = "package.json pins " + spec + ", which Corepack cannot fetch: using bun from PATH";
    return std::optional<PackageManagerPin>{};
  }
  return std::optional<PackageManagerPin>{PackageManagerPin{match[1], match[2], spec}};
}

Parsed<std::optional<PackageManagerPin>> ReadPackageManagerPin(const std::filesystem::path& dir, std::string* ignored) {
  std::ifstream in(dir / "package.json", std::ios::binary);
  if (!in) return std::optional<PackageManagerPin>{};
  std::ostringstream text;
  text << in.rdbuf();
  return ParsePackageManagerPin(text.str(), ignored);
}

}  // namespace kiln::nx

#include "package_manager_step.hpp"

#include "install.hpp"
#include "installed_paths.hpp"
#include "kiln/step_context.hpp"
#include "package_manager_pin.hpp"
#include "workspace.hpp"

namespace kiln::nx {
namespace fs = std::filesystem;

namespace {
constexpr const char* kStep = "nx.package_manager: ";
}

StepResult RunPackageManager(StepContext& ctx, const nlohmann::json& args) {
  if (!args.is_object()) return StepResult::Terminal(std::string(kStep) + "arguments must be a table");
  for (const auto& [key, value] : args.items()) {
    if (key != "dir") return StepResult::Terminal(std::string(kStep) + key + ": unknown argument (known: dir)");
  }
  const auto dir_arg = args.find("dir");
  if (dir_arg == args.end() || !dir_arg->is_string() || dir_arg->get<std::string>().empty()) {
    return StepResult::Terminal(std::string(kStep) + "dir: required (the workspace directory, e.g. src.path)");
  }
  std::string error;
  const fs::path dir = ResolveWorkspaceDir(ctx, dir_arg->get<std::string>(), &error);
  if (dir.empty()) return StepResult::Terminal(kStep + error);

  auto pin = ReadPackageManagerPin(dir);
  if (auto* bad = std::get_if<std::string>(&pin)) return StepResult::Terminal(kStep + *bad);
  const auto& pinned = std::get<std::optional<PackageManagerPin>>(pin);
  const PackageManager pm = DetectPackageManager(dir, pinned);
  const InstalledPaths installed = InstalledPathsFor(dir, pm.name, pinned, pm.lockfile);
  return StepResult::Ok({{"name", pm.name},
                         {"version", pinned ? pinned->version : ""},
                         {"pinned", pinned.has_value()},
                         {"lockfile", pm.lockfile.empty() ? "" : pm.lockfile.lexically_relative(dir).generic_string()},
                         {"linker", installed.linker},
                         {"paths", installed.paths},
                         {"key_files", installed.key_files}});
}

}  // namespace kiln::nx

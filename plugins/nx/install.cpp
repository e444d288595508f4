#include "install.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <system_error>

#include "kiln/step_context.hpp"

namespace kiln::nx {
namespace fs = std::filesystem;

namespace {

bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

/// The copy of the lockfile kiln leaves in node_modules after an install it ran. Unlike
/// the package manager's own marker it still says something after node_modules was saved
/// and restored by the cache plugin into a fresh checkout, where every mtime is new.
fs::path KilnLockfileCopy(const fs::path& dir) { return dir / "node_modules" / ".kiln-installed-lockfile"; }

bool SameContents(const fs::path& a, const fs::path& b) {
  std::error_code ec1, ec2;
  const auto size = fs::file_size(a, ec1);
  if (ec1 || size != fs::file_size(b, ec2) || ec2) return false;
  std::ifstream in_a(a, std::ios::binary), in_b(b, std::ios::binary);
  return std::equal(std::istreambuf_iterator<char>(in_a), std::istreambuf_iterator<char>(),
                    std::istreambuf_iterator<char>(in_b), std::istreambuf_iterator<char>());
}

/// node_modules was installed from this lockfile (or a later one) and not touched since:
/// kiln's copy of the lockfile matches it, or else the package manager's marker is at
/// least as new as the lockfile.
bool NodeModulesInStep(const fs::path& dir, const PackageManager& pm) {
  if (pm.lockfile.empty() || pm.install_marker.empty()) return false;
  if (!Exists(dir / "node_modules" / ".bin" / "nx")) return false;
  if (Exists(KilnLockfileCopy(dir))) return SameContents(KilnLockfileCopy(dir), pm.lockfile);
  std::error_code ec1, ec2;
  auto marker = fs::last_write_time(pm.install_marker, ec1);
  auto lockfile = fs::last_write_time(pm.lockfile, ec2);
  return !ec1 && !ec2 && marker >= lockfile;
}

std::string TailFromALineStart(const std::string& text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  auto cut = text.find('\n', text.size() - bytes);
  return cut == std::string::npos ? text.substr(text.size() - bytes) : text.substr(cut + 1);
}

}  // namespace

PackageManager DetectPackageManager(const fs::path& dir) {
  const fs::path modules = dir / "node_modules";
  for (const char* name : {"package-lock.json", "npm-shrinkwrap.json"}) {
    if (Exists(dir / name)) {
      return {"npm", dir / name, {"npm", "ci", "--no-audit", "--no-fund"}, modules / ".package-lock.json"};
    }
  }
  if (Exists(dir / "pnpm-lock.yaml")) {
    return {"pnpm", dir / "pnpm-lock.yaml", {"pnpm", "install", "--frozen-lockfile"}, modules / ".modules.yaml"};
  }
  if (Exists(dir / "yarn.lock")) {
    if (Exists(dir / ".yarnrc.yml")) {
      return {"yarn", dir / "yarn.lock", {"yarn", "install", "--immutable"}, modules / ".yarn-state.yml"};
    }
    return {"yarn", dir / "yarn.lock", {"yarn", "install", "--frozen-lockfile"}, modules / ".yarn-integrity"};
  }
  for (const char* name : {"bun.lock", "bun.lockb"}) {
    if (Exists(dir / name)) return {"bun", dir / name, {"bun", "install", "--frozen-lockfile"}, {}};
  }
  return {"npm", {}, {"npm", "install", "--no-audit", "--no-fund"}, modules / ".package-lock.json"};
}

PackageManager DetectPackageManager(const fs::path& dir, const std::optional<PackageManagerPin>& pin) {
  PackageManager by_lockfile = DetectPackageManager(dir);
  if (!pin) return by_lockfile;
  const fs::path modules = dir / "node_modules";
  if (pin->name == "pnpm") {
    fs::path lockfile = Exists(dir / "pnpm-lock.yaml") ? dir / "pnpm-lock.yaml" : fs::path{};
    return {"pnpm", lockfile,
            lockfile.empty() ? std::vector<std::string>{"pnpm", "install"}
                             : std::vector<std::string>{"pnpm", "install", "--frozen-lockfile"},
            modules / ".modules.yaml"};
  }
  if (pin->name == "yarn") {
    fs::path lockfile = Exists(dir / "yarn.lock") ? dir / "yarn.lock" : fs::path{};
    if (pin->version.rfind("1.", 0) == 0) {
      return {"yarn", lockfile, {"yarn", "install", lockfile.empty() ? "--non-interactive" : "--frozen-lockfile"},
              modules / ".yarn-integrity"};
    }
    return {"yarn", lockfile,
            lockfile.empty() ? std::vector<std::string>{"yarn", "install"}
                             : std::vector<std::string>{"yarn", "install", "--immutable"},
            modules / ".yarn-state.yml"};
  }
  if (by_lockfile.name == "npm") return by_lockfile;  // npm pinned: npm ci, through Corepack's shim
  return {"npm", {}, {"npm", "install", "--no-audit", "--no-fund"}, modules / ".package-lock.json"};
}

bool LooksLikeNetworkFailure(const std::string& output) {
  static constexpr std::array<std::string_view, 14> kMarkers = {
      "ECONNREFUSED", "ECONNRESET",   "ETIMEDOUT",          "ESOCKETTIMEDOUT", "ENOTFOUND",
      "EAI_AGAIN",    "ENETUNREACH",  "EHOSTUNREACH",       "EPIPE",           "ERR_SOCKET_TIMEOUT",
      "socket hang up", "network request", "request to http", "ETARGET_UNREACHABLE"};
  for (auto marker : kMarkers) {
    if (output.find(marker) != std::string::npos) return true;
  }
  // "npm error code E503", "npm ERR! code E502": the registry is having a bad moment.
  for (std::size_t at = output.find("code E5"); at != std::string::npos; at = output.find("code E5", at + 1)) {
    if (at + 8 < output.size() && std::isdigit(static_cast<unsigned char>(output[at + 7])) &&
        std::isdigit(static_cast<unsigned char>(output[at + 8]))) {
      return true;
    }
  }
  return false;
}

StepResult InstallPackages(StepContext& ctx, const fs::path& dir, InstallMode mode, const fs::path& npm_area,
                           const std::map<std::string, std::string>& env, const std::vector<SandboxMount>& mounts,
                           const PackageManagerSetup& setup) {
  const PackageManager pm = DetectPackageManager(dir, setup.pin);
  nlohmann::json outputs = {{"installed", false},
                             {"package_manager", pm.name},
                             {"package_manager_version", setup.pin ? setup.pin->version : ""},
                             {"package_manager_downloaded", setup.downloaded}};
  if (mode == InstallMode::none) return StepResult::Ok(outputs);
  if (mode == InstallMode::ci && pm.lockfile.empty()) {
    return StepResult::Terminal("install = 'ci' needs a lockfile, and " + dir.string() +
                                " has none (package-lock.json, pnpm-lock.yaml, yarn.lock or bun.lock)");
  }
  if (mode == InstallMode::automatic && NodeModulesInStep(dir, pm)) {
    ctx.log("node_modules is in step with " + pm.lockfile.filename().string() + ": not installing again");
    return StepResult::Ok(outputs);
  }
  if (pm.lockfile.empty()) ctx.warn("no lockfile in " + dir.string() + ": running `npm install`, which resolves versions anew");

  ProcessSpec spec;
  spec.argv = pm.frozen_install;
  spec.cwd = dir.string();
  spec.env = env;
  // The one step that downloads: out through the sandbox's user-mode network, never to the
  // host's own services. Install scripts run here too, as the sandbox uid.
  spec.network = Network::egress;
  spec.mounts = mounts;
  // The shared npm area (kiln/dependency_caches.hpp): npm's cache, pnpm's and yarn's stores beside it.
  const fs::path npm_cache = npm_area / "npm";
  spec.env["npm_config_cache"] = npm_cache.string();
  spec.env["npm_config_store_dir"] = (npm_area / "pnpm-store").string();
  spec.env["YARN_CACHE_FOLDER"] = (npm_area / "yarn").string();
  // yarn 2 and later keep their global cache (enableGlobalCache, yarn 4's default) there.
  if (!env.count("YARN_GLOBAL_FOLDER")) spec.env["YARN_GLOBAL_FOLDER"] = (npm_area / "yarn-berry").string();
  if (!env.count("YARN_ENABLE_TELEMETRY")) spec.env["YARN_ENABLE_TELEMETRY"] = "0";
  spec.env["npm_config_update_notifier"] = "false";
  spec.env["npm_config_progress"] = "false";
  spec.tail_bytes = 64 * 1024;
  std::string command;
  for (const auto& arg : spec.argv) command += (command.empty() ? "" : " ") + arg;
  ctx.log("installing packages: " + command + " (cache " + npm_cache.string() + ")");
  ctx.progress(5, "installing packages with " + pm.name);

  ProcessResult result = ctx.run(spec);
  if (!result.started) {
    return StepResult::Terminal("cannot run `" + command + "` in " + dir.string() + ": " + result.error);
  }
  if (result.cancelled || result.timed_out) {
    return StepResult::Terminal("`" + command + "` was stopped (" + (result.cancelled ? "cancelled" : "timed out") + ")");
  }
  if (!result.ok()) {
    const std::string tail = TailFromALineStart(result.output_tail, 4000);
    const std::string message = "`" + command + "` failed in " + dir.string() + " (exit " +
                                std::to_string(result.exit_code) + "):\n" + tail;
    if (LooksLikeNetworkFailure(result.output_tail)) return StepResult::Retryable(message);
    return StepResult::Terminal(message);
  }
  if (!pm.lockfile.empty()) {
    std::error_code ec;
    fs::copy_file(pm.lockfile, KilnLockfileCopy(dir), fs::copy_options::overwrite_existing, ec);
    if (ec) ctx.warn("cannot keep a copy of the lockfile in node_modules (" + ec.message() + "): the next job installs again");
  }
  outputs["installed"] = true;
  return StepResult::Ok(outputs);
}

StepResult SetUpAndInstall(StepContext& ctx, const std::filesystem::path& dir, InstallMode mode,
                           const std::filesystem::path& npm_area, std::map<std::string, std::string>* env,
                           const std::vector<SandboxMount>& mounts) {
  PackageManagerSetup setup;
  StepResult ready = SetUpPackageManager(ctx, dir, DetectPackageManager(dir).name, npm_area, *env, mounts, &setup);
  if (!ready.ok()) return ready;
  for (const auto& [key, value] : setup.env) (*env)[key] = value;
  return InstallPackages(ctx, dir, mode, npm_area, *env, mounts, setup);
}

}  // namespace kiln::nx

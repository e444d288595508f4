#include "corepack_setup.hpp"

#include <system_error>

#include "install.hpp"
#include "kiln/step_context.hpp"

namespace kiln::nx {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

/// `npm config get <key>` in the workspace, as its install would see it (the repository's
/// .npmrc included), in the sandbox without network. Empty when npm has none.
std::string NpmConfig(StepContext& ctx, const fs::path& dir, const std::string& key,
                      const std::map<std::string, std::string>& env, const std::vector<SandboxMount>& mounts) {
  ProcessSpec spec;
  spec.argv = {"npm", "config", "get", key};
  spec.cwd = dir.string();
  spec.env = env;
  spec.mounts = mounts;
  spec.log_output = false;
  ProcessResult result = ctx.run(spec);
  const std::string value = result.ok() ? Trim(result.output_tail) : "";
  return value == "null" || value == "undefined" ? "" : value;
}

std::string LastBytes(const std::string& text, std::size_t bytes) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

/// Corepack's output without its JavaScript stack ("    at fetch (...)"): what it says.
std::string WithoutStack(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (line.find_first_not_of(' ') == std::string::npos || line.compare(line.find_first_not_of(' '), 3, "at ") != 0) {
      out += line + "\n";
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

fs::path CorepackHome(const fs::path& npm_area) { return npm_area / "corepack"; }

StepResult SetUpPackageManager(StepContext& ctx, const fs::path& dir, const std::string& lockfile_manager,
                               const fs::path& npm_area, const std::map<std::string, std::string>& env,
                               const std::vector<SandboxMount>& mounts, PackageManagerSetup* setup) {
  std::string ignored;
  auto pin = ReadPackageManagerPin(dir, &ignored);
  if (auto* error = std::get_if<std::string>(&pin)) return StepResult::Terminal(*error);
  if (!ignored.empty()) ctx.warn(ignored);
  setup->pin = std::get<std::optional<PackageManagerPin>>(pin);
  const std::string name = setup->pin ? setup->pin->name : lockfile_manager;
  setup->via_corepack = setup->pin.has_value() || name == "yarn" || name == "pnpm";
  if (!setup->via_corepack) return StepResult::Ok({});

  const fs::path home = CorepackHome(npm_area);
  const fs::path shims = home / "bin";
  std::error_code ec;

  auto& out = setup->env;
  out["COREPACK_HOME"] = home.string();
  out["COREPACK_ENABLE_DOWNLOAD_PROMPT"] = "0";
  out["COREPACK_ENABLE_AUTO_PIN"] = "0";  // never rewrite the job's package.json
  // The registry npm is configured with (the repository's .npmrc, the machine's npmrc), not
  // Corepack's default host: where this machine's packages come from, a mirror included.
  std::map<std::string, std::string> query_env = env;
  query_env.insert(out.begin(), out.end());
  if (auto given = env.find("COREPACK_NPM_REGISTRY"); given != env.end()) {
    out["COREPACK_NPM_REGISTRY"] = given->second;
  } else if (std::string registry = NpmConfig(ctx, dir, "registry", query_env, mounts); !registry.empty()) {
    while (!registry.empty() && registry.back() == '/') registry.pop_back();
    out["COREPACK_NPM_REGISTRY"] = registry;
  }
  // npm trusts its `cafile`; Corepack is plain Node and needs it said.
  if (!env.count("NODE_EXTRA_CA_CERTS")) {
    if (std::string cafile = NpmConfig(ctx, dir, "cafile", query_env, mounts); !cafile.empty()) {
      out["NODE_EXTRA_CA_CERTS"] = cafile;
    }
  }
  out["PATH"] = shims.string() + ":" + (env.count("PATH") ? env.at("PATH") : std::string(kSystemPath));

  std::map<std::string, std::string> run_env = env;
  for (const auto& [key, value] : out) run_env[key] = value;
  // COREPACK_HOME is written by the job's processes, which may have left a link there: it is
  // made by a sandboxed process, as they are, never by the worker following that link.
  ProcessSpec mkdir;
  mkdir.argv = {"mkdir", "-p", shims.string()};
  mkdir.cwd = dir.string();
  mkdir.mounts = mounts;
  mkdir.log_output = false;
  ProcessResult made = ctx.run(mkdir);
  if (!made.ok()) {
    return StepResult::Terminal("cannot create " + shims.string() + ": " +
                                (made.started ? LastBytes(made.output_tail, 1000) : made.error));
  }
  // The shims (links to Corepack's own scripts) are made again each time: a job's processes
  // can write this directory, and what they left there is not run as the package manager.
  ProcessSpec enable;
  enable.argv = {"corepack", "enable", "--install-directory", shims.string(), "yarn", "pnpm"};
  if (setup->pin && setup->pin->name == "npm") enable.argv.push_back("npm");
  enable.cwd = dir.string();
  enable.env = run_env;
  enable.mounts = mounts;
  ProcessResult enabled = ctx.run(enable);
  if (!enabled.ok()) {
    return StepResult::Terminal("cannot set up Corepack (Node's, which provides " + name + ") in " + shims.string() + ": " +
                                (enabled.started ? LastBytes(enabled.output_tail, 2000) : enabled.error));
  }
  if (!setup->pin) return StepResult::Ok({});

  const PackageManagerPin& p = *setup->pin;
  const std::string registry = out.count("COREPACK_NPM_REGISTRY") ? out["COREPACK_NPM_REGISTRY"] : "Corepack's default registry";
  if (fs::is_directory(home / "v1" / p.name / p.version, ec)) {
    ctx.log("package manager " + p.spec + " (packageManager) is in " + home.string() + ": nothing to download");
    return StepResult::Ok({});
  }
  ProcessSpec install;
  install.argv = {"corepack", "install"};  // the version package.json pins, into COREPACK_HOME
  install.cwd = dir.string();
  install.env = run_env;
  install.mounts = mounts;
  install.network = Network::egress;
  install.tail_bytes = 16 * 1024;
  ctx.log("fetching package manager " + p.spec + " (packageManager) from " + registry + " into " + home.string());
  ProcessResult fetched = ctx.run(install);
  if (!fetched.started) return StepResult::Terminal("cannot run `corepack install`: " + fetched.error);
  if (fetched.cancelled || fetched.timed_out) return StepResult::Terminal("`corepack install` was stopped");
  if (!fetched.ok()) {
    const std::string text = WithoutStack(fetched.output_tail);
    const std::string what = "package.json's packageManager " + p.spec + " cannot be had from " + registry;
    if (text.find("HTTP 404") != std::string::npos || text.find("HTTP 410") != std::string::npos) {
      return StepResult::Terminal(what + ": the registry has no " + p.name + " " + p.version + "\n" + LastBytes(text, 2000));
    }
    if (text.find("No compatible signature") != std::string::npos) {
      return StepResult::Terminal(what + ": the registry's metadata carries no signature Corepack knows (a mirror that "
                                         "strips them needs COREPACK_INTEGRITY_KEYS=0 in the job's env)\n" + LastBytes(text, 2000));
    }
    if (LooksLikeNetworkFailure(text) && text.find("HTTP 4") == std::string::npos) {
      return StepResult::Retryable(what + " (network):\n" + LastBytes(text, 2000));
    }
    return StepResult::Terminal(what + ":\n" + LastBytes(text, 2000));
  }
  setup->downloaded = true;
  return StepResult::Ok({});
}

}  // namespace kiln::nx

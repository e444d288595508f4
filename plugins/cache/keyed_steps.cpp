#include "keyed_steps.hpp"

#include <chrono>

#include "keyed_store.hpp"
#include "kiln/repository_scope.hpp"
#include "safe_paths.hpp"
#include "step_args.hpp"

namespace kiln::cache {

namespace {

struct KeyedArgs {
  std::string key;
  std::vector<std::string> restore_keys;
  std::vector<WorkspacePath> paths;
};

bool ParseKeyedArgs(std::string_view step, const nlohmann::json& args, StepContext& ctx, bool with_restore_keys,
                    KeyedArgs* out, std::string* error) {
  *error = with_restore_keys ? CheckArgs(step, args, {"key", "paths", "restore_keys"})
                             : CheckArgs(step, args, {"key", "paths"});
  if (!error->empty()) return false;
  std::vector<std::string> paths;
  if (!StringArg(step, args, "key", true, &out->key, error) ||
      !StringListArg(step, args, "paths", true, &paths, error) ||
      (with_restore_keys && !StringListArg(step, args, "restore_keys", false, &out->restore_keys, error))) {
    return false;
  }
  const std::string prefix = "cache." + std::string(step) + ": ";
  if (std::string why = ValidateKey(out->key); !why.empty()) {
    *error = prefix + why;
    return false;
  }
  for (std::size_t i = 0; i < out->restore_keys.size(); ++i) {
    if (std::string why = ValidateKey(out->restore_keys[i], "restore_keys[" + std::to_string(i + 1) + "]");
        !why.empty()) {
      *error = prefix + why;
      return false;
    }
  }
  if (!ResolveWorkspacePaths(ctx.workspace(), paths, &out->paths, error)) {
    *error = prefix + *error;
    return false;
  }
  return true;
}

CopyOptions CopyOptionsFor(StepContext& ctx, const CacheConfig& config) {
  CopyOptions options;
  options.threads = config.copy_threads;
  options.cancelled = [&ctx] { return ctx.cancelled(); };
  return options;
}

// Where overlays get their upper and work directories; empty when restores copy. In the
// workspace, so the engine unmounts and removes them with it at the job's end; at its top,
// beside the checkout, not in it.
std::filesystem::path OverlayScratch(StepContext& ctx, const CacheConfig& config) {
  if (!config.overlay_restore) return {};
  return std::filesystem::path(ctx.workspace()) / ".kiln-overlays";
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string Megabytes(std::uint64_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buffer;
}

}  // namespace

StepResult RunRestoreStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config, RemoteLevel& remote) {
  KeyedArgs parsed;
  std::string error;
  if (!ParseKeyedArgs("restore", args, ctx, true, &parsed, &error)) return StepResult::Terminal(error);
  const auto start = std::chrono::steady_clock::now();
  const repository_scope::JobScopes scopes = repository_scope::ScopesForJob(ctx.job());
  RestoreOptions options;
  options.copy = CopyOptionsFor(ctx, config);
  options.overlay_scratch = OverlayScratch(ctx, config);
  // The job's own scopes only: an untrusted job's ref first (what it saved), then its
  // repository's; never another repository's. The exact key anywhere before any prefix:
  // locally, then remotely; prefixes locally only (a registry lists tags, not keys).
  RestoreOutcome outcome;
  std::vector<std::string> warnings;
  std::string restored_from;
  std::string source = "local";
  auto attempt = [&](const std::string& scope, const std::vector<std::string>& restore_keys) {
    outcome = KeyedStore(ctx.build_cache_dir(), scope).Restore(parsed.key, restore_keys, parsed.paths, options);
    warnings.insert(warnings.end(), outcome.warnings.begin(), outcome.warnings.end());
    if (outcome.cancelled || outcome.hit != RestoreOutcome::Hit::miss) {
      restored_from = scope == scopes.repository ? "repository" : "ref";
      return true;
    }
    return false;
  };
  bool done = false;
  for (const std::string& scope : scopes.restore) {
    if ((done = attempt(scope, {}))) break;
  }
  RegistryCredentials credentials;
  if (!done && config.remote.enabled() && CredentialsForStep(config.remote, ctx, &credentials, &error)) {
    for (const std::string& scope : scopes.restore) {
      KeyedStore store(ctx.build_cache_dir(), scope);
      std::string why;
      const RemoteLevel::FetchResult fetched = remote.Fetch(config.remote, credentials, store, parsed.key, ctx, &why);
      if (fetched == RemoteLevel::FetchResult::cancelled) return StepResult::Retryable("cache.restore: cancelled");
      if (!why.empty()) warnings.push_back("remote: " + why);
      if (fetched == RemoteLevel::FetchResult::hit && (done = attempt(scope, {}))) {
        source = "remote";
        break;
      }
    }
  } else if (!done && config.remote.enabled()) {
    warnings.push_back("remote: " + error);
  }
  if (!done && !parsed.restore_keys.empty()) {
    for (const std::string& scope : scopes.restore) {
      if (attempt(scope, parsed.restore_keys)) break;
    }
  }
  for (const auto& warning : warnings) ctx.warn("cache.restore: " + warning);
  if (outcome.cancelled) return StepResult::Retryable("cache.restore: cancelled");

  nlohmann::json out = {{"requested_key", parsed.key}, {"bytes", outcome.bytes}, {"files", outcome.files}};
  std::string message;
  switch (outcome.hit) {
    case RestoreOutcome::Hit::miss:
      out["hit"] = false;
      out["key"] = nullptr;
      message = "miss for \"" + parsed.key + "\"";
      break;
    case RestoreOutcome::Hit::exact:
    case RestoreOutcome::Hit::prefix:
      out["hit"] = outcome.hit == RestoreOutcome::Hit::exact ? "exact" : "prefix";
      out["key"] = outcome.matched_key;
      out["mode"] = outcome.mounted ? "overlay" : "copy";
      out["scope"] = restored_from;
      out["source"] = source;
      message = std::string(outcome.hit == RestoreOutcome::Hit::exact ? "exact" : "prefix") + " hit \"" +
                outcome.matched_key + "\": " + std::to_string(outcome.files) + " files, " +
                Megabytes(outcome.bytes) + (outcome.mounted ? ", mounted (overlay)" : ", copied") +
                (source == "remote" ? ", fetched from the registry" : "");
      if (!outcome.copied_because.empty()) message += " (no overlay: " + outcome.copied_because + ")";
      break;
  }
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, " in %.2fs", Seconds(start));
  message += elapsed;
  ctx.log("cache.restore: " + message);
  return StepResult::Ok(std::move(out), message);
}

StepResult RunSaveStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config, RemoteLevel& remote) {
  KeyedArgs parsed;
  std::string error;
  if (!ParseKeyedArgs("save", args, ctx, false, &parsed, &error)) return StepResult::Terminal(error);
  const auto start = std::chrono::steady_clock::now();
  // A trusted job saves into its repository's scope, an untrusted one into its ref's.
  const repository_scope::JobScopes scopes = repository_scope::ScopesForJob(ctx.job());
  KeyedStore store(ctx.build_cache_dir(), scopes.save);
  SaveOptions options;
  options.copy = CopyOptionsFor(ctx, config);
  options.durable = config.durable;
  options.overlay_scratch = OverlayScratch(ctx, config);
  const SaveOutcome outcome = store.Save(parsed.key, parsed.paths, options);

  nlohmann::json out = {{"key", parsed.key},
                        {"bytes", outcome.bytes},
                        {"files", outcome.files},
                        {"scope", scopes.trusted ? "repository" : "ref"}};
  std::string message;
  switch (outcome.kind) {
    case SaveOutcome::Kind::cancelled: return StepResult::Retryable("cache.save: cancelled");
    case SaveOutcome::Kind::failed:
      return StepResult::Retryable("cache.save: key \"" + parsed.key + "\": " + outcome.message);
    case SaveOutcome::Kind::saved:
      out["saved"] = true;
      out["status"] = "saved";
      message = "saved \"" + parsed.key + "\": " + std::to_string(outcome.files) + " files, " + Megabytes(outcome.bytes) +
                (outcome.kept_as_trees ? " (kept as the tree of overlay restores)" : "");
      break;
    case SaveOutcome::Kind::exists:
      out["saved"] = false;
      out["status"] = "exists";
      message = "not saved: " + outcome.message;
      break;
    case SaveOutcome::Kind::nothing_to_save:
      out["saved"] = false;
      out["status"] = "nothing";
      message = "not saved \"" + parsed.key + "\": " + outcome.message;
      ctx.warn("cache.save: " + message);
      break;
  }
  // The push runs after this step has returned (remote_level.hpp); an entry already in the
  // registry is not pushed again.
  if (config.remote.enabled() && (outcome.kind == SaveOutcome::Kind::saved || outcome.kind == SaveOutcome::Kind::exists) &&
      !store.RemotePushed(parsed.key)) {
    RegistryCredentials credentials;
    if (CredentialsForStep(config.remote, ctx, &credentials, &error)) {
      remote.EnqueuePush(config.remote, credentials, store, parsed.key);
      out["remote"] = "queued";
    } else {
      ctx.warn("cache.save: remote: " + error);
      out["remote"] = "skipped";
    }
  }
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, " in %.2fs", Seconds(start));
  message += elapsed;
  ctx.log("cache.save: " + message);
  return StepResult::Ok(std::move(out), message);
}

}  // namespace kiln::cache

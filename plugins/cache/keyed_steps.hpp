// cache.restore{ key, paths, restore_keys? } and cache.save{ key, paths }: keyed entries
// of workspace trees (node_modules, .m2 inside the repo, build outputs), see keyed_store.hpp.
//
//   restore -> { hit = "exact" | "prefix" | false, key = <the key restored, or nil>,
//                requested_key = key, bytes, files, mode, scope = "ref" | "repository" (on a hit) }
//   save    -> { saved = true | false, status = "saved" | "exists" | "nothing", key, bytes, files,
//                scope = "repository" | "ref" }
//
// Entries belong to the job's repository (kiln/repository_scope.hpp): a trusted job reads
// and writes its repository's scope; an untrusted one reads its ref's scope, then its
// repository's, and writes only its ref's. The script's keys do not change.
//
// With a remote level (cache.remote, remote_level.hpp), restore looks for the exact key in
// each scope locally, then in the registry (keeping what it fetched), and only then by the
// restore_keys' prefixes, locally: `source = "local" | "remote"` says where a hit came
// from. Save pushes what it saved (or found saved and not yet pushed) in the background.
// A remote failure is a warning and a count, never a failed step.
//
// Errors: a bad key or path is terminal. A broken or unreadable entry is never an error:
// restore reports a miss (and a warning). A save that fails to write (no space) is
// retryable; cancellation is reported as retryable "cancelled" (the engine knows better).
#pragma once

#include <nlohmann/json.hpp>

#include "cache_config.hpp"
#include "remote_level.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln::cache {

/// `remote` is used when config.remote is enabled.
StepResult RunRestoreStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config, RemoteLevel& remote);
StepResult RunSaveStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config, RemoteLevel& remote);

}  // namespace kiln::cache

// Validation of what a pipeline script hands the cache: keys and workspace paths.
//
// A key becomes a directory name under keyed/, so it must be one safe path component;
// a path must stay inside the job's workspace, after following the symlinks that already
// exist on the way (a workspace symlink to /etc must not let a restore write there), which
// kiln/workspace_path.hpp decides; what to refuse before that ('..' at all) is the cache's.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kiln::cache {

inline constexpr std::size_t kMaxKeyLength = 200;
inline constexpr std::size_t kMaxPathLength = 4096;

/// "" when `key` is a usable cache key, else why not (naming the key). Allowed: letters,
/// digits and . _ - + = @ , : ~ ; not empty, not starting with '.', at most kMaxKeyLength.
/// `what` names the argument in the message ("key", "restore_keys[2]").
std::string ValidateKey(std::string_view key, std::string_view what = "key");

/// Resolves `path` (relative to `workspace`, or absolute and inside it) to an absolute
/// path strictly inside the workspace, following the symlinks that stay inside
/// (kiln/workspace_path.hpp). Rejects empty paths, NUL bytes, '..' components (even ones
/// that stay inside), overlong paths, a symlink on the way that leads out (also a dangling
/// one), and the workspace itself. On failure returns false with `error` naming the path.
bool ResolveInWorkspace(const std::filesystem::path& workspace, std::string_view path,
                        std::filesystem::path* resolved, std::string* error);

/// Bytes outside printable ASCII, and '%', as %XX: for names in manifests and messages.
std::string Escape(std::string_view text);
/// The inverse of Escape; false on a malformed escape.
bool Unescape(std::string_view text, std::string* out);

}  // namespace kiln::cache

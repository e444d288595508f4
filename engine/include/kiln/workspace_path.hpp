// kiln plugin SDK: a path a job names, resolved beneath a root (the job's workspace, a build
// context) so that neither ".." nor a symlink leads out of it.
//
// A job's repository and its processes decide what the workspace holds, symlinks included:
// `src -> /etc` or `deps -> ../../other-job` are theirs to plant. A path a pipeline or a step
// argument names is therefore walked one component at a time from the root's real path, as
// the kernel would walk it, and refused as soon as it would leave:
//
//   - ".." above the root                        "'../x' leaves the workspace"
//   - a symlink whose target lies outside, as an absolute path or through ".." (also a
//     dangling one, and one reached through another link)
//                                                "'a/link' is a symlink that points outside
//                                                 the workspace (to '/etc')"
//   - an absolute path not under the root        "'/etc' is outside the workspace"
//
// A symlink that stays inside is followed. A tail that does not exist yet is allowed (for
// callers that create it) and kept as written; whether the result must exist, may be the
// root itself, or may be spelled with ".." at all is the caller's policy, checked on the
// Resolution it gets back. An absolute path is taken when it lies under the root as the
// caller spells it or under the root's real path.
//
// This is a check of the file system as it is now, and its answer is a path: for callers
// that hand the path to another program (bubblewrap's cwd, buildah, libgit2, NX), or that
// check before the job's processes run again. A path opened while something the job runs
// may still change the tree is opened beneath the root by descriptor instead, so nothing
// can be swapped between the check and the use. The cache plugin's restore does that
// (plugins/cache/open_beneath.*: openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), else an
// O_NOFOLLOW walk). It stays there and out of this header on purpose: it refuses every
// symlink, also one that stays inside (an entry's tree is untrusted data being written),
// and it answers with descriptors, which none of the other callers can pass on.
//
// Header-only, standard library only. Thread safety: reads the file system; any thread.
#pragma once

#include <cstddef>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace kiln::workspace_path {

/// What Resolve found: a path beneath the root, or why there is none.
struct Resolution {
  /// Absolute, beneath the root's real path, every existing symlink on the way resolved
  /// (a missing tail appended as written). Empty on failure.
  std::filesystem::path path;
  /// `path` relative to the root's real path; empty for the root itself.
  std::filesystem::path beneath;
  /// Empty when resolved; else what is wrong, naming the path as given and the link that
  /// leads out, if one does.
  std::string error;

  bool ok() const { return error.empty(); }
  explicit operator bool() const { return ok(); }
  bool is_root() const { return ok() && beneath.empty(); }
};

namespace detail {

/// `text` in single quotes for a message: control bytes as \xNN, cut after 200 bytes.
inline std::string Quoted(std::string_view text) {
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < 200; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(c));
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > 200) out += "...";
  return out + "'";
}

/// The components of `path` after `base` (both absolute), skipping empty and "." ones;
/// nothing when `path` is not under `base` component by component.
inline std::optional<std::vector<std::string>> ComponentsUnder(const std::filesystem::path& path,
                                                               const std::filesystem::path& base) {
  auto plain = [](const std::filesystem::path& p) {
    std::vector<std::string> parts;
    for (const auto& part : p.relative_path()) {
      if (!part.empty() && part != ".") parts.push_back(part.string());
    }
    return parts;
  };
  std::vector<std::string> wanted = plain(base);
  std::vector<std::string> parts = plain(path);
  if (parts.size() < wanted.size()) return std::nullopt;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (parts[i] != wanted[i] || parts[i] == "..") return std::nullopt;
  }
  return std::vector<std::string>(parts.begin() + static_cast<std::ptrdiff_t>(wanted.size()), parts.end());
}

inline std::filesystem::path Join(const std::vector<std::string>& parts) {
  std::filesystem::path out;
  for (const auto& part : parts) out /= part;
  return out;
}

}  // namespace detail

/// Links followed in one resolution before it gives up, as Linux's own limit.
inline constexpr int kMaxSymlinks = 40;

/// Resolves `path` (relative to `root`, or absolute and under it) beneath `root` as the
/// file comment says. `root_name` names the root in messages ("the workspace", "the build
/// context"). Fails on an empty path and on a NUL byte too.
inline Resolution Resolve(const std::filesystem::path& root, std::string_view path,
                          std::string_view root_name = "the workspace") {
  namespace fs = std::filesystem;
  Resolution out;
  const std::string shown = detail::Quoted(path);
  const std::string where(root_name);
  auto fail = [&](std::string why) {
    out.error = std::move(why);
    return out;
  };
  if (path.empty()) return fail("the path is empty");
  if (path.find('\0') != std::string_view::npos) return fail(shown + " contains a NUL byte");

  std::error_code ec;
  const fs::path spelled = fs::absolute(root, ec).lexically_normal();
  fs::path real_root = ec ? fs::path() : fs::weakly_canonical(spelled, ec);
  if (ec || real_root.empty()) {
    return fail(where + " " + detail::Quoted(root.string()) + " cannot be resolved" +
                (ec ? ": " + ec.message() : std::string()));
  }
  // "/root/" would make every path below it end in an empty component.
  if (!real_root.has_filename() && real_root != real_root.root_path()) real_root = real_root.parent_path();

  // Each component still to walk carries the link it came from ("" for the path itself),
  // so a ".." that climbs out names that link.
  struct Pending {
    std::string part;
    std::string from_link;  // the link's path beneath the root
    std::string to;         // and its target, as written
  };
  std::deque<Pending> todo;
  auto push_front = [&](const std::vector<std::string>& parts, const std::string& from_link, const std::string& to) {
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_front({*it, from_link, to});
  };
  auto points_outside = [&](const std::string& link, const std::string& to) {
    return fail(shown + ": " + detail::Quoted(link) + " is a symlink that points outside " + where + " (to " +
                detail::Quoted(to) + ")");
  };
  auto under_root = [&](const fs::path& absolute) {
    if (auto parts = detail::ComponentsUnder(absolute, spelled)) return parts;
    return detail::ComponentsUnder(absolute, real_root);
  };

  const fs::path given{std::string(path)};
  if (given.is_absolute()) {
    auto parts = under_root(given);
    if (!parts) return fail(shown + " is outside " + where);
    push_front(*parts, "", "");
  } else {
    std::vector<std::string> parts;
    for (const auto& part : given) {
      if (!part.empty() && part != ".") parts.push_back(part.string());
    }
    push_front(parts, "", "");
  }

  std::vector<std::string> walked;  // the real path beneath the root so far
  // Where in `walked` the first component that does not exist is: from there on the path
  // is as written, until a ".." climbs back above it into what exists (and must be
  // walked again: "nope/../link" reaches `link` through no missing directory).
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t missing_at = kNone;
  int links = 0;
  while (!todo.empty()) {
    Pending next = std::move(todo.front());
    todo.pop_front();
    if (next.part.empty() || next.part == ".") continue;
    if (next.part == "..") {
      if (walked.empty()) {
        if (!next.from_link.empty()) return points_outside(next.from_link, next.to);
        return fail(shown + " leaves " + where);
      }
      walked.pop_back();
      if (missing_at != kNone && walked.size() <= missing_at) missing_at = kNone;
      continue;
    }
    walked.push_back(next.part);
    if (missing_at != kNone) continue;
    const fs::path here = real_root / detail::Join(walked);
    const fs::file_status status = fs::symlink_status(here, ec);
    if (status.type() == fs::file_type::not_found) {  // ENOENT, or ENOTDIR below a file
      missing_at = walked.size() - 1;
      continue;
    }
    if (ec) return fail(shown + ": cannot read " + detail::Quoted(here.string()) + ": " + ec.message());
    if (status.type() != fs::file_type::symlink) continue;

    const std::string link = detail::Join(walked).string();
    if (++links > kMaxSymlinks) return fail(shown + ": too many levels of symbolic links (at " + detail::Quoted(link) + ")");
    const fs::path target = fs::read_symlink(here, ec);
    if (ec) return fail(shown + ": cannot read the symlink " + detail::Quoted(link) + ": " + ec.message());
    walked.pop_back();  // a relative target starts in the link's directory
    if (target.is_absolute()) {
      auto parts = under_root(target);
      if (!parts) return points_outside(link, target.string());
      walked.clear();
      push_front(*parts, link, target.string());
    } else {
      std::vector<std::string> parts;
      for (const auto& part : target) parts.push_back(part.string());
      push_front(parts, link, target.string());
    }
  }
  out.beneath = detail::Join(walked);
  out.path = walked.empty() ? real_root : real_root / out.beneath;
  return out;
}

}  // namespace kiln::workspace_path

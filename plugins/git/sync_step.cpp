#include "sync_step.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include "credentials.hpp"
#include "kiln/workspace_path.hpp"
#include "libgit2_handles.hpp"
#include "mirror_cache.hpp"
#include "repo_url.hpp"
#include "step_args.hpp"
#include "workspace_checkout.hpp"

namespace kiln::git {
namespace {

constexpr int kMaxSubmoduleDepth = 8;

struct SubmoduleEntry {
  std::string name;
  std::string path;
  std::string url;
  std::string commit;
};

struct SyncState {
  const GitConfig& config;
  const MirrorCache& cache;
  StepContext& ctx;
  std::string secret_name;  // the step's `credentials`, used for the superproject's host
  std::string secret_host;
  std::size_t fetched_objects = 0;
  nlohmann::json submodules = nlohmann::json::array();
};

int CollectSubmodule(git_submodule* submodule, const char* name, void* payload) {
  auto& entries = *static_cast<std::vector<SubmoduleEntry>*>(payload);
  SubmoduleEntry entry;
  entry.name = name;
  entry.path = git_submodule_path(submodule);
  entry.url = git_submodule_url(submodule) != nullptr ? git_submodule_url(submodule) : "";
  if (const git_oid* id = git_submodule_head_id(submodule)) entry.commit = git_oid_tostr_s(id);
  entries.push_back(std::move(entry));
  return 0;
}

std::optional<StepResult> SyncSubmodules(SyncState& state, const RepoUrl& super_url,
                                         const std::filesystem::path& super_dir, const std::string& prefix, int depth);

// Whose login a fetch may present: the job's (the superproject, and the submodules that
// git.submodule_credentials names), or only what the URL itself carries.
enum class Login { job, url_only };

// Fetches one repository's commit into its mirror and checks it out into `dir`.
std::optional<StepResult> SyncOne(SyncState& state, const RepoUrl& url, const std::string& commit,
                                  const std::string& extra_ref, const std::string& branch,
                                  const std::filesystem::path& dir, Login login, std::string* source) {
  std::string error;
  std::optional<Credential> credential;
  FetchPolicy policy = state.config.fetch;
  if (login == Login::job) {
    const std::string secret = url.host_key() == state.secret_host ? state.secret_name : std::string();
    credential = ResolveCredential(url, secret, state.config, state.ctx, &error);
    if (!credential) return StepResult::Terminal(error);
  } else {
    credential = CredentialInUrl(url, state.ctx);
    // The mirror is shared: another job's credentials may have put the commit there. Only
    // the remote can say whether this fetch may read it, so it is always asked.
    policy = FetchPolicy::always;
  }
  MirrorRequest request{url, commit, extra_ref, *credential, policy};
  MirrorResult mirror = state.cache.EnsureCommit(request, state.ctx);
  state.fetched_objects += mirror.fetched_objects;
  if (mirror.failure) return mirror.failure;
  *source = mirror.source;
  if (state.ctx.cancelled()) return StepResult::Retryable("cancelled before the checkout");

  state.ctx.log("checking out " + commit + " into " + dir.string());
  CheckoutRequest checkout{mirror.mirror, dir, commit, branch, url.clean()};
  error = CheckoutWorkspace(checkout, state.ctx);
  mirror.lock.Release();  // the workspace is made: later fetches may go on
  if (!error.empty()) return StepResult::Retryable(error);
  return std::nullopt;
}

std::optional<StepResult> SyncSubmodules(SyncState& state, const RepoUrl& super_url,
                                         const std::filesystem::path& super_dir, const std::string& prefix,
                                         int depth) {
  std::vector<SubmoduleEntry> entries;
  {
    git_repository* raw = nullptr;
    if (git_repository_open(&raw, super_dir.c_str()) != 0) {
      return StepResult::Retryable("cannot open " + super_dir.string() + ": " + LastGitError());
    }
    RepositoryPtr repo(raw);
    if (git_submodule_foreach(repo.get(), &CollectSubmodule, &entries) != 0) {
      return StepResult::Terminal("cannot read the submodules of " + prefix + ": " + LastGitError());
    }
  }
  if (!entries.empty() && depth >= kMaxSubmoduleDepth) {
    return StepResult::Terminal("submodules nest deeper than " + std::to_string(kMaxSubmoduleDepth) + " levels at " +
                                prefix);
  }
  for (const auto& entry : entries) {
    const std::string shown = prefix.empty() ? entry.path : prefix + "/" + entry.path;
    if (entry.commit.empty()) {
      state.ctx.warn("submodule '" + shown + "' is in .gitmodules but not in the commit; skipped");
      continue;
    }
    std::filesystem::path relative;
    if (auto why = ParseRelativePath("sync", "submodule path", entry.path, &relative); !why.empty()) {
      return StepResult::Terminal("submodule '" + entry.name + "': bad path: " + why);
    }
    std::string why;
    auto url = ResolveSubmoduleUrl(super_url, entry.url, &why);
    if (!url) return StepResult::Terminal("submodule '" + shown + "': malformed URL: " + why);
    if (url->is_local() && !super_url.is_local()) {
      return StepResult::Terminal("submodule '" + shown + "': a local URL is not allowed for a remote repository");
    }
    // The checkout of the superproject made every directory on the way; none may be a
    // link that leads out of it (kiln/workspace_path.hpp: component by component, where a
    // string prefix took a link to "<working copy>-evil" for one inside).
    const auto dir = super_dir / relative;
    if (const auto inside = workspace_path::Resolve(super_dir, relative.string(), "the working copy"); !inside) {
      return StepResult::Terminal("submodule '" + shown + "': its path leaves the working copy: " + inside.error);
    }
    const Login login = state.config.submodule_credentials.Allows(*url) ? Login::job : Login::url_only;
    std::string source;
    if (auto failure = SyncOne(state, *url, entry.commit, "", "", dir, login, &source)) {
      failure->message = "submodule '" + shown + "': " + failure->message;
      if (login == Login::url_only && failure->status == StepResult::Status::terminal) {
        failure->message += " (a submodule is fetched without the job's credentials unless "
                            "git.submodule_credentials names its repository or host)";
      }
      return failure;
    }
    state.submodules.push_back({{"path", shown}, {"url", url->clean()}, {"commit", entry.commit}, {"source", source}});
    if (auto failure = SyncSubmodules(state, *url, dir, shown, depth + 1)) return failure;
  }
  return std::nullopt;
}

}  // namespace

StepResult SyncStep::Run(const nlohmann::json& args, StepContext& ctx) const {
  constexpr std::string_view kStep = "sync";
  std::string url_text, commit_text, ref_text, secret_name, dir_text = "src";
  bool submodules = false;
  if (auto why = CheckArgumentNames(kStep, args, {"url", "commit", "ref", "submodules", "credentials", "dir"});
      !why.empty()) {
    return StepResult::Terminal(why);
  }
  for (const std::string& why :
       {RequireString(kStep, args, "url", &url_text), RequireString(kStep, args, "commit", &commit_text),
        OptionalString(kStep, args, "ref", &ref_text), OptionalString(kStep, args, "credentials", &secret_name),
        OptionalString(kStep, args, "dir", &dir_text), OptionalBool(kStep, args, "submodules", &submodules)}) {
    if (!why.empty()) return StepResult::Terminal(why);
  }
  RepoUrl url;
  std::string commit, full_ref, branch;
  std::filesystem::path dir;
  for (const std::string& why :
       {ParseUrlArgument(kStep, url_text, &url), ParseCommitArgument(kStep, commit_text, &commit),
        ref_text.empty() ? std::string() : ParseRefArgument(kStep, ref_text, &full_ref, &branch),
        ParseRelativePath(kStep, "dir", dir_text, &dir)}) {
    if (!why.empty()) return StepResult::Terminal(why);
  }
  if (!url.password.empty()) ctx.add_redaction(url.password);

  // The working copy is emptied before the checkout: a link an earlier step left on the
  // way (`dir = "a/src"`, `a -> /elsewhere`) must not lead that out of the workspace.
  if (const auto inside = workspace_path::Resolve(ctx.workspace(), dir.string()); !inside) {
    return StepResult::Terminal("argument 'dir' must stay inside the job's workspace: " + inside.error);
  }

  MirrorCache cache(ctx.code_cache_dir(), fetcher_);
  SyncState state{config_, cache, ctx, secret_name, url.host_key()};
  const std::filesystem::path path = std::filesystem::path(ctx.workspace()) / dir;
  std::string source;
  if (auto failure = SyncOne(state, url, commit, full_ref, branch, path, Login::job, &source)) return *failure;
  if (submodules) {
    if (auto failure = SyncSubmodules(state, url, path, "", 0)) return *failure;
  }

  nlohmann::json outputs = {{"path", path.string()},
                            {"commit", commit},
                            {"source", source},
                            {"fetched_objects", state.fetched_objects}};
  if (!branch.empty()) outputs["branch"] = branch;
  if (submodules) outputs["submodules"] = state.submodules;
  std::string message = source == "cache" ? "commit " + commit.substr(0, 12) + " from the mirror"
                                          : "fetched " + std::to_string(state.fetched_objects) + " objects";
  return StepResult::Ok(std::move(outputs), std::move(message));
}

}  // namespace kiln::git

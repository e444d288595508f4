#include "mirror_cache.hpp"

#include <unistd.h>

#include <functional>
#include <sstream>
#include <system_error>
#include <thread>

#include "libgit2_handles.hpp"

namespace kiln::git {
namespace {

std::filesystem::path LockPathFor(const std::filesystem::path& mirror) {
  return mirror.parent_path() / (mirror.filename().string() + ".kiln-lock");
}

bool SetConfig(git_repository* repo, const char* key, const char* value) {
  git_config* raw = nullptr;
  if (git_repository_config(&raw, repo) != 0) return false;
  ConfigPtr config(raw);
  return git_config_set_string(config.get(), key, value) == 0;
}

// Creates the bare mirror beside its final place and renames it there, so that a crash
// never leaves a half-made mirror behind (the caller holds the exclusive lock).
bool InitMirror(const std::filesystem::path& mirror, const RepoUrl& url, std::string* error) {
  std::ostringstream suffix;
  suffix << ".init-" << ::getpid() << "-" << std::hash<std::thread::id>{}(std::this_thread::get_id());
  const std::filesystem::path staging = mirror.string() + suffix.str();
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  git_repository_init_options options;
  git_repository_init_options_init(&options, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
  options.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
  git_repository* raw = nullptr;
  if (git_repository_init_ext(&raw, staging.c_str(), &options) != 0) {
    *error = LastGitError();
    return false;
  }
  RepositoryPtr repo(raw);
  const std::string clean = url.clean();
  // gc.auto=0: a git CLI fetch must never prune objects a job's workspace borrows
  // through its alternates file.
  if (!SetConfig(repo.get(), "gc.auto", "0") || !SetConfig(repo.get(), "kiln.url", clean.c_str())) {
    *error = LastGitError();
    return false;
  }
  repo.reset();
  std::filesystem::rename(staging, mirror, ec);
  if (ec) {
    *error = "cannot move " + staging.string() + " to " + mirror.string() + ": " + ec.message();
    std::filesystem::remove_all(staging, ec);
    return false;
  }
  return true;
}

// Opens the mirror, or creates it when missing or unreadable. `created` says which.
bool OpenOrInitMirror(const std::filesystem::path& mirror, const RepoUrl& url, StepContext& ctx, bool* created,
                      std::string* error) {
  *created = false;
  std::error_code ec;
  if (std::filesystem::exists(mirror, ec)) {
    git_repository* raw = nullptr;
    if (git_repository_open_bare(&raw, mirror.c_str()) == 0) {
      git_repository_free(raw);
      return true;
    }
    ctx.warn("the mirror " + mirror.string() + " cannot be opened (" + LastGitError() + "); making it anew");
    std::filesystem::remove_all(mirror, ec);
    if (ec) {
      *error = "cannot remove the broken mirror " + mirror.string() + ": " + ec.message();
      return false;
    }
  }
  *created = true;
  return InitMirror(mirror, url, error);
}

StepResult FailureOf(const FetchOutcome& outcome, const MirrorRequest& request) {
  using Kind = FetchOutcome::Kind;
  const std::string url = request.url.clean();
  switch (outcome.kind) {
    case Kind::cancelled:
      return StepResult::Retryable("cancelled while fetching " + url);
    case Kind::auth_required:
      return StepResult::Terminal("login required: " + url + " asks for credentials and none are configured "
                                  "(give `credentials = \"<secret>\"` or set git.credentials." +
                                  request.url.host_key() + ")");
    case Kind::auth_refused:
      return StepResult::Terminal("login refused: " + url + " did not accept the credentials from " +
                                  request.credential.origin + " (" + outcome.detail + ")");
    case Kind::repo_not_found:
      return StepResult::Terminal("repository not found: " + url + " (" + outcome.detail + ")");
    case Kind::certificate:
      return StepResult::Terminal("certificate rejected for " + request.url.host + ": " + outcome.detail);
    case Kind::ref_not_found:
      return StepResult::Terminal("ref not found: " + url + " has no " +
                                  (request.extra_ref.empty() ? std::string("such ref") : request.extra_ref) + " (" +
                                  outcome.detail + ")");
    case Kind::network:
    case Kind::ok:
      break;
  }
  return StepResult::Retryable("fetching " + url + " failed: " + outcome.detail);
}

}  // namespace

bool HasCommit(const std::filesystem::path& repo_path, const std::string& commit) {
  EnsureLibgit2();
  git_repository* raw = nullptr;
  if (git_repository_open(&raw, repo_path.c_str()) != 0) return false;
  RepositoryPtr repo(raw);
  git_oid oid;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0) return false;
  git_commit* raw_commit = nullptr;
  if (git_commit_lookup(&raw_commit, repo.get(), &oid) != 0) return false;
  git_commit_free(raw_commit);
  return true;
}

MirrorResult MirrorCache::EnsureCommit(const MirrorRequest& request, StepContext& ctx) const {
  EnsureLibgit2();
  MirrorResult result;
  result.mirror = MirrorPath(request.url);
  const std::string url = request.url.clean();
  std::error_code ec;
  std::filesystem::create_directories(result.mirror.parent_path(), ec);
  if (ec) {
    result.failure = StepResult::Retryable("cannot create " + result.mirror.parent_path().string() + ": " + ec.message());
    return result;
  }
  std::string error;
  if (!result.lock.Acquire(LockPathFor(result.mirror), MirrorLock::Mode::exclusive, ctx, &error)) {
    result.failure = StepResult::Retryable(error);
    return result;
  }
  bool created = false;
  if (!OpenOrInitMirror(result.mirror, request.url, ctx, &created, &error)) {
    result.failure = StepResult::Retryable("cannot create the mirror " + result.mirror.string() + ": " + error);
    return result;
  }
  const bool present = !created && HasCommit(result.mirror, request.commit);

  auto finish = [&](std::string source) {
    result.source = std::move(source);
    if (!result.lock.Change(MirrorLock::Mode::shared, ctx, &error)) result.failure = StepResult::Retryable(error);
    return std::move(result);
  };
  if (present && request.policy == FetchPolicy::missing) {
    ctx.log("commit " + request.commit + " is already in the mirror " + result.mirror.string());
    return finish("cache");
  }

  ctx.log((created ? "cloning " : "fetching ") + url + " into " + result.mirror.string());
  FetchRequest fetch;
  fetch.mirror = result.mirror;
  fetch.url = request.url;
  fetch.credential = request.credential;
  fetch.refspecs = {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};
  if (!request.extra_ref.empty() && request.extra_ref.rfind("refs/heads/", 0) != 0 &&
      request.extra_ref.rfind("refs/tags/", 0) != 0) {
    fetch.refspecs.push_back("+" + request.extra_ref + ":" + request.extra_ref);
  }
  FetchOutcome outcome = fetcher_.Fetch(fetch, ctx);
  result.fetched_objects = outcome.received_objects;
  if (!outcome.ok()) {
    if (outcome.kind == FetchOutcome::Kind::network && present) {
      ctx.warn("fetching " + url + " failed (" + outcome.detail + "); using commit " + request.commit +
               " from the mirror");
      return finish("cache");
    }
    result.failure = FailureOf(outcome, request);
    return result;
  }
  ctx.progress(100, "fetched " + std::to_string(outcome.received_objects) + " objects from " + url);
  if (!present && !HasCommit(result.mirror, request.commit)) {
    // Not on any branch or tag: ask for the commit itself (servers allow it when it is
    // reachable from a ref they hide, e.g. a pull request's, or when configured to).
    ctx.log("commit " + request.commit + " is on no branch or tag of " + url + "; fetching it by id");
    fetch.refspecs = {request.commit};
    fetch.prune = false;
    FetchOutcome by_id = fetcher_.Fetch(fetch, ctx);
    result.fetched_objects += by_id.received_objects;
    if (!by_id.ok() && by_id.kind != FetchOutcome::Kind::ref_not_found &&
        by_id.kind != FetchOutcome::Kind::network) {
      result.failure = FailureOf(by_id, request);
      return result;
    }
    if (!HasCommit(result.mirror, request.commit)) {
      // The server answered a moment ago, so a refusal here is about the commit.
      result.failure = StepResult::Terminal("commit not found: " + url + " has no commit " + request.commit +
                                            " (on no branch or tag, and not given by id" +
                                            (by_id.ok() ? std::string() : ": " + by_id.detail) + ")");
      return result;
    }
  }
  return finish("network");
}

}  // namespace kiln::git

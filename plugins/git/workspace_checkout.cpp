#include "workspace_checkout.hpp"

#include <chrono>
#include <fstream>
#include <system_error>

#include "libgit2_handles.hpp"

namespace kiln::git {
namespace {

struct CheckoutProgress {
  StepContext* ctx = nullptr;
  std::chrono::steady_clock::time_point last{};
};

void OnCheckoutProgress(const char* /*path*/, size_t completed, size_t total, void* payload) {
  auto& progress = *static_cast<CheckoutProgress*>(payload);
  const auto now = std::chrono::steady_clock::now();
  if (completed != total && now - progress.last < std::chrono::milliseconds(250)) return;
  progress.last = now;
  const double percent = total == 0 ? 100.0 : 100.0 * double(completed) / double(total);
  progress.ctx->progress(percent, "checked out " + std::to_string(completed) + "/" + std::to_string(total) + " files");
}

int OnCheckoutNotify(git_checkout_notify_t /*why*/, const char* /*path*/, const git_diff_file* /*baseline*/,
                     const git_diff_file* /*target*/, const git_diff_file* /*workdir*/, void* payload) {
  auto& progress = *static_cast<CheckoutProgress*>(payload);
  return progress.ctx->cancelled() ? -1 : 0;
}

}  // namespace

std::string CheckoutWorkspace(const CheckoutRequest& request, StepContext& ctx) {
  EnsureLibgit2();
  std::error_code ec;
  std::filesystem::remove_all(request.dir, ec);
  if (ec) return "cannot empty " + request.dir.string() + ": " + ec.message();

  git_repository_init_options init;
  git_repository_init_options_init(&init, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
  init.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
  init.origin_url = request.origin_url.c_str();
  git_repository* raw = nullptr;
  if (git_repository_init_ext(&raw, request.dir.c_str(), &init) != 0) {
    return "cannot create a repository in " + request.dir.string() + ": " + LastGitError();
  }
  RepositoryPtr repo(raw);
  const std::filesystem::path git_dir = git_repository_path(repo.get());
  {
    std::ofstream alternates(git_dir / "objects" / "info" / "alternates", std::ios::trunc);
    alternates << std::filesystem::absolute(request.mirror / "objects").string() << "\n";
    if (!alternates) return "cannot write " + (git_dir / "objects/info/alternates").string();
  }
  // Reopen so that the object database reads the alternates file just written.
  repo.reset();
  if (git_repository_open(&raw, request.dir.c_str()) != 0) {
    return "cannot open " + request.dir.string() + ": " + LastGitError();
  }
  repo.reset(raw);

  git_oid oid;
  git_oid_fromstr(&oid, request.commit.c_str());
  git_commit* raw_commit = nullptr;
  if (git_commit_lookup(&raw_commit, repo.get(), &oid) != 0) {
    return "commit " + request.commit + " is not readable from " + request.mirror.string() + ": " + LastGitError();
  }
  CommitPtr commit(raw_commit);

  CheckoutProgress progress{&ctx, {}};
  git_checkout_options options;
  git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
  options.checkout_strategy = GIT_CHECKOUT_FORCE;
  options.progress_cb = &OnCheckoutProgress;
  options.progress_payload = &progress;
  options.notify_flags = GIT_CHECKOUT_NOTIFY_UPDATED;
  options.notify_cb = &OnCheckoutNotify;
  options.notify_payload = &progress;
  if (git_checkout_tree(repo.get(), reinterpret_cast<git_object*>(commit.get()), &options) != 0) {
    if (ctx.cancelled()) return "cancelled during the checkout of " + request.commit;
    return "checkout of " + request.commit + " into " + request.dir.string() + " failed: " + LastGitError();
  }
  if (!request.branch.empty()) {
    git_reference* raw_branch = nullptr;
    if (git_branch_create(&raw_branch, repo.get(), request.branch.c_str(), commit.get(), 1) != 0) {
      return "cannot create branch " + request.branch + ": " + LastGitError();
    }
    ReferencePtr branch(raw_branch);
    if (git_repository_set_head(repo.get(), git_reference_name(branch.get())) != 0) {
      return "cannot point HEAD at " + request.branch + ": " + LastGitError();
    }
  } else if (git_repository_set_head_detached(repo.get(), &oid) != 0) {
    return "cannot point HEAD at " + request.commit + ": " + LastGitError();
  }
  return {};
}

}  // namespace kiln::git

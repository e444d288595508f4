#include "libgit2_fetcher.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "libgit2_handles.hpp"

namespace kiln::git {
namespace {

enum class AuthState { not_asked, given, missing, refused, unsupported };

struct CallbackState {
  StepContext* ctx = nullptr;
  const Credential* credential = nullptr;
  int attempts = 0;
  AuthState auth = AuthState::not_asked;
  bool cancelled = false;
  std::chrono::steady_clock::time_point last_progress{};
};

std::string HumanBytes(std::size_t bytes) {
  char text[32];
  if (bytes >= (1u << 20)) {
    std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / double(1u << 20));
  } else {
    std::snprintf(text, sizeof text, "%.1f KiB", double(bytes) / 1024.0);
  }
  return text;
}

int OnCredentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                  unsigned int allowed, void* payload) {
  auto& state = *static_cast<CallbackState*>(payload);
  const Credential& credential = *state.credential;
  const std::string username = !credential.username.empty() ? credential.username
                               : username_from_url != nullptr ? username_from_url
                                                              : "git";
  if (allowed & GIT_CREDENTIAL_USERNAME) return git_credential_username_new(out, username.c_str());
  if (credential.kind == Credential::Kind::none) {
    state.auth = AuthState::missing;
    git_error_set_str(GIT_ERROR_NET, "the server asks for a login and no credentials are configured");
    return GIT_EAUTH;
  }
  // Once only: libgit2 calls again after the server refused what we gave.
  if (++state.attempts > 1) {
    state.auth = AuthState::refused;
    git_error_set_str(GIT_ERROR_NET, "the server refused the login");
    return GIT_EAUTH;
  }
  state.auth = AuthState::given;
  switch (credential.kind) {
    case Credential::Kind::userpass:
      if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
        return git_credential_userpass_plaintext_new(out, username.c_str(), credential.password.c_str());
      }
      break;
    case Credential::Kind::ssh_key_memory:
      if (allowed & GIT_CREDENTIAL_SSH_MEMORY) {
        return git_credential_ssh_key_memory_new(out, username.c_str(), nullptr, credential.key.c_str(), nullptr);
      }
      break;
    case Credential::Kind::ssh_key_file:
      if (allowed & GIT_CREDENTIAL_SSH_KEY) {
        return git_credential_ssh_key_new(out, username.c_str(), nullptr, credential.key.c_str(), nullptr);
      }
      break;
    case Credential::Kind::none:
      break;
  }
  state.auth = AuthState::unsupported;
  git_error_set_str(GIT_ERROR_NET, "the server asks for a kind of login the configured credential cannot give");
  return GIT_EAUTH;
}

int OnTransferProgress(const git_indexer_progress* stats, void* payload) {
  auto& state = *static_cast<CallbackState*>(payload);
  if (state.ctx->cancelled()) {
    state.cancelled = true;
    return -1;
  }
  const auto now = std::chrono::steady_clock::now();
  const bool done = stats->total_objects > 0 && stats->received_objects == stats->total_objects &&
                    stats->indexed_deltas == stats->total_deltas;
  if (!done && now - state.last_progress < std::chrono::milliseconds(250)) return 0;
  state.last_progress = now;
  double percent = 0;
  std::string message;
  if (stats->total_objects > 0 && stats->received_objects < stats->total_objects) {
    percent = 90.0 * stats->received_objects / stats->total_objects;
  } else if (stats->total_deltas > 0) {
    percent = 90.0 + 10.0 * stats->indexed_deltas / stats->total_deltas;
  } else {
    percent = stats->total_objects > 0 ? 100.0 : 0.0;
  }
  message = "received " + std::to_string(stats->received_objects) + "/" + std::to_string(stats->total_objects) +
            " objects, " + HumanBytes(stats->received_bytes);
  if (stats->total_deltas > 0) {
    message += ", resolved " + std::to_string(stats->indexed_deltas) + "/" + std::to_string(stats->total_deltas) +
               " deltas";
  }
  state.ctx->progress(percent, message);
  return 0;
}

int OnSideband(const char* /*text*/, int /*length*/, void* payload) {
  auto& state = *static_cast<CallbackState*>(payload);
  if (state.ctx->cancelled()) {
    state.cancelled = true;
    return -1;
  }
  return 0;
}

bool Contains(std::string text, std::string_view needle) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text.find(needle) != std::string::npos;
}

FetchOutcome Classify(int rc, const CallbackState& state, std::string detail) {
  using Kind = FetchOutcome::Kind;
  FetchOutcome outcome;
  outcome.detail = std::move(detail);
  if (state.cancelled) {
    outcome.kind = Kind::cancelled;
  } else if (state.auth == AuthState::missing) {
    outcome.kind = Kind::auth_required;
  } else if (state.auth == AuthState::refused || state.auth == AuthState::unsupported || rc == GIT_EAUTH) {
    outcome.kind = Kind::auth_refused;
  } else if (rc == GIT_ECERTIFICATE) {
    outcome.kind = Kind::certificate;
  } else if (Contains(outcome.detail, "not our ref") || Contains(outcome.detail, "not valid") ||
             Contains(outcome.detail, "no such ref") || Contains(outcome.detail, "couldn't find remote ref")) {
    outcome.kind = Kind::ref_not_found;
  } else if (Contains(outcome.detail, "status code: 404") || Contains(outcome.detail, "repository not found") ||
             Contains(outcome.detail, "not exported") || Contains(outcome.detail, "does not appear to be a git")) {
    outcome.kind = Kind::repo_not_found;
  } else {
    // network, http, ssh and os errors, and everything unexpected: may work next time
    outcome.kind = Kind::network;
  }
  return outcome;
}

}  // namespace

FetchOutcome Libgit2Fetcher::Fetch(const FetchRequest& request, StepContext& ctx) const {
  EnsureLibgit2();
  git_repository* raw_repo = nullptr;
  if (git_repository_open_bare(&raw_repo, request.mirror.c_str()) != 0) {
    FetchOutcome outcome;
    outcome.kind = FetchOutcome::Kind::network;
    outcome.detail = "cannot open the mirror " + request.mirror.string() + ": " + LastGitError();
    return outcome;
  }
  RepositoryPtr repo(raw_repo);
  const std::string url = request.url.clean();
  git_remote* raw_remote = nullptr;
  if (git_remote_create_anonymous(&raw_remote, repo.get(), url.c_str()) != 0) {
    CallbackState none;
    return Classify(-1, none, LastGitError());
  }
  RemotePtr remote(raw_remote);

  CallbackState state;
  state.ctx = &ctx;
  state.credential = &request.credential;
  git_fetch_options options;
  git_fetch_options_init(&options, GIT_FETCH_OPTIONS_VERSION);
  options.callbacks.credentials = &OnCredentials;
  options.callbacks.transfer_progress = &OnTransferProgress;
  options.callbacks.sideband_progress = &OnSideband;
  options.callbacks.payload = &state;
  options.prune = request.prune ? GIT_FETCH_PRUNE : GIT_FETCH_NO_PRUNE;
  options.update_fetchhead = 0;
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // tags come from the explicit refspec

  std::vector<char*> specs;
  for (const auto& spec : request.refspecs) specs.push_back(const_cast<char*>(spec.c_str()));
  git_strarray refspecs{specs.data(), specs.size()};
  const int rc = git_remote_fetch(remote.get(), &refspecs, &options, nullptr);
  const git_indexer_progress* stats = git_remote_stats(remote.get());
  if (rc != 0) {
    FetchOutcome outcome = Classify(rc, state, LastGitError());
    if (stats != nullptr) {
      outcome.received_objects = stats->received_objects;
      outcome.received_bytes = stats->received_bytes;
    }
    return outcome;
  }
  FetchOutcome outcome;
  if (stats != nullptr) {
    outcome.received_objects = stats->received_objects;
    outcome.received_bytes = stats->received_bytes;
  }
  return outcome;
}

}  // namespace kiln::git

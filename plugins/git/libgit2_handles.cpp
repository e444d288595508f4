#include "libgit2_handles.hpp"

namespace kiln::git {

void EnsureLibgit2() {
  static const bool initialised = [] {
    git_libgit2_init();
    git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "kiln-git");
    // Mirrors and workspaces are created by this process; a cache shared with another
    // user is the operator's choice, not something to refuse at run time.
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    return true;
  }();
  (void)initialised;
}

std::string LastGitError(const char* fallback) {
  const git_error* error = git_error_last();
  if (error == nullptr || error->message == nullptr || error->message[0] == '\0') return fallback;
  return error->message;
}

}  // namespace kiln::git

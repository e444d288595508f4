// RemoteFetcher through the git CLI (git.transport: cli), run by StepContext::run so that
// cancellation and timeouts kill it.
//
// A login reaches git through GIT_ASKPASS: a small script in a private temp dir (0700)
// that prints the user name or the password from the environment of that one git
// process; an ssh key through GIT_SSH_COMMAND and a 0600 key file in that dir. The dir is
// removed when the fetch ends. The command line and the mirror's config hold no
// credential; credential helpers and terminal prompts are off.
#pragma once

#include "remote_fetcher.hpp"

namespace kiln::git {

class CliFetcher final : public RemoteFetcher {
 public:
  FetchOutcome Fetch(const FetchRequest& request, StepContext& ctx) const override;
};

/// The number of objects and bytes git reported receiving in its progress output
/// ("Receiving objects: 100% (12/12), 3.20 KiB"); 0 when it received none. For tests.
void ParseCliProgress(const std::string& output, std::size_t* objects, std::size_t* bytes);

}  // namespace kiln::git

// RemoteFetcher through libgit2 (git.transport: libgit2).
//
// The remote is anonymous (created for this fetch, never saved in the mirror's config),
// so the URL and any login stay out of the mirror. The credential callback counts its
// attempts: it gives a login once, and refuses a second time, so a rejected password
// ends the fetch instead of looping.
#pragma once

#include "remote_fetcher.hpp"

namespace kiln::git {

class Libgit2Fetcher final : public RemoteFetcher {
 public:
  FetchOutcome Fetch(const FetchRequest& request, StepContext& ctx) const override;
};

}  // namespace kiln::git

#include "remote_fetcher.hpp"

#include "cli_fetcher.hpp"
#include "libgit2_fetcher.hpp"

namespace kiln::git {

std::unique_ptr<RemoteFetcher> MakeFetcher(Transport transport) {
  if (transport == Transport::cli) return std::make_unique<CliFetcher>();
  return std::make_unique<Libgit2Fetcher>();
}

}  // namespace kiln::git

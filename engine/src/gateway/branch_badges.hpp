// GET /badge/<owner>/<repo>/<branch>.svg: the status badge of a branch's newest build.
//
// Public, unlike the rest of the status API: a README's images are fetched without a token
// (GitHub's image proxy). It says one fixed word per branch and nothing else;
// `gateway.badges: false` turns it off (docs/security.md).
//
// Job states are kept per id in one KV bucket, so a branch's newest job is found by reading
// every entry (JobStateStore::Newest). One read serves every badge for `refresh`: a README
// viewed a thousand times a minute costs a few reads of the bucket, not a thousand, and no
// one can make the gateway scan the bucket faster than that by asking for badges.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "http/http_message.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

class BranchBadges {
 public:
  static constexpr std::chrono::seconds kDefaultRefresh{5};

  explicit BranchBadges(NatsConnection& conn, std::chrono::steady_clock::duration refresh = kDefaultRefresh)
      : conn_(conn), refresh_(refresh) {}

  /// `owner`, `repo` and `branch_file` are the path's segments as sent (percent-encoded;
  /// `branch_file` is the branch's segments joined by '/' and ending in ".svg"). 200 with
  /// the badge ("unknown" for a branch without builds), 404 JSON for a path that names none.
  HttpResponse Get(const std::string& owner, const std::string& repo, const std::string& branch_file);

 private:
  // The newest build's status of a (repository name, branch), from the states read at most
  // refresh_ ago; nullopt when it has none (or nothing could be read yet).
  std::optional<std::string> NewestStatus(const std::string& repository, const std::string& branch);

  NatsConnection& conn_;
  const std::chrono::steady_clock::duration refresh_;
  std::mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> read_at_;
  std::map<std::pair<std::string, std::string>, std::string> newest_status_;
};

}  // namespace kiln

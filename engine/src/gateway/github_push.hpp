// A GitHub `push` event turned into a build job (DESIGN.md's job message):
//   repo.url = repository.clone_url, repo.name = repository.full_name, commit = after,
//   branch = ref without refs/heads/, before = before (left out for a new branch, whose
//   `before` is all zeros), delivery_id = the X-GitHub-Delivery header.
// Tag pushes and branch deletions are builds only when configured (gateway.tag_pushes,
// gateway.branch_deletions); otherwise they are ignored with a reason. The job then passes
// the worker's own gate (ParseJob), so a job the gateway accepts is one a worker runs.
#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"
#include "job/job.hpp"
#include "util/result.hpp"

namespace kiln {

struct PushDecision {
  bool build = false;
  Job job;             // when build: complete, with a new id
  std::string reason;  // when not: why the push builds nothing
  /// When build: the push's PushContentKey (repository.clone_url, ref, before, after), so a
  /// replay under another delivery id is known as the same push.
  std::string content_key;
};

/// Reads a push payload. An error (the payload is not JSON, misses a field GitHub always
/// sends, or makes a job the worker would refuse) names what is wrong: the answer is 400.
Result<PushDecision> DecidePush(std::string_view body, const std::string& delivery_id, const GatewayConfig& gateway,
                                const JobRules& rules);

}  // namespace kiln

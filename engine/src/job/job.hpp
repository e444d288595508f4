// A build job: DESIGN.md's job message, parsed and validated.
//
// Validation is the gate in front of everything: a message that fails it is never run
// (the worker dead-letters it with the error, which names the field).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace kiln {

struct Job {
  std::string id;
  std::string repo_url;
  std::string repo_name;  // "acme/shop"; derived from the URL when the message has none
  std::string commit;
  std::string branch;
  std::string before;
  std::string pipeline;
  std::map<std::string, std::string> env;
  std::string delivery_id;
  /// May this job write its repository's shared caches? Pushes to the repository and
  /// `kiln submit` are trusted; a fork's pull request is not: it restores its repository's
  /// cache entries but saves only into a scope of its own ref (docs/plugins/cache.md).
  bool trusted = true;

  /// The message form (DESIGN.md), as published and as a pipeline's `job` global.
  nlohmann::json to_json() const;
};

struct JobRules {
  bool allow_file_urls = false;  // file:// and local paths (kiln run allows them)
  std::size_t max_bytes = 64 * 1024;
};

/// Parses and validates a job message body.
Result<Job> ParseJob(std::string_view body, const JobRules& rules);
/// Validates a job built in code (kiln run, kiln submit). Errors name the field.
Result<bool> ValidateJob(const Job& job, const JobRules& rules);

/// A new job id: a ULID (26 chars, Crockford base32, sortable by time).
std::string NewJobId();
/// An id is 1..128 of [A-Za-z0-9_-]: it becomes a NATS subject token and a directory name.
bool IsValidJobId(std::string_view id);
/// 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
bool IsValidCommitId(std::string_view commit);
/// git check-ref-format's rules for a branch name (without refs/heads/).
bool IsValidBranchName(std::string_view branch);
/// "https://github.com/acme/shop.git" -> "acme/shop"; "" when the URL has no such path.
std::string RepoNameFromUrl(std::string_view url);
/// A pipeline name: segments of [A-Za-z0-9_.-] joined by '/', no '..' segment.
bool IsValidPipelineName(std::string_view name);

}  // namespace kiln

// Image names, tags and labels made from a job: pure functions, no process, no state.
//
// Grammar (OCI distribution / containers/image reference):
//   tag        [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   repository [domain[:port]/]component(/component)*, component [a-z0-9]+([._]|__|-+)[a-z0-9]+...
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::buildah {

/// A valid tag made from any text, the way a branch name becomes a tag: lower case, every
/// character outside [a-z0-9_.-] replaced by '-', runs of '-' collapsed, leading '.'/'-'
/// and trailing '-'/'.' dropped, cut to 128 characters. "feature/Foo_bar" -> "feature-foo_bar".
/// Empty when nothing usable is left ("///").
std::string SanitizeTag(std::string_view text);
bool IsValidTag(std::string_view tag);

/// True for a repository reference without tag or digest: "localhost/acme/shop",
/// "registry.example.com:5000/team/app", "shop".
bool IsValidRepository(std::string_view repository);

/// The job's repository name as a valid repository path: job.repo.name, else the last two
/// components of job.repo.url; lower case, invalid characters replaced. Empty when the job
/// names no repository.
std::string RepositoryPathForJob(const nlohmann::json& job);

/// `pattern` with "{repo}" replaced by RepositoryPathForJob(job). Empty and `error` set
/// when the job has no repository name or the result is not a valid repository.
std::string ExpandRepository(std::string_view pattern, const nlohmann::json& job, std::string& error);

/// The automatic tags of a job: the commit's first 12 characters, and the branch made a
/// valid tag. Either is left out when the job lacks it.
std::vector<std::string> TagsForJob(const nlohmann::json& job);

/// An image name buildah would read as an option ("-x", "--rm"): refused wherever a name
/// comes from a step's arguments or a Dockerfile, on top of the `--` that ends every
/// buildah argv's options. Returns "" when `name` is fine, else the error naming `what`.
std::string RefuseOptionLikeName(std::string_view what, std::string_view name);

/// "https://user:token@host/x" -> "https://host/x"; other text unchanged.
std::string StripUrlCredentials(std::string_view url);

/// RFC 3339 in UTC with seconds: "2026-11-22T10:15:02Z".
std::string Rfc3339Utc(std::chrono::system_clock::time_point when);

/// org.opencontainers.image.revision (the commit), .source (the repository URL without
/// credentials) and .created (`now`), each only when the job has what it needs.
std::map<std::string, std::string> OciLabelsForJob(const nlohmann::json& job,
                                                   std::chrono::system_clock::time_point now);

}  // namespace kiln::buildah

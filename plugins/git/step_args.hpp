// Reading and checking the arguments of the git steps. Each function returns an empty
// string when the value is fine, else a message naming the argument and what is wrong
// (never quoting a URL, which may hold a password).
#pragma once

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "repo_url.hpp"

namespace kiln::git {

/// Refuses arguments outside `known`, and a non-object `args`.
std::string CheckArgumentNames(std::string_view step, const nlohmann::json& args,
                               std::initializer_list<std::string_view> known);

/// A required string argument.
std::string RequireString(std::string_view step, const nlohmann::json& args, const char* name, std::string* out);
/// An optional string argument (absent or null leaves `out` as it is).
std::string OptionalString(std::string_view step, const nlohmann::json& args, const char* name, std::string* out);
std::string OptionalBool(std::string_view step, const nlohmann::json& args, const char* name, bool* out);

/// `url`: parsed, or a message that says why not.
std::string ParseUrlArgument(std::string_view step, const std::string& text, RepoUrl* url);
/// `commit`: a full object id (40 hex digits), returned in lower case.
std::string ParseCommitArgument(std::string_view step, const std::string& text, std::string* commit);
/// A relative path with no '.', '..' or empty components (a `dir` or a file `path`).
std::string ParseRelativePath(std::string_view step, const char* name, const std::string& text,
                              std::filesystem::path* path);
/// `ref`: "main", "refs/heads/main", "refs/tags/v1", "refs/pull/1/head". Gives the full
/// ref name and, for a branch, its short name.
std::string ParseRefArgument(std::string_view step, const std::string& text, std::string* full_ref,
                             std::string* branch);

}  // namespace kiln::git

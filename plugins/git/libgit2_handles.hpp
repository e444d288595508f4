// Owning handles for libgit2 objects, and the library's one-time set-up.
//
// libgit2 rules this plugin follows: git_libgit2_init once per process (EnsureLibgit2,
// a thread-safe static); one git_repository object per thread (every step opens its own
// and frees it before returning); error text from git_error_last() is per thread.
#pragma once

#include <memory>
#include <string>

#include <git2.h>

namespace kiln::git {

/// Initialises libgit2 once for the process; safe to call from any thread, any number
/// of times. The library is never shut down: the plugin lives as long as the process.
void EnsureLibgit2();

/// The last libgit2 error of this thread, or `fallback` when there is none.
std::string LastGitError(const char* fallback = "unknown libgit2 error");

template <typename T, void (*Free)(T*)>
struct GitDeleter {
  void operator()(T* object) const { Free(object); }
};

using RepositoryPtr = std::unique_ptr<git_repository, GitDeleter<git_repository, git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitDeleter<git_remote, git_remote_free>>;
using CommitPtr = std::unique_ptr<git_commit, GitDeleter<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, GitDeleter<git_tree, git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, GitDeleter<git_tree_entry, git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, GitDeleter<git_blob, git_blob_free>>;
using ConfigPtr = std::unique_ptr<git_config, GitDeleter<git_config, git_config_free>>;
using ReferencePtr = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;
using OdbPtr = std::unique_ptr<git_odb, GitDeleter<git_odb, git_odb_free>>;
using IndexPtr = std::unique_ptr<git_index, GitDeleter<git_index, git_index_free>>;

}  // namespace kiln::git

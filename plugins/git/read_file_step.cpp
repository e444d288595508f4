#include "read_file_step.hpp"

#include <string>

#include "credentials.hpp"
#include "libgit2_handles.hpp"
#include "mirror_cache.hpp"
#include "step_args.hpp"

namespace kiln::git {
namespace {

// Strict UTF-8 (no overlong forms, no surrogates), as JSON needs it.
bool IsUtf8(const char* data, std::size_t size) {
  std::size_t i = 0;
  while (i < size) {
    const auto c = static_cast<unsigned char>(data[i]);
    std::size_t extra = 0;
    unsigned char low = 0x80, high = 0xbf;  // the range of the second byte
    if (c < 0x80) {
      extra = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c == 0xe0) low = 0xa0;
      if (c == 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c == 0xf0) low = 0x90;
      if (c == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (size - i - 1 < extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(data[i + k]);
      if (k == 1 ? (next < low || next > high) : (next >> 6) != 0x2) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

StepResult ReadFileStep::Run(const nlohmann::json& args, StepContext& ctx) const {
  constexpr std::string_view kStep = "read_file";
  if (auto why = CheckArgumentNames(kStep, args, {"url", "commit", "path", "credentials"}); !why.empty()) {
    return StepResult::Terminal(why);
  }
  std::string url_text, commit_text, path_text, secret_name;
  for (const std::string& why :
       {RequireString(kStep, args, "url", &url_text), RequireString(kStep, args, "commit", &commit_text),
        RequireString(kStep, args, "path", &path_text), OptionalString(kStep, args, "credentials", &secret_name)}) {
    if (!why.empty()) return StepResult::Terminal(why);
  }
  RepoUrl url;
  std::string commit;
  std::filesystem::path path;
  for (const std::string& why : {ParseUrlArgument(kStep, url_text, &url), ParseCommitArgument(kStep, commit_text, &commit),
                                 ParseRelativePath(kStep, "path", path_text, &path)}) {
    if (!why.empty()) return StepResult::Terminal(why);
  }
  if (!url.password.empty()) ctx.add_redaction(url.password);
  std::string error;
  auto credential = ResolveCredential(url, secret_name, config_, ctx, &error);
  if (!credential) return StepResult::Terminal(error);

  MirrorCache cache(ctx.code_cache_dir(), fetcher_);
  // A commit's files never change: fetch only when the mirror lacks it.
  MirrorRequest request{url, commit, "", *credential, FetchPolicy::missing};
  MirrorResult mirror = cache.EnsureCommit(request, ctx);
  if (mirror.failure) return *mirror.failure;

  git_repository* raw = nullptr;
  if (git_repository_open_bare(&raw, mirror.mirror.c_str()) != 0) {
    return StepResult::Retryable("cannot open the mirror " + mirror.mirror.string() + ": " + LastGitError());
  }
  RepositoryPtr repo(raw);
  git_oid oid;
  git_oid_fromstr(&oid, commit.c_str());
  git_commit* raw_commit = nullptr;
  git_tree* raw_tree = nullptr;
  if (git_commit_lookup(&raw_commit, repo.get(), &oid) != 0) {
    return StepResult::Retryable("commit " + commit + " vanished from the mirror: " + LastGitError());
  }
  CommitPtr commit_object(raw_commit);
  if (git_commit_tree(&raw_tree, commit_object.get()) != 0) {
    return StepResult::Retryable("cannot read the tree of " + commit + ": " + LastGitError());
  }
  TreePtr tree(raw_tree);
  const std::string generic = path.generic_string();
  nlohmann::json outputs = {{"exists", false}, {"source", mirror.source}};
  git_tree_entry* raw_entry = nullptr;
  if (git_tree_entry_bypath(&raw_entry, tree.get(), generic.c_str()) != 0) {
    return StepResult::Ok(std::move(outputs), generic + " is not in " + commit.substr(0, 12));
  }
  TreeEntryPtr entry(raw_entry);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) {
    return StepResult::Terminal("git.read_file: " + generic + " is not a file in " + commit);
  }
  git_blob* raw_blob = nullptr;
  if (git_blob_lookup(&raw_blob, repo.get(), git_tree_entry_id(entry.get())) != 0) {
    return StepResult::Retryable("cannot read " + generic + " of " + commit + ": " + LastGitError());
  }
  BlobPtr blob(raw_blob);
  const auto size = static_cast<std::size_t>(git_blob_rawsize(blob.get()));
  if (size > kMaxBytes) {
    return StepResult::Terminal("git.read_file: " + generic + " is " + std::to_string(size) +
                                " bytes, more than the 1 MiB this step reads");
  }
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  if (!IsUtf8(data, size)) return StepResult::Terminal("git.read_file: " + generic + " is not UTF-8 text");
  outputs["exists"] = true;
  outputs["content"] = std::string(data, size);
  return StepResult::Ok(std::move(outputs), "read " + generic + " (" + std::to_string(size) + " bytes)");
}

}  // namespace kiln::git

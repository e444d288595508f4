// The job message's validation (DESIGN.md, "Job message"): what is run, what is
// dead-lettered, and that every error names the field.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "job/job.hpp"

namespace kiln {
namespace {

constexpr const char* kCommit = "9fceb02d0ae598e95dc970b74767f19372d61af8";

nlohmann::json ValidMessage() {
  return {{"id", "01JD0V3K9Q7X2M5T8N4B6C1A0F"},
          {"repo", {{"url", "https://github.com/acme/shop.git"}, {"name", "acme/shop"}}},
          {"commit", kCommit},
          {"branch", "main"}};
}

Result<Job> Parse(const nlohmann::json& message, JobRules rules = {}) { return ParseJob(message.dump(), rules); }

// The error of parsing `message`; fails the test when it parses.
std::string ErrorOf(const nlohmann::json& message, JobRules rules = {}) {
  auto job = Parse(message, rules);
  EXPECT_FALSE(job.ok()) << message.dump();
  return job.ok() ? std::string() : job.error();
}

TEST(ParseJob, AcceptsDesignExample) {
  nlohmann::json message = ValidMessage();
  message["before"] = "0000000000000000000000000000000000000000";
  message["pipeline"] = "node/service";
  message["env"] = {{"NODE_ENV", "production"}};
  message["delivery_id"] = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
  message["trusted"] = true;
  auto job = Parse(message);
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_EQ(job->id, "01JD0V3K9Q7X2M5T8N4B6C1A0F");
  EXPECT_EQ(job->repo_url, "https://github.com/acme/shop.git");
  EXPECT_EQ(job->repo_name, "acme/shop");
  EXPECT_EQ(job->commit, kCommit);
  EXPECT_EQ(job->branch, "main");
  EXPECT_EQ(job->pipeline, "node/service");
  EXPECT_EQ(job->env.at("NODE_ENV"), "production");
  EXPECT_EQ(job->delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  // to_json gives the message back.
  EXPECT_EQ(job->to_json(), message);
}

TEST(ParseJob, TrustedDefaultsToTrueAndIsAlwaysWrittenBack) {
  auto job = Parse(ValidMessage());
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_TRUE(job->trusted);
  // Written explicitly, so a plugin reading ctx.job() never guesses the default.
  EXPECT_EQ(job->to_json().at("trusted"), true);
}

TEST(ParseJob, UntrustedJobsKeepTheirFlag) {
  nlohmann::json message = ValidMessage();
  message["trusted"] = false;
  auto job = Parse(message);
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_FALSE(job->trusted);
  EXPECT_EQ(job->to_json().at("trusted"), false);
  auto again = ParseJob(job->to_json().dump(), JobRules{});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_FALSE(again->trusted);
}

TEST(ParseJob, TrustedMustBeABooleanAndTheErrorNamesIt) {
  for (const nlohmann::json& bad : {nlohmann::json("false"), nlohmann::json(0), nlohmann::json(1),
                                    nlohmann::json::array(), nlohmann::json::object()}) {
    nlohmann::json message = ValidMessage();
    message["trusted"] = bad;
    const std::string error = ErrorOf(message);
    EXPECT_EQ(error.rfind("trusted: must be true or false", 0), 0u) << error;
  }
}

TEST(ParseJob, DerivesRepoNameWhenMissing) {
  nlohmann::json message = ValidMessage();
  message["repo"].erase("name");
  auto job = Parse(message);
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_EQ(job->repo_name, "acme/shop");
}

TEST(ParseJob, RejectsNotJson) {
  EXPECT_EQ(ParseJob("{not json", {}).error(), "message: not valid JSON");
  EXPECT_EQ(ParseJob("", {}).error(), "message: not valid JSON");
  EXPECT_EQ(ParseJob("[1,2]", {}).error(), "message: must be a JSON object");
}

TEST(ParseJob, RejectsOversizedBodyBeforeParsing) {
  std::string body(1024 * 1024, ' ');
  auto job = ParseJob(body, {});
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.error().find("message: 1048576 bytes"), std::string::npos) << job.error();
  EXPECT_NE(job.error().find("65536"), std::string::npos) << job.error();
  // Exactly at the limit is fine as far as size goes.
  nlohmann::json message = ValidMessage();
  std::string padded = message.dump();
  padded.append(64 * 1024 - padded.size(), ' ');
  EXPECT_TRUE(ParseJob(padded, {}).ok());
}

TEST(ParseJob, MissingFieldsAreNamed) {
  for (const char* field : {"id", "commit"}) {
    nlohmann::json message = ValidMessage();
    message.erase(field);
    EXPECT_EQ(ErrorOf(message), std::string(field) + ": missing");
  }
  nlohmann::json no_repo = ValidMessage();
  no_repo.erase("repo");
  EXPECT_EQ(ErrorOf(no_repo), "repo.url: missing");
  nlohmann::json no_url = ValidMessage();
  no_url["repo"].erase("url");
  EXPECT_EQ(ErrorOf(no_url), "repo.url: missing");
  nlohmann::json null_id = ValidMessage();
  null_id["id"] = nullptr;
  EXPECT_EQ(ErrorOf(null_id), "id: missing");
}

TEST(ParseJob, WrongTypesAreNamed) {
  nlohmann::json message = ValidMessage();
  message["commit"] = 42;
  EXPECT_EQ(ErrorOf(message).rfind("commit: must be a string", 0), 0u);
  message = ValidMessage();
  message["repo"] = "https://github.com/acme/shop.git";
  EXPECT_EQ(ErrorOf(message).rfind("repo: must be an object", 0), 0u);
  message = ValidMessage();
  message["env"] = {{"A", 1}};
  EXPECT_EQ(ErrorOf(message).rfind("env.A: must be a string", 0), 0u);
  message = ValidMessage();
  message["env"] = nlohmann::json::array({"A=1"});
  EXPECT_EQ(ErrorOf(message).rfind("env: must be an object", 0), 0u);
  message = ValidMessage();
  message["env"] = {{"1BAD", "x"}};
  EXPECT_EQ(ErrorOf(message).rfind("env: ", 0), 0u);
}

TEST(ParseJob, RejectsBadCommitIds) {
  for (const char* commit : {"9fceb02", "9FCEB02D0AE598E95DC970B74767F19372D61AF8",
                             "9fceb02d0ae598e95dc970b74767f19372d61af", "zzceb02d0ae598e95dc970b74767f19372d61af8",
                             "main", ""}) {
    nlohmann::json message = ValidMessage();
    message["commit"] = commit;
    std::string error = ErrorOf(message);
    EXPECT_EQ(error.rfind("commit: ", 0), 0u) << error;
  }
  nlohmann::json sha256 = ValidMessage();
  sha256["commit"] = std::string(64, 'a');
  EXPECT_TRUE(Parse(sha256).ok());
  nlohmann::json before = ValidMessage();
  before["before"] = "HEAD~1";
  EXPECT_EQ(ErrorOf(before).rfind("before: ", 0), 0u);
}

TEST(ParseJob, RejectsBadIds) {
  for (const char* id : {"has space", "a.b", "a/b", "a*", "x>", ""}) {
    nlohmann::json message = ValidMessage();
    message["id"] = id;
    std::string error = ErrorOf(message);
    EXPECT_EQ(error.rfind("id: ", 0), 0u) << error;
  }
  nlohmann::json long_id = ValidMessage();
  long_id["id"] = std::string(129, 'a');
  EXPECT_EQ(ErrorOf(long_id).rfind("id: ", 0), 0u);
  long_id["id"] = std::string(128, 'a');
  EXPECT_TRUE(Parse(long_id).ok());
}

TEST(ParseJob, UrlSchemes) {
  for (const char* url : {"https://github.com/acme/shop.git", "http://git.local/acme/shop",
                          "ssh://git@github.com/acme/shop.git", "git://127.0.0.1:9418/shop.git",
                          "git@github.com:acme/shop.git", "HTTPS://github.com/acme/shop"}) {
    nlohmann::json message = ValidMessage();
    message["repo"]["url"] = url;
    auto job = Parse(message);
    EXPECT_TRUE(job.ok()) << url << ": " << job.error();
  }
  for (const char* url : {"ftp://host/repo.git", "ext::sh%20-c%20touch%20x", "fd::17", "a/b:c",
                          "-uhttps://x/y", "file:///srv/git/shop.git", "/srv/git/shop.git", "shop",
                          "https://", "https://host/a b"}) {
    nlohmann::json message = ValidMessage();
    message["repo"]["url"] = url;
    std::string error = ErrorOf(message);
    EXPECT_EQ(error.rfind("repo.url: ", 0), 0u) << url << ": " << error;
  }
}

TEST(ParseJob, FileUrlsOnlyWhenAllowed) {
  nlohmann::json message = ValidMessage();
  message["repo"]["url"] = "file:///srv/git/acme/shop.git";
  message["repo"].erase("name");
  std::string error = ErrorOf(message);
  EXPECT_NE(error.find("file:// URLs are not allowed"), std::string::npos) << error;
  JobRules allow;
  allow.allow_file_urls = true;
  auto job = Parse(message, allow);
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_EQ(job->repo_name, "acme/shop");
  message["repo"]["url"] = "/srv/git/acme/shop";
  EXPECT_TRUE(Parse(message, allow).ok());
}

TEST(ParseJob, ErrorsDoNotLeakUrlCredentials) {
  nlohmann::json message = ValidMessage();
  message["repo"]["url"] = "ftp://user:s3cr3tT0ken@host/repo.git";
  std::string error = ErrorOf(message);
  EXPECT_EQ(error.find("s3cr3tT0ken"), std::string::npos) << error;
}

TEST(ParseJob, RejectsBadBranches) {
  for (const char* branch : {"feature..x", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "/a", "a/",
                             "a//b", "a.", ".a", "a/.b", "a.lock", "a/b.lock/c", "a@{1}", "@", "-a", "HEAD",
                             "a\tb", "a\x7f"}) {
    nlohmann::json message = ValidMessage();
    message["branch"] = branch;
    std::string error = ErrorOf(message);
    EXPECT_EQ(error.rfind("branch: ", 0), 0u) << branch << ": " << error;
  }
  for (const char* branch : {"main", "feature/x-1", "release/2024.01", "a@b", "user/a.b", "x.lockx", "ü"}) {
    EXPECT_TRUE(IsValidBranchName(branch)) << branch;
  }
}

TEST(ParseJob, PipelineNames) {
  for (const char* name : {"default", "acme/shop", "a_b-c.d", "x/y/z"}) EXPECT_TRUE(IsValidPipelineName(name)) << name;
  for (const char* name : {"", "../etc", "a/../b", "./a", "a/", "/a", "a//b", "a b", "a\\b", "."}) {
    EXPECT_FALSE(IsValidPipelineName(name)) << name;
    nlohmann::json message = ValidMessage();
    message["pipeline"] = name;
    if (std::string(name).empty()) continue;  // empty means "none"
    EXPECT_EQ(ErrorOf(message).rfind("pipeline: ", 0), 0u) << name;
  }
}

TEST(ParseJob, IgnoresUnknownFields) {
  nlohmann::json message = ValidMessage();
  message["sender"] = {{"login", "octocat"}};
  EXPECT_TRUE(Parse(message).ok());
}

TEST(ValidateJob, NamesTheFieldOfAJobBuiltInCode) {
  Job job;
  EXPECT_EQ(ValidateJob(job, {}).error(), "id: missing");
  job.id = NewJobId();
  EXPECT_EQ(ValidateJob(job, {}).error(), "repo.url: missing");
  job.repo_url = "https://github.com/acme/shop.git";
  EXPECT_EQ(ValidateJob(job, {}).error(), "commit: missing");
  job.commit = kCommit;
  EXPECT_TRUE(ValidateJob(job, {}).ok());
}

TEST(RepoNameFromUrl, Forms) {
  EXPECT_EQ(RepoNameFromUrl("https://github.com/acme/shop.git"), "acme/shop");
  EXPECT_EQ(RepoNameFromUrl("https://github.com/acme/shop"), "acme/shop");
  EXPECT_EQ(RepoNameFromUrl("https://github.com/acme/shop/"), "acme/shop");
  EXPECT_EQ(RepoNameFromUrl("https://x-access-token:abc@github.com/acme/shop.git"), "acme/shop");
  EXPECT_EQ(RepoNameFromUrl("git@github.com:acme/shop.git"), "acme/shop");
  EXPECT_EQ(RepoNameFromUrl("ssh://git@github.com:22/acme/shop.git"), "acme/shop");
  EXPECT_EQ(RepoNameFromUrl("https://gitlab.com/group/sub/shop.git"), "group/sub/shop");
  EXPECT_EQ(RepoNameFromUrl("file:///srv/git/acme/shop.git"), "acme/shop");
  EXPECT_EQ(RepoNameFromUrl("/tmp/x/acme/shop"), "acme/shop");
  EXPECT_EQ(RepoNameFromUrl("https://github.com"), "");
  EXPECT_EQ(RepoNameFromUrl("https://github.com/"), "");
  EXPECT_EQ(RepoNameFromUrl("https://host/a%20b/c"), "");
}

TEST(NewJobId, IsAUlid) {
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 5000; ++i) {
    std::string id = NewJobId();
    ASSERT_EQ(id.size(), 26u);
    EXPECT_TRUE(IsValidJobId(id));
    EXPECT_EQ(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos) << id;
    EXPECT_LE(id[0], '7') << "a ULID's first character holds 3 bits";
    EXPECT_GT(id, previous) << "ids of one process sort in creation order";
    previous = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 5000u);
}

TEST(NewJobId, UniqueAcrossThreads) {
  std::vector<std::vector<std::string>> ids(4);
  std::vector<std::thread> threads;
  for (auto& out : ids) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 2000; ++i) out.push_back(NewJobId());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& out : ids) all.insert(out.begin(), out.end());
  EXPECT_EQ(all.size(), 8000u);
}

}  // namespace
}  // namespace kiln

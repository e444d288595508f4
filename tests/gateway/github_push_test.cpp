// A push payload becomes a job (or a reason not to build): GitHub's documented example
// (tests/fixtures/github/push.json, a tag deletion) and shapes derived from it.
#include "gateway/github_push.hpp"

#include <gtest/gtest.h>

#include "gateway_fixture.hpp"

namespace kiln {
namespace {

using testing::PushPayload;

const std::string kAfter = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
const std::string kBefore = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const std::string kZeros(40, '0');

Result<PushDecision> Decide(const std::string& body, GatewayConfig gateway = {}) {
  return DecidePush(body, "72d3162e-cc78-11e3-81ab-4c9367dc0958", gateway, JobRules{});
}

TEST(GitHubPush, TheDocumentedExampleIsATagDeletionAndBuildsNothing) {
  auto decision = Decide(testing::DocumentedPushPayload());
  ASSERT_TRUE(decision.ok()) << decision.error();
  EXPECT_FALSE(decision->build);
  EXPECT_NE(decision->reason.find("tag simple-tag was deleted"), std::string::npos) << decision->reason;
  // Even with tag builds on: a deleted tag has no commit to build.
  GatewayConfig builds_tags;
  builds_tags.tag_pushes = "build";
  auto again = Decide(testing::DocumentedPushPayload(), builds_tags);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_FALSE(again->build);
}

TEST(GitHubPush, TheContentKeyIsTheSameForTheSamePushAndDiffersForAnyOther) {
  auto key = [](const std::string& body) {
    auto decision = Decide(body);
    EXPECT_TRUE(decision.ok() && decision->build);
    return decision.ok() ? decision->content_key : std::string();
  };
  const std::string push = key(PushPayload("refs/heads/main", kBefore, kAfter));
  EXPECT_EQ(push.rfind("push.", 0), 0u) << push;  // never a delivery id: those hold no '.'
  EXPECT_EQ(push.size(), 5u + 64u);
  EXPECT_EQ(key(PushPayload("refs/heads/main", kBefore, kAfter)), push);  // new job id, same push
  EXPECT_NE(key(PushPayload("refs/heads/dev", kBefore, kAfter)), push);
  EXPECT_NE(key(PushPayload("refs/heads/main", kAfter, kBefore)), push);
  EXPECT_NE(key(PushPayload("refs/heads/main", kZeros, kAfter)), push);
  auto other_repo = nlohmann::json::parse(PushPayload("refs/heads/main", kBefore, kAfter));
  other_repo["repository"]["clone_url"] = "https://github.com/Codertocat/Other.git";
  EXPECT_NE(key(other_repo.dump()), push);
}

TEST(GitHubPush, ABranchPushBecomesTheJobOfDesignMd) {
  auto decision = Decide(PushPayload("refs/heads/main", kBefore, kAfter));
  ASSERT_TRUE(decision.ok()) << decision.error();
  ASSERT_TRUE(decision->build) << decision->reason;
  const Job& job = decision->job;
  EXPECT_EQ(job.id.size(), 26u) << job.id;  // a ULID, as kiln submit makes
  EXPECT_EQ(job.repo_url, "https://github.com/Codertocat/Hello-World.git");
  EXPECT_EQ(job.repo_name, "Codertocat/Hello-World");
  EXPECT_EQ(job.commit, kAfter);
  EXPECT_EQ(job.branch, "main");
  EXPECT_EQ(job.before, kBefore);
  EXPECT_EQ(job.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_TRUE(job.env.empty());
  // A push comes from someone who can write the repository: its job may write the
  // repository's caches, and the published message says so.
  EXPECT_TRUE(job.trusted);
  EXPECT_EQ(job.to_json().at("trusted"), true);
  // The message the worker will read passes the worker's own gate.
  auto parsed = ParseJob(job.to_json().dump(), JobRules{});
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(parsed->trusted);
}

TEST(GitHubPush, ANewBranchHasNoBefore) {
  auto decision = Decide(PushPayload("refs/heads/feature/login", kZeros, kAfter));
  ASSERT_TRUE(decision.ok()) << decision.error();
  ASSERT_TRUE(decision->build);
  EXPECT_EQ(decision->job.branch, "feature/login");
  EXPECT_EQ(decision->job.before, "");
}

TEST(GitHubPush, BranchDeletionsAreIgnoredUnlessConfigured) {
  const std::string body = PushPayload("refs/heads/old", kBefore, kZeros, true);
  auto ignored = Decide(body);
  ASSERT_TRUE(ignored.ok()) << ignored.error();
  EXPECT_FALSE(ignored->build);
  EXPECT_NE(ignored->reason.find("branch old was deleted"), std::string::npos) << ignored->reason;

  GatewayConfig builds;
  builds.branch_deletions = "build";
  auto built = Decide(body, builds);
  ASSERT_TRUE(built.ok()) << built.error();
  ASSERT_TRUE(built->build);
  EXPECT_EQ(built->job.commit, kBefore);  // the branch's last commit
  EXPECT_EQ(built->job.branch, "old");
  EXPECT_EQ(built->job.env.at("KILN_BRANCH_DELETED"), "true");
}

TEST(GitHubPush, TagPushesAreIgnoredUnlessConfigured) {
  const std::string body = PushPayload("refs/tags/v1.2.0", kZeros, kAfter);
  auto ignored = Decide(body);
  ASSERT_TRUE(ignored.ok()) << ignored.error();
  EXPECT_FALSE(ignored->build);
  EXPECT_NE(ignored->reason.find("gateway.tag_pushes"), std::string::npos) << ignored->reason;

  GatewayConfig builds;
  builds.tag_pushes = "build";
  auto built = Decide(body, builds);
  ASSERT_TRUE(built.ok()) << built.error();
  ASSERT_TRUE(built->build);
  EXPECT_EQ(built->job.commit, kAfter);
  EXPECT_EQ(built->job.branch, "");
  EXPECT_EQ(built->job.env.at("KILN_TAG"), "v1.2.0");
}

TEST(GitHubPush, OtherRefsBuildNothing) {
  auto decision = Decide(PushPayload("refs/notes/commits", kBefore, kAfter));
  ASSERT_TRUE(decision.ok()) << decision.error();
  EXPECT_FALSE(decision->build);
  EXPECT_NE(decision->reason.find("neither a branch nor a tag"), std::string::npos);
}

TEST(GitHubPush, BadPayloadsNameWhatIsWrong) {
  auto without = [](const char* key) {
    auto doc = nlohmann::json::parse(PushPayload("refs/heads/main", kBefore, kAfter));
    doc.erase(key);
    return doc.dump();
  };
  struct Case {
    std::string body, says;
  };
  auto bad_repo = nlohmann::json::parse(PushPayload("refs/heads/main", kBefore, kAfter));
  bad_repo["repository"]["clone_url"] = "ftp://github.com/Codertocat/Hello-World.git";
  auto bad_branch = PushPayload("refs/heads/bad..name", kBefore, kAfter);
  // Found by the github_push fuzzer: a non-boolean `deleted` threw out of DecidePush.
  auto deleted_not_boolean = nlohmann::json::parse(PushPayload("refs/heads/main", kBefore, kAfter));
  deleted_not_boolean["deleted"] = "yes";
  for (const Case& c : std::vector<Case>{
           {"{not json", "payload: not valid JSON"},
           {"[1,2]", "payload: must be a JSON object"},
           {without("ref"), "ref: missing"},
           {without("after"), "after: missing"},
           {without("repository"), "repository: missing"},
           {PushPayload("refs/heads/main", kBefore, "XYZ"), "job: commit:"},
           {bad_repo.dump(), "job: repo.url:"},
           {bad_branch, "job: branch:"},
           {deleted_not_boolean.dump(), "deleted: must be true or false, got a string"},
       }) {
    auto decision = Decide(c.body);
    ASSERT_FALSE(decision.ok()) << c.body.substr(0, 80);
    EXPECT_NE(decision.error().find(c.says), std::string::npos) << decision.error();
  }
}

}  // namespace
}  // namespace kiln

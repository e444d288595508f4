#include "dockerfile.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;
using kiln::testing::TempDir;
using kiln::testing::WriteFile;

class LocateDockerfileTest : public ::testing::Test {
 protected:
  TempDir dir_{"kiln-dockerfile"};
  fs::path workspace_ = dir_.path() / "work";
  fs::path context_ = workspace_ / "src";
  void SetUp() override { fs::create_directories(context_); }
  std::string Locate(const std::string& context, const std::string& given, Dockerfile& out) {
    std::string error;
    return LocateDockerfile(workspace_, context, given, out, error) ? std::string() : error;
  }
};

TEST_F(LocateDockerfileTest, FindsDockerfileThenContainerfile) {
  WriteFile(context_ / "Containerfile", "FROM scratch\n");
  Dockerfile found;
  ASSERT_EQ(Locate("src", "", found), "");  // relative to the workspace
  EXPECT_EQ(found.path, fs::canonical(context_ / "Containerfile"));
  EXPECT_EQ(found.context, fs::canonical(context_));
  WriteFile(context_ / "Dockerfile", "FROM scratch\n");
  ASSERT_EQ(Locate(context_.string(), "", found), "");
  EXPECT_EQ(found.path.filename(), "Dockerfile");
}

TEST_F(LocateDockerfileTest, GivenPathRelativeToContext) {
  WriteFile(context_ / "docker" / "app.Dockerfile", "FROM scratch\n");
  Dockerfile found;
  ASSERT_EQ(Locate(context_.string(), "docker/app.Dockerfile", found), "");
  EXPECT_EQ(found.path, fs::canonical(context_ / "docker" / "app.Dockerfile"));
}

TEST_F(LocateDockerfileTest, MissingOnesNameThePath) {
  Dockerfile found;
  EXPECT_EQ(Locate(context_.string(), "", found),
            "no Dockerfile or Containerfile in build context " + fs::canonical(context_).string());
  EXPECT_EQ(Locate(context_.string(), "nope.Dockerfile", found),
            "Dockerfile " + (fs::canonical(context_) / "nope.Dockerfile").string() + " does not exist");
  EXPECT_EQ(Locate("missing", "", found), "build context " + (workspace_ / "missing").string() + " is not a directory");
  EXPECT_EQ(Locate("", "", found), "context: missing (the directory to build)");
}

TEST_F(LocateDockerfileTest, OutsideTheContextIsRefusedEvenThroughASymlink) {
  WriteFile(workspace_ / "outside.Dockerfile", "FROM scratch\n");
  Dockerfile found;
  std::string error = Locate(context_.string(), "../outside.Dockerfile", found);
  EXPECT_NE(error.find("lies outside the build context"), std::string::npos) << error;
  EXPECT_NE(error.find("outside.Dockerfile"), std::string::npos) << error;

  fs::create_symlink(workspace_ / "outside.Dockerfile", context_ / "Dockerfile");
  error = Locate(context_.string(), "", found);
  EXPECT_NE(error.find("lies outside the build context"), std::string::npos) << error;
  EXPECT_NE(error.find("resolves to " + fs::canonical(workspace_ / "outside.Dockerfile").string()), std::string::npos)
      << error;

  error = Locate(context_.string(), "/etc/hostname", found);
  EXPECT_NE(error.find("lies outside the build context"), std::string::npos) << error;
}

// buildah reads the whole context into the build (and so into an image that may be
// pushed): a context outside the job's workspace used to be taken as named (issue 21).
TEST_F(LocateDockerfileTest, AContextOutsideTheWorkspaceIsRefusedHoweverItIsNamed) {
  const fs::path outside = dir_.path() / "outside";
  WriteFile(outside / "Dockerfile", "FROM scratch\n");
  fs::create_directory_symlink(outside, workspace_ / "linked");
  fs::create_directory_symlink("../../outside", context_ / "up");
  Dockerfile found;
  EXPECT_EQ(Locate("../outside", "", found), "context: '../outside' leaves the workspace");
  EXPECT_EQ(Locate(outside.string(), "", found), "context: '" + outside.string() + "' is outside the workspace");
  EXPECT_EQ(Locate("/", "", found), "context: '/' is outside the workspace");
  EXPECT_EQ(Locate("linked", "", found).rfind("context: 'linked': 'linked' is a symlink that points outside", 0), 0u)
      << Locate("linked", "", found);
  EXPECT_EQ(Locate("src/up", "", found).rfind("context: 'src/up': 'src/up' is a symlink that points outside", 0), 0u)
      << Locate("src/up", "", found);
  // A link that stays inside is followed.
  WriteFile(context_ / "Dockerfile", "FROM scratch\n");
  fs::create_directory_symlink("src", workspace_ / "alias");
  ASSERT_EQ(Locate("alias", "", found), "");
  EXPECT_EQ(found.context, fs::canonical(context_));
}

TEST_F(LocateDockerfileTest, ADirectoryIsNotADockerfile) {
  fs::create_directories(context_ / "Dockerfile");
  Dockerfile found;
  EXPECT_NE(Locate(context_.string(), "", found).find("is not a regular file"), std::string::npos);
}

std::string Parse(const std::string& text, Dockerfile& out, const std::map<std::string, std::string>& args = {}) {
  std::string error;
  return ParseDockerfile(text, args, out, error) ? std::string() : error;
}

TEST(ParseDockerfile, NeedsAFromBeforeAnythingButArg) {
  Dockerfile out;
  EXPECT_EQ(Parse("", out), "no FROM instruction");
  EXPECT_EQ(Parse("# only a comment\nRUN true\n", out), "line 2: run comes before the first FROM");
  EXPECT_EQ(Parse("ARG BASE=scratch\n\nFROM $BASE\nRUN true\n", out), "");
  EXPECT_EQ(Parse("FROM\n", out), "line 1: FROM names no image");
  EXPECT_EQ(Parse("from scratch\ncopy a /a\n", out), "");
}

TEST(ParseDockerfile, CollectsExternalImagesButNotStagesOrScratch) {
  Dockerfile out;
  ASSERT_EQ(Parse("ARG BASE=localhost/base:1\n"
                  "FROM --platform=linux/amd64 ${BASE} AS build\n"
                  "RUN make \\\n"
                  "    all\n"
                  "FROM scratch\n"
                  "COPY --from=build /out /out\n"
                  "COPY --from=0 /x /x\n"
                  "COPY --from=docker.io/library/alpine:3 /etc/os-release /\n"
                  "FROM build\n",
                  out),
            "");
  EXPECT_EQ(out.external_images, (std::vector<std::string>{"localhost/base:1", "docker.io/library/alpine:3"}));
  EXPECT_FALSE(out.unresolved_images);
}

TEST(ParseDockerfile, BuildArgsOverrideDefaultsAndUnsetOnesAreFlagged) {
  Dockerfile out;
  ASSERT_EQ(Parse("ARG BASE=a\nFROM $BASE\n", out, {{"BASE", "b"}}), "");
  EXPECT_EQ(out.external_images, std::vector<std::string>{"b"});
  Dockerfile unresolved;
  ASSERT_EQ(Parse("ARG TAG\nFROM base:${TAG}\n", unresolved), "");
  EXPECT_TRUE(unresolved.unresolved_images);
  Dockerfile fallback;
  ASSERT_EQ(Parse("FROM base:${TAG:-latest}\n", fallback), "");
  EXPECT_EQ(fallback.external_images, std::vector<std::string>{"base:latest"});
}

TEST(ParseDockerfile, BacktickEscapeDirective) {
  Dockerfile out;
  ASSERT_EQ(Parse("# escape=`\nFROM scratch\nCOPY a `\n  /a\n", out), "");
  EXPECT_EQ(Parse("# escape=`\nRUN a `\n  b\n", out), "line 2: run comes before the first FROM");
}

}  // namespace
}  // namespace kiln::buildah

#include "buildah_cli.hpp"

#include <gtest/gtest.h>

namespace kiln::buildah {
namespace {

// Error lines as buildah 1.28.2 prints them (taken from real runs).
constexpr const char* kRefused =
    "Getting image source signatures\n"
    "Error: pushing image \"img\" to \"docker://127.0.0.1:1/foo:bar\": trying to reuse blob "
    "sha256:1815a0c94b2a205573c9ba7299a71d93ebff7397c8a8e27f7ef5a3a690eaaa50 at destination: pinging container "
    "registry 127.0.0.1:1: Get \"https://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused\n";
constexpr const char* kUnavailable =
    "Error: pushing image \"img\" to \"docker://127.0.0.1:45002/foo:bar\": trying to reuse blob sha256:18 at "
    "destination: pinging container registry 127.0.0.1:45002: invalid status code from registry 503 (Service "
    "Unavailable)\n";
constexpr const char* kUnauthorized =
    "Error: pushing image \"img\" to \"docker://127.0.0.1:45001/foo:bar\": trying to reuse blob sha256:18 at "
    "destination: checking whether a blob sha256:18 exists in 127.0.0.1:45001/foo: unauthorized: authentication "
    "required\n";
constexpr const char* kFailingRun =
    "STEP 2/2: RUN echo ping | nc -w 3 127.0.0.1 45678\n"
    "nc: can't connect to remote host (127.0.0.1): Network is unreachable\n"
    "subprocess exited with status 1\n"
    "Error: building at STEP \"RUN echo ping | nc -w 3 127.0.0.1 45678\": exit status 1\n";

TEST(ClassifyFailure, NetworkAnd5xxRetryAuthManifestAndRunDoNot) {
  EXPECT_EQ(ClassifyFailure(kRefused), FailureKind::retryable);
  EXPECT_EQ(ClassifyFailure(kUnavailable), FailureKind::retryable);
  EXPECT_EQ(ClassifyFailure("Error: reading manifest 1.0 in x/y: manifest unknown: manifest unknown\n"),
            FailureKind::terminal);
  EXPECT_EQ(ClassifyFailure(kUnauthorized), FailureKind::terminal);
  EXPECT_EQ(ClassifyFailure(kFailingRun), FailureKind::terminal);
  EXPECT_EQ(ClassifyFailure("Error: something nobody planned for\n"), FailureKind::terminal);
  EXPECT_EQ(ClassifyFailure("Error: initializing source docker://x: received unexpected HTTP status: 502 Bad Gateway\n"),
            FailureKind::retryable);
  EXPECT_EQ(ClassifyFailure("Error: x: toomanyrequests: too many requests\n"), FailureKind::retryable);
}

TEST(FailureResult, CarriesExitErrorLineAndTail) {
  ProcessResult result;
  result.started = true;
  result.exit_code = 1;
  result.output_tail = kFailingRun;
  StepResult failed = FailureResult(result, "buildah bud of /ctx/Dockerfile");
  EXPECT_EQ(failed.status, StepResult::Status::terminal);
  EXPECT_NE(failed.message.find("buildah bud of /ctx/Dockerfile failed (exit 1): Error: building at STEP"),
            std::string::npos)
      << failed.message;
  EXPECT_NE(failed.message.find("Network is unreachable"), std::string::npos) << failed.message;

  result.output_tail = kRefused;
  EXPECT_EQ(FailureResult(result, "push").status, StepResult::Status::retryable);

  ProcessResult not_started;
  not_started.error = "execvp: No such file or directory";
  EXPECT_EQ(FailureResult(not_started, "bud").message, "bud: could not start buildah: execvp: No such file or directory");
}

TEST(TailLines, KeepsTheLastLines) {
  EXPECT_EQ(TailLines("a\nb\nc\n", 2), "b\nc");
  EXPECT_EQ(TailLines("a\nb\nc", 5), "a\nb\nc");
  EXPECT_EQ(TailLines("", 3), "");
}

TEST(BuildahArgv, GlobalStoreFlagsFirst) {
  BuildahConfig config;
  config.root = "/r";
  config.runroot = "/rr";
  EXPECT_EQ(BuildahArgv(config, {"images"}),
            (std::vector<std::string>{"buildah", "--root", "/r", "--runroot", "/rr", "--storage-driver", "vfs", "images"}));
}

}  // namespace
}  // namespace kiln::buildah

// X-Hub-Signature-256 as GitHub documents it, with GitHub's own test vector.
#include "gateway/webhook_signature.hpp"

#include <gtest/gtest.h>

namespace kiln {
namespace {

// docs.github.com, "Validating webhook deliveries": this secret and payload give this header.
constexpr const char* kSecret = "It's a Secret to Everybody";
constexpr const char* kPayload = "Hello, World!";
constexpr const char* kHeader = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

TEST(WebhookSignature, MatchesGitHubsDocumentedTestVector) {
  EXPECT_EQ(GitHubSignature(kSecret, kPayload), kHeader);
  EXPECT_TRUE(VerifyGitHubSignature(kSecret, kPayload, kHeader));
}

TEST(WebhookSignature, AWrongOrMissingSignatureFails) {
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, ""));
  std::string wrong = kHeader;
  wrong.back() = wrong.back() == '7' ? '8' : '7';
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, wrong));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, GitHubSignature(kSecret, "Hello, World?")));
}

TEST(WebhookSignature, AnotherSecretFails) {
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, GitHubSignature("another secret", kPayload)));
  EXPECT_FALSE(VerifyGitHubSignature("another secret", kPayload, kHeader));
}

TEST(WebhookSignature, TheBodyIsTakenByteForByte) {
  // A re-serialised body (spaces, a trailing newline) is a different body.
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, std::string(kPayload) + "\n", kHeader));
  const std::string with_nul("a\0b", 3);
  EXPECT_TRUE(VerifyGitHubSignature(kSecret, with_nul, GitHubSignature(kSecret, with_nul)));
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, "a", GitHubSignature(kSecret, with_nul)));
}

TEST(WebhookSignature, OnlyTheSha256FormIsAccepted) {
  const std::string hex = std::string(kHeader).substr(7);
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, hex));                 // no prefix
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, "sha1=" + hex));       // the old header's form
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, std::string(kHeader) + "00"));  // too long
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, std::string(kHeader).substr(0, 70)));  // too short
  std::string not_hex = kHeader;
  not_hex[10] = 'g';
  EXPECT_FALSE(VerifyGitHubSignature(kSecret, kPayload, not_hex));
}

TEST(WebhookSignature, AnEmptySecretVerifiesNothing) {
  EXPECT_FALSE(VerifyGitHubSignature("", kPayload, GitHubSignature("", kPayload)));
}

}  // namespace
}  // namespace kiln

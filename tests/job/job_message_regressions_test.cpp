// Job message errors that broke the promises job_message_fuzzer (tests/fuzz) checks: an
// error is valid UTF-8 with no control characters, since it becomes a dead-letter header,
// an event and a log line.
#include <string>

#include <gtest/gtest.h>

#include "job/job.hpp"

namespace kiln {
namespace {

constexpr const char* kAnyCommit = "9fceb02d0ae598e95dc970b74767f19372d61af8";

std::string ParseErrorOf(const nlohmann::json& message) {
  auto job = ParseJob(message.dump(), {});
  EXPECT_FALSE(job.ok()) << message.dump();
  return job.ok() ? std::string() : job.error();
}

TEST(JobMessageErrors, AnEnvKeyWithAControlCharacterIsQuotedNotCopied) {
  // "env.A\nB: must be a string" put a line break into the dead letter's reason.
  nlohmann::json message = {{"id", "a"}, {"repo", {{"url", "https://x/y"}}}, {"commit", kAnyCommit},
                            {"env", {{"A\nB", 1}}}};
  const std::string error = ParseErrorOf(message);
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_EQ(error, "env: 'A?B' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
}

TEST(JobMessageErrors, ALongValueIsCutAtACharacterNotInsideOne) {
  // 'ftp://xx/' is 9 bytes, then two-byte characters: byte 200 fell inside one.
  std::string url = "ftp://xx/";
  for (int i = 0; i < 150; ++i) url += "\xc3\xa9";  // é
  nlohmann::json message = {{"id", "a"}, {"repo", {{"url", url}}}, {"commit", kAnyCommit}};
  const std::string error = ParseErrorOf(message);
  EXPECT_EQ(error.rfind("repo.url: scheme 'ftp' is not allowed", 0), 0u) << error;
  // The quoted part ends with whole characters, then "...".
  const std::string tail = "\xc3\xa9...'";
  ASSERT_GE(error.size(), tail.size());
  EXPECT_EQ(error.substr(error.size() - tail.size()), tail) << error;
  // No byte of a broken sequence is left anywhere: valid UTF-8 survives a strict parse.
  EXPECT_NO_THROW((void)nlohmann::json(error).dump());
}

}  // namespace
}  // namespace kiln

// StreamRedactor on its own: a registered value masked whole however the stream is cut.
#include <gtest/gtest.h>

#include "secrets/redactor.hpp"
#include "secrets/stream_redactor.hpp"

namespace kiln {
namespace {

std::string Through(const Redactor& redactor, const std::string& text, std::size_t piece) {
  StreamRedactor stream(&redactor);
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += piece) out += stream.feed(text.substr(i, piece));
  return out + stream.finish();
}

TEST(StreamRedactor, MasksAValueCutAtEveryPossiblePlace) {
  Redactor redactor;
  redactor.add("s3cr3t-value");
  redactor.add("-----BEGIN KEY-----\nline two\n-----END KEY-----");
  const std::string text = "a s3cr3t-value b\nkey:\n-----BEGIN KEY-----\nline two\n-----END KEY-----\nafter s3cr3t-valu\n";
  const std::string expected = "a *** b\nkey:\n***\nafter s3cr3t-valu\n";
  for (std::size_t piece = 1; piece <= text.size(); ++piece) {
    EXPECT_EQ(Through(redactor, text, piece), expected) << "pieces of " << piece;
  }
}

TEST(StreamRedactor, HoldsBackOnlyWhatCouldStartAValue) {
  Redactor redactor;
  redactor.add("s3cr3t-value");
  StreamRedactor stream(&redactor);
  EXPECT_EQ(stream.feed("line one\n"), "line one\n") << "nothing held: a follower sees it at once";
  EXPECT_EQ(stream.feed("x s3cr"), "x ");
  EXPECT_EQ(stream.feed("eam\n"), "s3cream\n");
}

}  // namespace
}  // namespace kiln

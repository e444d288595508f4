// WithoutAnsiEscapes: what `kiln logs` prints into a pipe and what a log search matches.
#include <gtest/gtest.h>

#include "logs/ansi_escapes.hpp"

namespace kiln::testing {
namespace {

TEST(WithoutAnsiEscapes, RemovesColoursAndTitlesAndKeepsTheText) {
  EXPECT_EQ(WithoutAnsiEscapes("\x1b[1;31mERROR\x1b[0m: x"), "ERROR: x");
  EXPECT_EQ(WithoutAnsiEscapes("\x1b]0;title\x07text"), "text");
  EXPECT_EQ(WithoutAnsiEscapes("\x1b]8;;https://x\x1b\\link"), "link");
  EXPECT_EQ(WithoutAnsiEscapes("plain"), "plain");
  EXPECT_EQ(WithoutAnsiEscapes("cut at the end \x1b["), "cut at the end ");
}

}  // namespace
}  // namespace kiln::testing

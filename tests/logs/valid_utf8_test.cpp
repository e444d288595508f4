// MakeValidUtf8 keeps valid text as it is and replaces each byte that starts no valid
// sequence with U+FFFD, wherever it falls: inside the 8-byte ASCII steps, at their edges or
// after them.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "logs/log_chunk.hpp"

namespace kiln {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(MakeValidUtf8, KeepsAsciiAndValidSequences) {
  EXPECT_EQ(MakeValidUtf8(""), "");
  EXPECT_EQ(MakeValidUtf8("plain ascii, longer than eight bytes"), "plain ascii, longer than eight bytes");
  EXPECT_EQ(MakeValidUtf8("\x1b[31mred\x1b[0m"), "\x1b[31mred\x1b[0m");
  const std::string mixed = "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x94\xA5 0123456789";  // é ✓ 🔥
  EXPECT_EQ(MakeValidUtf8(mixed), mixed);
}

TEST(MakeValidUtf8, ReplacesEachBadByteWhereverItFalls) {
  for (std::size_t at = 0; at < 20; ++at) {
    std::string text(20, 'a');
    text[at] = '\xFF';
    std::string expected(20, 'a');
    expected.replace(at, 1, kReplacement);
    EXPECT_EQ(MakeValidUtf8(text), expected) << "bad byte at " << at;
  }
  // A sequence cut short at the end, an overlong form, a surrogate.
  EXPECT_EQ(MakeValidUtf8("12345678\xE2\x9C"), "12345678" + kReplacement + kReplacement);
  EXPECT_EQ(MakeValidUtf8("abcdefgh\xC0\xAF"), "abcdefgh" + kReplacement + kReplacement);
  EXPECT_EQ(MakeValidUtf8("abcdefgh\xED\xA0\x80z"), "abcdefgh" + kReplacement + kReplacement + kReplacement + "z");
}

TEST(MakeValidUtf8, OutputIsAlwaysValidAndValidInputIsKept) {
  std::mt19937 random(7);
  const std::string pieces[] = {"a", "bcdefghij", "\xC3\xA9", "\xE2\x9C\x93", "\xF0\x9F\x94\xA5", "\xFF", "\x80", "\xE2"};
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    bool valid = true;
    for (int k = random() % 12; k > 0; --k) {
      const std::string& piece = pieces[random() % 8];
      valid = valid && piece != "\xFF" && piece != "\x80" && piece != "\xE2";
      text += piece;
    }
    const std::string out = MakeValidUtf8(text);
    if (valid) {
      EXPECT_EQ(out, text);
    }
    EXPECT_EQ(MakeValidUtf8(out), out) << "valid after one pass";
  }
}

}  // namespace
}  // namespace kiln

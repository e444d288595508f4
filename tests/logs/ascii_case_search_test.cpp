// AsciiCaseSearch against a plain reference search, on the texts logs are made of
// (repeats, zero padding, colours) and on random ones.
#include <algorithm>
#include <cctype>
#include <random>

#include <gtest/gtest.h>

#include "logs/ascii_case_search.hpp"

namespace kiln {
namespace {

bool Reference(std::string_view haystack, std::string_view needle) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) != haystack.end();
}

TEST(AsciiCaseSearch, FindsTextInEitherCaseAnywhereInTheLine) {
  AsciiCaseSearch error("Error");
  EXPECT_TRUE(error.FoundIn("ERROR: undefined reference"));
  EXPECT_TRUE(error.FoundIn("src/a.c:3: error"));
  EXPECT_TRUE(error.FoundIn("error"));
  EXPECT_TRUE(error.FoundIn("onerror=x"));
  EXPECT_FALSE(error.FoundIn("erro"));
  EXPECT_FALSE(error.FoundIn(""));
  EXPECT_FALSE(error.FoundIn("e r r o r"));
}

TEST(AsciiCaseSearch, RepeatsAndPaddingDoNotHideAMatchOrMakeOne) {
  AsciiCaseSearch line42("0000042 0");
  EXPECT_TRUE(line42.FoundIn("0000042 000000000000000000000000042"));
  EXPECT_FALSE(line42.FoundIn("0000041 000000000000000000000000042"));
  EXPECT_FALSE(line42.FoundIn("0000000000000000000000000000000000042 "));
  AsciiCaseSearch aab("aab");
  EXPECT_TRUE(aab.FoundIn("aaaaaaaaab"));
  EXPECT_FALSE(aab.FoundIn("aaaaaaaaaa"));
}

TEST(AsciiCaseSearch, OnlyAsciiLettersFoldAndOtherBytesMatchExactly) {
  EXPECT_TRUE(AsciiCaseSearch("Ä").FoundIn("xÄx"));
  EXPECT_FALSE(AsciiCaseSearch("\xc3\xa4").FoundIn("\xc3\x84"));  // ä does not fold to Ä
  EXPECT_FALSE(AsciiCaseSearch("[").FoundIn("{"));                // '[' is 'A'-1+27, not a letter
  EXPECT_TRUE(AsciiCaseSearch("\x1b[31m").FoundIn("a\x1b[31mb"));
}

TEST(AsciiCaseSearch, AgreesWithAPlainSearchOnRandomText) {
  std::mt19937 random(42);
  const std::string alphabet = "aAbB0 \x1b\xff";
  auto text = [&](std::size_t max) {
    std::string s(random() % (max + 1), ' ');
    for (char& c : s) c = alphabet[random() % alphabet.size()];
    return s;
  };
  for (int i = 0; i < 20000; ++i) {
    std::string needle = text(5);
    if (needle.empty()) needle = "a";
    const std::string haystack = text(40);
    ASSERT_EQ(AsciiCaseSearch(needle).FoundIn(haystack), Reference(haystack, needle))
        << "needle '" << needle << "' in '" << haystack << "'";
  }
}

}  // namespace
}  // namespace kiln

#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::buildah {

// Dockerfile keywords and mount options are ASCII and case-insensitive; the locale must not
// change what matches.
inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Whitespace-separated words, as a shell would split an unquoted line.
inline std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace kiln::buildah

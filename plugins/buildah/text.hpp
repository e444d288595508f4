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

// Without the spaces, tabs and carriage returns around it.
inline std::string Trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

// Whitespace-separated words, as a shell would split an unquoted line.
inline std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace kiln::buildah

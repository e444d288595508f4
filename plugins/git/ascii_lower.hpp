#pragma once

#include <string>
#include <string_view>

namespace kiln::git {

// Hosts, schemes and config keys compare case-insensitively in ASCII only; the locale must
// not change what matches.
inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace kiln::git

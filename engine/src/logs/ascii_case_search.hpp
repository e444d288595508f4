// Finding a text in log lines, ignoring ASCII case, fast on the lines build logs are made
// of. A log search reads a whole stored log (up to logs.max_bytes, 64 MiB by default) for
// every query, and a naive search is slow exactly where logs repeat themselves: "0000042"
// among lines of zero-padded numbers cost 4x a search for a text with no match. Boyer-Moore-
// Horspool skips ahead by the byte under the window's end, so repeats cost nothing extra.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace kiln {

class AsciiCaseSearch {
 public:
  /// `needle` must not be empty.
  explicit AsciiCaseSearch(std::string_view needle);

  /// True when `haystack` contains the needle, ASCII letters of either case matching.
  bool FoundIn(std::string_view haystack) const;

 private:
  std::string needle_;                 // lower-cased
  std::array<std::size_t, 256> skip_;  // by the lower-cased byte under the window's last
};

}  // namespace kiln

#include "logs/ascii_case_search.hpp"

namespace kiln {

namespace {

constexpr unsigned char Lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c; }

}  // namespace

AsciiCaseSearch::AsciiCaseSearch(std::string_view needle) {
  needle_.reserve(needle.size());
  for (char c : needle) needle_ += static_cast<char>(Lower(static_cast<unsigned char>(c)));
  skip_.fill(needle_.size());
  for (std::size_t i = 0; i + 1 < needle_.size(); ++i) {
    skip_[static_cast<unsigned char>(needle_[i])] = needle_.size() - 1 - i;
  }
}

bool AsciiCaseSearch::FoundIn(std::string_view haystack) const {
  const std::size_t m = needle_.size();
  if (m == 0) return true;
  if (haystack.size() < m) return false;
  const auto* text = reinterpret_cast<const unsigned char*>(haystack.data());
  const auto* want = reinterpret_cast<const unsigned char*>(needle_.data());
  for (std::size_t at = 0; at + m <= haystack.size();) {
    const unsigned char last = Lower(text[at + m - 1]);
    if (last == want[m - 1]) {
      std::size_t j = m - 1;
      while (j > 0 && Lower(text[at + j - 1]) == want[j - 1]) --j;
      if (j == 0) return true;
    }
    at += skip_[last];
  }
  return false;
}

}  // namespace kiln

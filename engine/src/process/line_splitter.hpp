// Splits a process's output (already through the StreamRedactor) into the lines of its
// step log. A line is kept whole up to kMaxLine bytes (a minified bundle, a base64 blob);
// past that it is cut, at the last blank within the last kCutWindow bytes when there is
// one, so that a URL with credentials in it (redacted per line) is not cut in two.
// Nothing is dropped: the rest of a cut line becomes the next line.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace kiln {

class LineSplitter {
 public:
  static constexpr std::size_t kMaxLine = 4u << 20;
  static constexpr std::size_t kCutWindow = 4096;

  explicit LineSplitter(std::size_t max_line = kMaxLine) : max_line_(max_line) {}

  template <typename Emit>
  void feed(std::string_view data, Emit&& emit) {
    while (!data.empty()) {
      const void* found = std::memchr(data.data(), '\n', data.size());
      const std::size_t end = found ? static_cast<const char*>(found) - data.data() : data.size();
      if (partial_.empty() && found && end <= max_line_) {
        emit(WithoutCr(data.substr(0, end)));  // the common case: no copy
      } else {
        partial_.append(data.substr(0, end));
        while (partial_.size() > max_line_) CutLong(emit);
        if (found) flush(emit);
      }
      data.remove_prefix(found ? end + 1 : end);
    }
  }
  /// Emits the unterminated last line (the process ended without a newline).
  template <typename Emit>
  void flush(Emit&& emit) {
    emit(WithoutCr(partial_));
    partial_.clear();
  }
  bool empty() const { return partial_.empty(); }

 private:
  static std::string_view WithoutCr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }
  template <typename Emit>
  void CutLong(Emit& emit) {
    std::size_t cut = max_line_;
    const std::size_t floor = max_line_ > kCutWindow ? max_line_ - kCutWindow : 0;
    for (std::size_t i = max_line_; i > floor; --i) {
      if (partial_[i - 1] == ' ' || partial_[i - 1] == '\t') {
        cut = i;
        break;
      }
    }
    emit(std::string_view(partial_).substr(0, cut));
    partial_.erase(0, cut);
  }

  std::size_t max_line_;
  std::string partial_;
};

}  // namespace kiln

#include "secrets/stream_redactor.hpp"

#include "secrets/redactor.hpp"

namespace kiln {

std::string StreamRedactor::feed(std::string_view data) {
  if (redactor_ == nullptr) return std::string(data);
  std::string text;
  if (held_.empty()) {
    text.assign(data);
  } else {
    text = std::move(held_);
    text.append(data);
    held_.clear();
  }
  const std::size_t cut = redactor_->safe_stream_cut(text);
  if (cut < text.size()) {
    held_ = text.substr(cut);
    text.resize(cut);
  }
  redactor_->redact_in_place(text);
  return text;
}

std::string StreamRedactor::finish() {
  if (redactor_ == nullptr || held_.empty()) return {};
  std::string rest = redactor_->redact(held_);
  held_.clear();
  return rest;
}

}  // namespace kiln

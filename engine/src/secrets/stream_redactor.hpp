// Redacts a byte stream (a process's output) read in pieces of any size: a registered value
// cut by a read boundary, or one that spans lines (a PEM key), is masked whole.
//
// feed() passes on what is safe and holds back the end of the stream that could still be
// the start of a value (at most the longest value's length less one byte, usually nothing);
// finish() passes on the rest. Output then equals Redactor::redact of the whole stream for
// registered values; URL credentials are masked again per line by the process runner.
// Not thread-safe: one per process.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

class Redactor;

class StreamRedactor {
 public:
  explicit StreamRedactor(const Redactor* redactor) : redactor_(redactor) {}

  std::string feed(std::string_view data);
  std::string finish();

 private:
  const Redactor* redactor_;  // may be null: everything passes as it is
  std::string held_;
};

}  // namespace kiln

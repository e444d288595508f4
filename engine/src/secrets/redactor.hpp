// Removes secrets from text before it leaves the engine.
//
// Two kinds of secret: values registered with add() (configured secrets, values read by
// kiln.secret, credentials a plugin found), replaced by "***"; and credentials written
// inside URLs (scheme://user:password@host), whose user-info part is replaced whatever it
// is. Thread-safe: add() and redact() may run concurrently from every job thread.
#pragma once

#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln {

class Redactor {
 public:
  static constexpr std::string_view kMask = "***";

  /// Values shorter than 4 characters are ignored: masking "a" everywhere would
  /// destroy every log line and protect nothing.
  void add(std::string_view secret);
  std::string redact(std::string_view text) const;
  /// The same on a string of the caller's, without a copy (a stream's reads).
  void redact_in_place(std::string& text) const;
  /// True when `text` contains a registered value (URL credentials aside).
  bool contains_secret(std::string_view text) const;
  /// Where a stream of output may be cut so that redacting text[0, cut) alone masks every
  /// registered value a longer text would: no value occurs across the cut, and what follows
  /// it is not the start of a value (it may be completed by the next bytes). text.size()
  /// when the whole text is safe. For StreamRedactor.
  std::size_t safe_stream_cut(std::string_view text) const;
  /// Redacts every string (and every object key) inside `value`, in place.
  void redact_json(nlohmann::json& value) const;
  /// Redacts only URL credentials (no registered values): for places that must not
  /// take a lock, or before any secret is known.
  static std::string redact_url_credentials(std::string_view text);
  static void mask_url_credentials(std::string& text);

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::string> secrets_;  // longest first, so a secret containing another is masked whole
};

}  // namespace kiln

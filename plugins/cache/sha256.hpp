// SHA-256 through OpenSSL's libcrypto (EVP), as lower-case hex.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace kiln::cache {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, std::size_t size);
  void Update(std::string_view text) { Update(text.data(), text.size()); }
  /// The digest as 64 hex digits; the object is spent afterwards.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(std::string_view text);

}  // namespace kiln::cache

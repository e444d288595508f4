// kiln plugin SDK: SHA-256 through OpenSSL's libcrypto (EVP), as lower-case hex. For
// content-addressed keys (cache entries, build keys). A plugin that includes this header
// links OpenSSL::Crypto (libssl-dev on Debian).
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kiln {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      throw std::runtime_error("sha256: cannot initialise libcrypto digest");
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, std::size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  void Update(std::string_view text) { Update(text.data(), text.size()); }

  /// The digest as 64 hex digits; the object is spent afterwards.
  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_, digest, &length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

inline std::string Sha256Hex(std::string_view text) {
  Sha256 hash;
  hash.Update(text);
  return hash.HexDigest();
}

}  // namespace kiln

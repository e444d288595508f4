#include "gateway/webhook_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <optional>

#include "util/hex_digit.hpp"

namespace kiln {

namespace {

using Digest = std::array<unsigned char, 32>;
constexpr std::string_view kPrefix = "sha256=";

std::optional<Digest> HmacSha256(std::string_view secret, std::string_view body) {
  Digest out{};
  unsigned int length = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(), out.data(), &length);
  if (result == nullptr || length != out.size()) return std::nullopt;
  return out;
}

// "sha256=<64 hex digits>" -> the 32 bytes; nullopt for anything else. The form is public:
// only the comparison of the digest itself needs to be constant-time.
std::optional<Digest> ParseHeader(std::string_view header) {
  if (header.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view hex = header.substr(kPrefix.size());
  Digest out{};
  if (hex.size() != out.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    int high = HexDigitValue(hex[2 * i]);
    int low = HexDigitValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return out;
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  auto digest = HmacSha256(key, message);
  if (!digest) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : *digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

std::string GitHubSignature(std::string_view secret, std::string_view body) {
  std::string hex = HmacSha256Hex(secret, body);
  return hex.empty() ? std::string() : std::string(kPrefix) + hex;
}

bool VerifyGitHubSignature(std::string_view secret, std::string_view body, std::string_view header) {
  if (secret.empty()) return false;
  auto claimed = ParseHeader(header);
  if (!claimed) return false;
  auto expected = HmacSha256(secret, body);
  if (!expected) return false;
  return CRYPTO_memcmp(claimed->data(), expected->data(), expected->size()) == 0;
}

}  // namespace kiln

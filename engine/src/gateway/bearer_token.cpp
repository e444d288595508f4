#include "gateway/bearer_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace kiln {

namespace {

std::array<unsigned char, 32> Sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &length, EVP_sha256(), nullptr);
  return out;
}

}  // namespace

bool BearerTokenMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty() || authorization.substr(0, kScheme.size()) != kScheme) return false;
  auto given = Sha256(authorization.substr(kScheme.size()));
  auto expected = Sha256(token);
  return CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

}  // namespace kiln

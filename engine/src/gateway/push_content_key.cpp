#include "gateway/push_content_key.hpp"

#include <openssl/evp.h>

#include <array>

#include <nlohmann/json.hpp>

namespace kiln {

std::string PushContentKey(std::string_view repository, std::string_view ref, std::string_view before,
                           std::string_view after) {
  const std::string content = nlohmann::json::array({repository, ref, before, after}).dump();
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  EVP_Digest(content.data(), content.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key = "push.";
  for (unsigned int i = 0; i < length; ++i) {
    key += kHex[digest[i] >> 4];
    key += kHex[digest[i] & 15];
  }
  return key;
}

}  // namespace kiln

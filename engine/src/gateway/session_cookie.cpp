#include "gateway/session_cookie.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <cstdint>

namespace kiln {

namespace {

std::string SessionMac(std::string_view token, std::string_view expiry) {
  const std::string message = "kiln-session:" + std::string(expiry);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), token.data(), static_cast<int>(token.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kDigits[mac[i] >> 4];
    hex += kDigits[mac[i] & 0xF];
  }
  return hex;
}

std::int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string CookieAttributes(bool secure) {
  return std::string("; Path=/; HttpOnly; SameSite=Strict") + (secure ? "; Secure" : "");
}

}  // namespace

std::string MakeSessionValue(std::string_view token, std::chrono::system_clock::time_point now,
                             std::chrono::seconds lifetime) {
  const std::string expiry = std::to_string(UnixSeconds(now + lifetime));
  return expiry + "." + SessionMac(token, expiry);
}

bool SessionValueValid(std::string_view value, std::string_view token, std::chrono::system_clock::time_point now) {
  if (token.empty()) return false;
  const auto dot = value.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view expiry = value.substr(0, dot);
  std::int64_t expires = 0;
  auto [end, ec] = std::from_chars(expiry.data(), expiry.data() + expiry.size(), expires);
  if (expiry.empty() || ec != std::errc() || end != expiry.data() + expiry.size()) return false;
  const std::string expected = SessionMac(token, expiry);
  const std::string_view given = value.substr(dot + 1);
  if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0) return false;
  return UnixSeconds(now) < expires;
}

std::string CookieValue(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const auto semicolon = cookie_header.find(';');
    std::string_view pair = cookie_header.substr(0, semicolon);
    cookie_header = semicolon == std::string_view::npos ? std::string_view() : cookie_header.substr(semicolon + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == name) return std::string(pair.substr(equals + 1));
  }
  return "";
}

std::string SessionSetCookie(const std::string& value, bool secure) {
  return std::string(kSessionCookieName) + "=" + value + CookieAttributes(secure) +
         "; Max-Age=" + std::to_string(kSessionLifetime.count());
}

std::string SessionClearCookie(bool secure) {
  return std::string(kSessionCookieName) + "=" + CookieAttributes(secure) + "; Max-Age=0";
}

}  // namespace kiln

// The build page's login: the API token, given once to POST /login, becomes a cookie that
// stands for it until it expires, so the browser's EventSource (which cannot send an
// Authorization header) and the page's requests are authenticated without the page keeping
// the token anywhere a script can read it.
//
// The cookie holds no secret: "<expiry as Unix seconds>.<HMAC-SHA256(token, expiry) in
// hex>". Changing gateway.api_token ends every session; a cookie cannot be stretched past its
// expiry without the token. It is HttpOnly (no script reads it) and SameSite=Strict (no other
// site's page sends it); the routes that change something also want a header only a script
// of the same origin can send (gateway/page_auth).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace kiln {

inline constexpr std::string_view kSessionCookieName = "kiln_session";
inline constexpr std::chrono::seconds kSessionLifetime = std::chrono::hours(12);

/// The cookie's value for a session of `token` that ends at now + lifetime.
std::string MakeSessionValue(std::string_view token, std::chrono::system_clock::time_point now,
                             std::chrono::seconds lifetime = kSessionLifetime);
/// True when `value` was made by MakeSessionValue for `token` and has not expired. An empty
/// token (none configured) matches nothing.
bool SessionValueValid(std::string_view value, std::string_view token, std::chrono::system_clock::time_point now);

/// The value of cookie `name` in a Cookie request header ("a=1; b=2"), "" when absent.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

/// A Set-Cookie header value for the session (`secure`: the page is served over HTTPS).
std::string SessionSetCookie(const std::string& value, bool secure);
/// A Set-Cookie header value that ends the session in the browser.
std::string SessionClearCookie(bool secure);

}  // namespace kiln

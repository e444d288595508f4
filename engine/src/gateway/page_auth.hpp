// Who may use the gateway's API and page: a caller with `Authorization: Bearer <token>` (kiln
// CLI, scripts) or the browser of someone who logged in on the page (the session cookie,
// gateway/session_cookie). A browser sends the cookie with requests that another site's
// page makes it send, so a request that changes something and is authenticated by the cookie
// alone must also carry the header `X-Kiln-Csrf: 1` (a cross-site form cannot set a header,
// and a cross-site script that tries is stopped by CORS, which the gateway never allows) and,
// when the browser says where it comes from (Origin), come from the gateway's own origin.
// SameSite=Strict already keeps the cookie off cross-site requests; these checks hold in a
// browser that ignores it.
#pragma once

#include <optional>
#include <string>

#include "http/http_message.hpp"

namespace kiln {

class PageAuth {
 public:
  explicit PageAuth(std::string api_token) : token_(std::move(api_token)) {}

  /// nullopt when the request may go on; otherwise the answer: 401 (no or a wrong
  /// token, an expired session) or 403 (a session request that changes something without
  /// the header, or from another origin).
  std::optional<HttpResponse> Refusal(const HttpRequest& req) const;

  /// POST /login: form-encoded `token=...` (or JSON {"token"}), with the header; 204 and the
  /// session cookie when it is the API token, 401 when not, 400/403 for a malformed or
  /// cross-site request.
  HttpResponse Login(const HttpRequest& req) const;
  /// POST /logout: 204 and a cookie that ends the session (with the header).
  HttpResponse Logout(const HttpRequest& req) const;

 private:
  bool HasSession(const HttpRequest& req) const;
  std::string token_;
};

/// The checks a cookie-authenticated request that changes something must pass; the reason
/// it fails, or nullopt.
std::optional<std::string> CrossSiteRefusal(const HttpRequest& req);

}  // namespace kiln

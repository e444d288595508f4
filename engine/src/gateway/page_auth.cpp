#include "gateway/page_auth.hpp"

#include <chrono>

#include "gateway/bearer_token.hpp"
#include "gateway/session_cookie.hpp"

namespace kiln {

namespace {

constexpr std::string_view kCsrfHeader = "X-Kiln-Csrf";

bool ServedOverHttps(const HttpRequest& req) { return req.header("X-Forwarded-Proto") == "https"; }

bool ChangesSomething(const HttpRequest& req) { return req.method != "GET" && req.method != "HEAD"; }

/// The token a login form or a JSON body gives; nullopt when the body is neither.
std::optional<std::string> GivenToken(const HttpRequest& req) {
  const std::string content_type = req.header("Content-Type");
  if (content_type.rfind("application/json", 0) == 0) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_object() && body.contains("token") && body["token"].is_string()) return body["token"].get<std::string>();
    return std::nullopt;
  }
  if (content_type.rfind("application/x-www-form-urlencoded", 0) != 0) return std::nullopt;
  std::string_view rest = req.body;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view field = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (field.rfind("token=", 0) != 0) continue;
    std::string token;
    if (!PercentDecode(field.substr(6), token)) return std::nullopt;
    return token;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CrossSiteRefusal(const HttpRequest& req) {
  if (req.header(kCsrfHeader) != "1") {
    return "a request of the page must carry the header 'X-Kiln-Csrf: 1' (refused as possibly cross-site)";
  }
  const std::string origin = req.header("Origin");
  const std::string host = req.header("Host");
  if (!origin.empty() && origin != "http://" + host && origin != "https://" + host) {
    return "Origin '" + origin + "' is not this gateway's (refused as cross-site)";
  }
  return std::nullopt;
}

bool PageAuth::HasSession(const HttpRequest& req) const {
  const std::string value = CookieValue(req.header("Cookie"), kSessionCookieName);
  return !value.empty() && SessionValueValid(value, token_, std::chrono::system_clock::now());
}

std::optional<HttpResponse> PageAuth::Refusal(const HttpRequest& req) const {
  if (BearerTokenMatches(req.header("Authorization"), token_)) return std::nullopt;
  if (HasSession(req)) {
    if (!ChangesSomething(req)) return std::nullopt;
    if (auto refused = CrossSiteRefusal(req)) return JsonError(403, *refused);
    return std::nullopt;
  }
  HttpResponse res = JsonError(401, token_.empty() ? "no API token is configured (gateway.api_token)"
                                                   : "Authorization: expected 'Bearer <gateway.api_token>' or "
                                                     "a session of the page (POST /login)");
  res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}

HttpResponse PageAuth::Login(const HttpRequest& req) const {
  if (auto refused = CrossSiteRefusal(req)) return JsonError(403, *refused);
  if (token_.empty()) return JsonError(401, "no API token is configured (gateway.api_token)");
  auto given = GivenToken(req);
  if (!given) {
    return JsonError(400, "expected a form field 'token' (application/x-www-form-urlencoded) or JSON {\"token\"}");
  }
  if (!BearerTokenMatches("Bearer " + *given, token_)) return JsonError(401, "that is not the gateway's API token");
  HttpResponse res;
  res.status = 204;
  res.headers.emplace_back(
      "Set-Cookie", SessionSetCookie(MakeSessionValue(token_, std::chrono::system_clock::now()), ServedOverHttps(req)));
  return res;
}

HttpResponse PageAuth::Logout(const HttpRequest& req) const {
  if (auto refused = CrossSiteRefusal(req)) return JsonError(403, *refused);
  HttpResponse res;
  res.status = 204;
  res.headers.emplace_back("Set-Cookie", SessionClearCookie(ServedOverHttps(req)));
  return res;
}

}  // namespace kiln

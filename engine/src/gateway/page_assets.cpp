#include "gateway/page_assets.hpp"

#include <string>

namespace kiln {

namespace {

std::string_view ContentTypeOf(std::string_view name) {
  auto ends_with = [name](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".png")) return "image/png";
  if (ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

}  // namespace

HttpResponse PageAssetResponse(std::string_view name) {
  for (const PageAsset& asset : PageAssets()) {
    if (asset.name != name) continue;
    HttpResponse res;
    res.content_type = std::string(ContentTypeOf(name));
    res.body = std::string(asset.body);
    res.headers = {{"Content-Security-Policy", kContentSecurityPolicy},
                   {"X-Content-Type-Options", "nosniff"},
                   {"X-Frame-Options", "DENY"},
                   {"Referrer-Policy", "no-referrer"},
                   // The binary is the version: a browser asks again rather than run an old page.
                   {"Cache-Control", "no-cache"}};
    return res;
  }
  return JsonError(404, "no page asset '" + std::string(name) + "'");
}

}  // namespace kiln

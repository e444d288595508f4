// The build page's files (engine/src/gateway/page/), compiled into the binary at build time
// (cmake/EmbedPageAssets.cmake): the gateway serves them with no file system access, no CDN
// and no build step. GET / answers index.html; GET /assets/<name> any of them.
//
// Every answer carries a Content-Security-Policy that allows only the gateway's own scripts,
// styles and connections (no inline script, no other origin, no framing): a log line or a
// branch name that reaches the page as HTML still cannot run a script.
#pragma once

#include <string_view>
#include <vector>

#include "http/http_message.hpp"

namespace kiln {

struct PageAsset {
  std::string_view name;  // the file name, "app.js"
  std::string_view body;
};

/// Every embedded file (defined in the generated source).
const std::vector<PageAsset>& PageAssets();

/// 200 with the file named `name` and the page's security headers; 404 (JSON) when there is
/// none.
HttpResponse PageAssetResponse(std::string_view name);

}  // namespace kiln

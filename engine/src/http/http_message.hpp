// The request a route handler sees and the answer it gives: plain structs, so handlers
// (gateway/, metrics/) need no Boost.Beast header.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln {

struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string path;                                          // the target before '?', not decoded
  std::string query;                                         // after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;                                          // the raw bytes (inflated when allowed)
  std::string remote_address;
  std::vector<std::string> params;  // the path segments a route's "{}" matched, in order

  /// The first header of that name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
  /// The query parameter's value (percent-decoded), "" when absent.
  std::string query_param(std::string_view name) const;
  bool has_query_param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (WWW-Authenticate, ...)
};

/// `body` as JSON (invalid UTF-8 replaced), with a trailing newline.
HttpResponse JsonResponse(int status, const nlohmann::json& body);
/// {"error": message}: every refusal of the server and its handlers has this shape.
HttpResponse JsonError(int status, const std::string& message);

/// Decodes %XX and '+' (application/x-www-form-urlencoded) into `out`; false on a malformed
/// escape.
bool PercentDecode(std::string_view in, std::string& out);

}  // namespace kiln

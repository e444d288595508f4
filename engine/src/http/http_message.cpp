#include "http/http_message.hpp"

#include <strings.h>

#include "util/hex_digit.hpp"

namespace kiln {

namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Calls visit(name, value) for each '&'-separated pair of `query`, names not decoded; stops
// when visit returns true.
template <typename Visit>
void ForEachQueryPair(std::string_view query, Visit visit) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (visit(name, value)) return;
  }
}

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoringCase(key, name)) return value;
  }
  return {};
}

std::string HttpRequest::query_param(std::string_view name) const {
  std::string out;
  ForEachQueryPair(query, [&](std::string_view key, std::string_view value) {
    if (key != name) return false;
    if (!PercentDecode(value, out)) out.clear();
    return true;
  });
  return out;
}

bool HttpRequest::has_query_param(std::string_view name) const {
  bool found = false;
  ForEachQueryPair(query, [&](std::string_view key, std::string_view) { return found = key == name; });
  return found;
}

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse res;
  res.status = status;
  res.content_type = "application/json";
  res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return res;
}

HttpResponse JsonError(int status, const std::string& message) { return JsonResponse(status, {{"error", message}}); }

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      int hi = i + 1 < in.size() ? HexDigitValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexDigitValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

}  // namespace kiln

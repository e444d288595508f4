#include "http/http_router.hpp"

namespace kiln {

namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
             std::vector<std::string>* params) {
  const bool rest = !pattern.empty() && pattern.back() == "{*}";
  if (rest ? path.size() < pattern.size() : pattern.size() != path.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (rest && i + 1 == pattern.size()) {
      std::string joined = path[i];
      for (std::size_t j = i + 1; j < path.size(); ++j) joined += "/" + path[j];
      if (path[i].empty() || path.back().empty()) return false;
      found.push_back(std::move(joined));
    } else if (pattern[i] == "{}") {
      if (path[i].empty()) return false;
      found.push_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  if (params != nullptr) *params = std::move(found);
  return true;
}

}  // namespace

void HttpRouter::Add(std::string method, const std::string& pattern, Handler handler, StreamHandler stream_handler) {
  routes_.push_back(Route{std::move(method), Split(pattern), std::move(handler), std::move(stream_handler)});
}

HttpRouter::Match HttpRouter::Find(HttpRequest& request) const {
  Match match;
  auto path = Split(request.path);
  bool other_method = false;
  for (const Route& route : routes_) {
    if (!Matches(route.segments, path, nullptr)) continue;
    // HEAD is answered as GET without the body (the session drops it).
    bool method_ok = route.method == request.method || (request.method == "HEAD" && route.method == "GET");
    if (!method_ok) {
      other_method = true;
      continue;
    }
    Matches(route.segments, path, &request.params);
    if (route.stream_handler) match.stream_handler = &route.stream_handler;
    else match.handler = &route.handler;
    return match;
  }
  match.refusal = other_method ? JsonError(405, "method " + request.method + " is not allowed on " + request.path)
                               : JsonError(404, "no such path: " + request.path);
  return match;
}

}  // namespace kiln

// Which handler answers a request: a method and a path pattern per route, where a "{}"
// segment matches any one non-empty segment and a last "{*}" the rest of the path, one or
// more segments joined by '/' (each given to the handler in HttpRequest::params).
// No match: 404; a path that matches under another method only: 405 (both JSON).
//
// A handler either answers (HttpResponse) or, for a stream route, takes the connection over
// as a Server-Sent Events stream (EventStream) that it feeds from any thread until the
// client goes away; no thread waits on an open stream.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/event_stream.hpp"
#include "http/http_message.hpp"

namespace kiln {

class HttpRouter {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  /// Returns an answer to send instead of a stream (a refusal), or nullopt after it took
  /// `stream` (kept by whatever feeds it).
  using StreamHandler =
      std::function<std::optional<HttpResponse>(const HttpRequest&, const std::shared_ptr<EventStream>& stream)>;

  void Get(const std::string& pattern, Handler handler) { Add("GET", pattern, std::move(handler), nullptr); }
  void Post(const std::string& pattern, Handler handler) { Add("POST", pattern, std::move(handler), nullptr); }
  void Stream(const std::string& pattern, StreamHandler handler) { Add("GET", pattern, nullptr, std::move(handler)); }

  struct Match {
    const Handler* handler = nullptr;              // set for a plain route
    const StreamHandler* stream_handler = nullptr;  // set for a stream route
    HttpResponse refusal;                          // 404 / 405 when neither is set
  };
  /// Fills request.params from the matched pattern.
  Match Find(HttpRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // the pattern split at '/'
    Handler handler;
    StreamHandler stream_handler;
  };
  void Add(std::string method, const std::string& pattern, Handler handler, StreamHandler stream_handler);

  std::vector<Route> routes_;
};

}  // namespace kiln

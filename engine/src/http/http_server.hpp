// kiln's HTTP/1.1 server (Boost.Beast on Boost.Asio): asynchronous I/O on a few threads, so
// a slow or idle client holds a socket and a timer, not a thread; handlers run on a separate
// pool, so a handler waiting on NATS does not stall the I/O. The limits (HttpLimits) are
// enforced before the body is read; every refusal has a short JSON body.
// Used by `kiln gateway` (gateway/gateway_server) and the worker's metrics listener.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "http/http_limits.hpp"
#include "http/http_router.hpp"
#include "util/result.hpp"

namespace kiln {

struct HttpServerState;

class HttpServer {
 public:
  /// Called after each answer the server sent (handled or refused by the server itself),
  /// on a server thread: metrics and the debug log.
  using Observer = std::function<void(const HttpRequest& request, int status)>;

  /// `what` names the server and its config keys in errors ("gateway (gateway.address,
  /// gateway.port)").
  HttpServer(HttpLimits limits, HttpRouter router, std::string what, Observer observer = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Listens on address:port; the error names them and `what`.
  Result<bool> Bind(const std::string& address, int port);
  /// The bound port (useful after Bind with port 0).
  int port() const;
  /// Serves until Stop() (from another thread); the calling thread is one of the I/O threads.
  void Serve();
  void Stop();

 private:
  std::unique_ptr<HttpServerState> state_;
};

}  // namespace kiln

// What an HttpServer's sessions share (internal to http/).
#pragma once

#include <atomic>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include "http/connection_table.hpp"
#include "http/http_server.hpp"

namespace kiln {

struct HttpServerState {
  HttpServerState(HttpLimits l, HttpRouter r, std::string w, HttpServer::Observer o)
      : limits(l),
        router(std::move(r)),
        what(std::move(w)),
        observer(std::move(o)),
        connections(l.max_connections, l.max_connections_per_address),
        acceptor(io) {}

  static constexpr int kIoThreads = 2;
  static constexpr int kHandlerThreads = 8;

  HttpLimits limits;
  HttpRouter router;
  std::string what;
  HttpServer::Observer observer;
  // In this order: destroying io destroys the sessions it still holds, which leave the
  // connection table.
  ConnectionTable connections;
  std::atomic<bool> stopping{false};
  boost::asio::thread_pool handlers{kHandlerThreads};
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor;
};

}  // namespace kiln

#include "http/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <thread>
#include <vector>

#include "http/http_server_state.hpp"
#include "http/http_session.hpp"

namespace kiln {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

void Accept(HttpServerState* state) {
  state->acceptor.async_accept(asio::make_strand(state->io), [state](boost::system::error_code ec, tcp::socket socket) {
    if (state->stopping) return;
    if (ec) {
      // Out of descriptors and the like: log, and try again shortly rather than spin.
      spdlog::warn("http: {}: accept: {}", state->what, ec.message());
      auto timer = std::make_shared<asio::steady_timer>(state->io, std::chrono::milliseconds(100));
      timer->async_wait([state, timer](boost::system::error_code) { Accept(state); });
      return;
    }
    boost::system::error_code addr_ec;
    // Answers and events are written whole; waiting for more to send only adds latency.
    socket.set_option(tcp::no_delay(true), addr_ec);
    auto endpoint = socket.remote_endpoint(addr_ec);
    std::string remote = addr_ec ? std::string("?") : endpoint.address().to_string();
    auto admit = state->connections.TryAdd(remote);
    auto session = std::make_shared<HttpSession>(*state, std::move(socket), remote, admit == ConnectionTable::Admit::yes);
    switch (admit) {
      case ConnectionTable::Admit::yes: session->Start(); break;
      case ConnectionTable::Admit::server_full:
        session->Refuse(JsonError(503, "too many open connections (max_connections = " +
                                           std::to_string(state->limits.max_connections) + ")"));
        break;
      case ConnectionTable::Admit::address_full:
        session->Refuse(JsonError(429, "too many open connections from " + remote + " (max_connections_per_address = " +
                                           std::to_string(state->limits.max_connections_per_address) + ")"));
        break;
    }
    Accept(state);
  });
}

}  // namespace

HttpServer::HttpServer(HttpLimits limits, HttpRouter router, std::string what, Observer observer)
    : state_(std::make_unique<HttpServerState>(limits, std::move(router), std::move(what), std::move(observer))) {}

HttpServer::~HttpServer() {
  Stop();
  // Handlers still running post their answers into a stopped io_context, which drops them.
  state_->handlers.join();
}

Result<bool> HttpServer::Bind(const std::string& address, int port) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return MakeError(state_->what + ": '" + address + "' is not an IP address");
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  tcp::acceptor& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return MakeError(state_->what + ": cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  Accept(state_.get());
  return true;
}

int HttpServer::port() const {
  boost::system::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpServer::Serve() {
  std::vector<std::thread> threads;
  for (int i = 1; i < HttpServerState::kIoThreads; ++i) threads.emplace_back([this] { state_->io.run(); });
  state_->io.run();
  for (auto& thread : threads) thread.join();
}

void HttpServer::Stop() {
  if (state_->stopping.exchange(true)) return;
  state_->io.stop();  // the acceptor closes when the state is destroyed
}

}  // namespace kiln

// One accepted connection of an HttpServer (internal to http/): reads requests one at a
// time under the deadlines of HttpLimits, refuses what breaks a limit before reading the
// body, runs the route's handler on the handler pool and writes its answer; keeps the
// connection alive up to idle_timeout; or becomes a Server-Sent Events stream.
//
// Everything below runs on the connection's strand, so the session needs no lock; the
// deadline timer cancels the socket's pending read when it fires (a generation number
// makes a timer that fired after its read completed do nothing).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/http_server_state.hpp"

namespace kiln {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  /// `admitted`: counted in the connection table (removed again when the session ends).
  HttpSession(HttpServerState& server, boost::asio::ip::tcp::socket socket, std::string remote, bool admitted);
  ~HttpSession();

  void Start();
  /// Answers `response` without reading a request (a connection over a cap) and closes.
  void Refuse(HttpResponse response);

  auto executor() { return stream_.get_executor(); }

  // For the session's EventStream (called on the strand).
  void QueueStreamBytes(std::string bytes);
  void CloseStream();
  void SetStreamCloseCallback(std::function<void()> callback);

 private:
  using Clock = std::chrono::steady_clock;
  enum class Waiting { nothing, next_request, header, body, linger };

  void WaitForNextRequest();
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void ReadBody();
  void OnBody(boost::beast::error_code ec);
  void Dispatch();
  void StartStream();
  void WriteStreamQueue();
  void WatchStreamClient();
  /// Writes the answer; `close` ends the connection after it (else the next request is read).
  void Answer(const HttpResponse& response, bool close);
  void Linger();
  void DrainUntilClosed();
  void Close();

  void ArmDeadline(Clock::time_point at, Waiting what);
  void Disarm();
  HttpRequest RequestSoFar() const;  // method and path of the request being read, for the observer

  HttpServerState& server_;
  boost::beast::tcp_stream stream_;
  boost::asio::steady_timer deadline_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::string remote_;
  bool admitted_;
  bool closed_ = false;
  bool unread_body_ = false;  // a request was refused before its body was read
  std::uint64_t deadline_generation_ = 0;
  Waiting timed_out_ = Waiting::nothing;
  Clock::time_point request_deadline_;
  HttpRequest current_;  // the request being answered

  // Stream mode.
  bool streaming_ = false;
  bool stream_writing_ = false;
  bool stream_close_after_queue_ = false;
  std::size_t stream_queued_bytes_ = 0;
  std::deque<std::string> stream_queue_;
  std::function<void()> on_stream_close_;
  char drain_buffer_[16 * 1024];
};

}  // namespace kiln

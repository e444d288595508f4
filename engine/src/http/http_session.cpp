#include "http/http_session.hpp"

#include <spdlog/spdlog.h>

#include <limits>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "config/duration.hpp"
#include "http/body_inflate.hpp"
#include "http/session_event_stream.hpp"

namespace kiln {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;

namespace {

// How long a connection refused before its body was read is drained, so the client reads
// the answer instead of a reset (closing with unread data makes the kernel send RST).
constexpr auto kLinger = std::chrono::seconds(3);

bool IsNetworkEnd(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::broken_pipe || ec == beast::error::timeout;
}

std::string Seconds(std::chrono::milliseconds d) { return FormatDuration(d); }

}  // namespace

HttpSession::HttpSession(HttpServerState& server, asio::ip::tcp::socket socket, std::string remote, bool admitted)
    : server_(server),
      stream_(std::move(socket)),
      deadline_(stream_.get_executor()),
      remote_(std::move(remote)),
      admitted_(admitted) {}

HttpSession::~HttpSession() {
  if (admitted_) server_.connections.Remove(remote_);
  if (on_stream_close_) on_stream_close_();
}

void HttpSession::Start() {
  // A new connection's first request has header_timeout from the accept: a client that
  // connects and sends nothing is a slow client like any other.
  ReadHeader();
}

void HttpSession::Refuse(HttpResponse response) {
  unread_body_ = true;
  current_ = HttpRequest();
  current_.remote_address = remote_;
  Answer(response, true);
}

// --- reading a request ---------------------------------------------------------------

void HttpSession::WaitForNextRequest() {
  if (buffer_.size() > 0) return ReadHeader();  // pipelined: already here
  ArmDeadline(Clock::now() + server_.limits.idle_timeout, Waiting::next_request);
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
    self->Disarm();
    if (ec) return self->Close();  // idle timeout or the client left: the usual end of keep-alive
    self->buffer_.commit(n);
    self->ReadHeader();
  });
}

void HttpSession::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_.limits.max_header_bytes));
  // Content-Length is judged in OnHeader, with a JSON answer. Not boost::none: Beast 1.74
  // compares the length with the optional itself, and anything is more than none.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  auto now = Clock::now();
  request_deadline_ = now + server_.limits.request_timeout;
  ArmDeadline(std::min(now + server_.limits.header_timeout, request_deadline_), Waiting::header);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
}

void HttpSession::OnHeader(beast::error_code ec) {
  Waiting expired = timed_out_;
  Disarm();
  current_ = RequestSoFar();
  if (expired == Waiting::header) {
    unread_body_ = true;
    return Answer(JsonError(408, "request headers not complete within " + Seconds(server_.limits.header_timeout) +
                                     " (header_timeout)"),
                  true);
  }
  if (ec == http::error::header_limit) {
    unread_body_ = true;
    return Answer(JsonError(431, "request headers over " + std::to_string(server_.limits.max_header_bytes) + " bytes"),
                  true);
  }
  if (ec && IsNetworkEnd(ec)) return Close();
  if (ec) {
    unread_body_ = true;
    return Answer(JsonError(400, "malformed HTTP request: " + ec.message()), true);
  }
  const auto& header = parser_->get();
  std::string encoding(header[http::field::content_encoding]);
  if (!encoding.empty() && encoding != "identity") {
    unread_body_ = true;
    if (!server_.limits.allow_compressed_bodies) {
      return Answer(JsonError(415, "Content-Encoding " + encoding +
                                       ": compressed request bodies are not accepted (allow_compressed_bodies)"),
                    true);
    }
    if (encoding != "gzip" && encoding != "deflate") {
      return Answer(JsonError(415, "Content-Encoding " + encoding + ": only gzip and deflate are accepted"), true);
    }
    unread_body_ = false;
  }
  if (auto length = parser_->content_length(); length && *length > server_.limits.max_body) {
    unread_body_ = true;
    return Answer(JsonError(413, "request body of " + std::to_string(*length) + " bytes is over the limit of " +
                                     std::to_string(server_.limits.max_body) + " (max_body)"),
                  true);
  }
  if (beast::iequals(header[http::field::expect], "100-continue")) {
    // curl and others wait for this before sending a larger body.
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(server_.limits.write_timeout);
    return asio::async_write(stream_, asio::buffer(kContinue), [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
      self->stream_.expires_never();
      if (write_ec) return self->Close();
      self->ReadBody();
    });
  }
  ReadBody();
}

void HttpSession::ReadBody() {
  parser_->body_limit(server_.limits.max_body);  // counts every transfer encoding, chunked included
  ArmDeadline(request_deadline_, Waiting::body);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnBody(ec); });
}

void HttpSession::OnBody(beast::error_code ec) {
  Waiting expired = timed_out_;
  Disarm();
  if (expired == Waiting::body) {
    unread_body_ = true;
    return Answer(JsonError(408, "request not complete within " + Seconds(server_.limits.request_timeout) +
                                     " (request_timeout)"),
                  true);
  }
  if (ec == http::error::body_limit) {
    unread_body_ = true;
    return Answer(JsonError(413, "request body over the limit of " + std::to_string(server_.limits.max_body) +
                                     " bytes (max_body)"),
                  true);
  }
  if (ec && IsNetworkEnd(ec)) return Close();
  if (ec) {
    unread_body_ = true;
    return Answer(JsonError(400, "malformed HTTP request body: " + ec.message()), true);
  }
  Dispatch();
}

// --- answering -------------------------------------------------------------------------

void HttpSession::Dispatch() {
  auto message = parser_->release();
  current_.body = std::move(message.body());
  for (const auto& field : message) current_.headers.emplace_back(field.name_string(), field.value());
  std::string encoding(message[http::field::content_encoding]);
  bool keep_alive = message.keep_alive();
  if (!encoding.empty() && encoding != "identity") {
    std::string inflated;
    switch (InflateBody(current_.body, encoding, server_.limits.max_body, inflated)) {
      case InflateResult::ok: current_.body = std::move(inflated); break;
      case InflateResult::too_large:
        return Answer(JsonError(413, "request body inflated over the limit of " +
                                         std::to_string(server_.limits.max_body) + " bytes (max_body)"),
                      true);
      case InflateResult::malformed:
        return Answer(JsonError(400, "Content-Encoding " + encoding + ": the body does not inflate"), true);
    }
  }
  HttpRouter::Match match = server_.router.Find(current_);
  if (match.handler == nullptr && match.stream_handler == nullptr) return Answer(match.refusal, !keep_alive);

  auto self = shared_from_this();
  if (match.handler != nullptr) {
    // On the handler pool: a handler may wait on NATS; the I/O threads must not.
    asio::post(server_.handlers, [self, handler = match.handler, keep_alive] {
      HttpResponse response;
      try {
        response = (*handler)(self->current_);
      } catch (const std::exception& e) {
        spdlog::error("http: {} {}: {}", self->current_.method, self->current_.path, e.what());
        response = JsonError(500, "internal error");
      }
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), keep_alive] { self->Answer(response, !keep_alive); });
    });
    return;
  }
  auto stream = std::make_shared<SessionEventStream>(self);
  asio::post(server_.handlers, [self, handler = match.stream_handler, stream] {
    std::optional<HttpResponse> refusal;
    try {
      refusal = (*handler)(self->current_, stream);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {}: {}", self->current_.method, self->current_.path, e.what());
      refusal = JsonError(500, "internal error");
    }
    asio::post(self->stream_.get_executor(), [self, refusal = std::move(refusal)] {
      if (refusal) return self->Answer(*refusal, true);
      self->StartStream();
    });
  });
}

void HttpSession::Answer(const HttpResponse& response, bool close) {
  if (closed_) return;
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
  res->set(http::field::server, "kiln");
  res->set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) res->set(name, value);
  res->body() = response.body;
  res->keep_alive(!close);
  res->prepare_payload();
  if (server_.observer) server_.observer(current_, response.status);
  stream_.expires_after(server_.limits.write_timeout);
  http::async_write(stream_, *res, [self = shared_from_this(), res, close](beast::error_code ec, std::size_t) {
    self->stream_.expires_never();
    if (ec) return self->Close();
    if (!close) return self->WaitForNextRequest();
    if (self->unread_body_) return self->Linger();
    self->Close();
  });
}

void HttpSession::Linger() {
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  ArmDeadline(Clock::now() + kLinger, Waiting::linger);
  DrainUntilClosed();
}

void HttpSession::DrainUntilClosed() {
  stream_.socket().async_read_some(asio::buffer(drain_buffer_),
                                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (ec) {
                                       self->Disarm();
                                       return self->Close();
                                     }
                                     self->DrainUntilClosed();
                                   });
}

void HttpSession::Close() {
  if (closed_) return;
  closed_ = true;
  Disarm();
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  if (auto callback = std::move(on_stream_close_)) {
    on_stream_close_ = nullptr;
    callback();
  }
}

// --- Server-Sent Events ------------------------------------------------------------------

void HttpSession::StartStream() {
  if (closed_) return;
  streaming_ = true;
  if (server_.observer) server_.observer(current_, 200);
  // No Content-Length and no chunking: the body is the events until either side closes.
  stream_queue_.push_front(
      "HTTP/1.1 200 OK\r\nServer: kiln\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
      // A client dropped for being slow (kMaxQueuedBytes) resumes from its Last-Event-ID;
      // browsers would wait ~3 s first, and a large log's replay may drop a page 10 times.
      "retry: 250\n\n");
  stream_queued_bytes_ += stream_queue_.front().size();
  WriteStreamQueue();
  WatchStreamClient();
}

void HttpSession::QueueStreamBytes(std::string bytes) {
  if (closed_) return;
  stream_queued_bytes_ += bytes.size();
  stream_queue_.push_back(std::move(bytes));
  if (stream_queued_bytes_ > EventStream::kMaxQueuedBytes) {
    spdlog::warn("http: {} {} from {}: the client does not keep up with its event stream; dropped", current_.method,
                 current_.path, remote_);
    return Close();
  }
  if (streaming_) WriteStreamQueue();
}

void HttpSession::WriteStreamQueue() {
  if (stream_writing_ || closed_) return;
  if (stream_queue_.empty()) {
    if (stream_close_after_queue_) Close();
    return;
  }
  stream_writing_ = true;
  // Everything queued in one write (up to a bound): a log's replay queues many small
  // events, and a write each drains them slower than NATS delivers them.
  constexpr std::size_t kMaxEventsPerWrite = 256;
  std::vector<asio::const_buffer> buffers;
  for (const auto& event : stream_queue_) {
    if (buffers.size() == kMaxEventsPerWrite) break;
    buffers.emplace_back(asio::buffer(event));
  }
  stream_.expires_after(server_.limits.write_timeout);
  asio::async_write(stream_, buffers,
                    [self = shared_from_this(), count = buffers.size()](beast::error_code ec, std::size_t n) {
                      self->stream_.expires_never();
                      self->stream_writing_ = false;
                      if (ec) return self->Close();
                      self->stream_queued_bytes_ -= n;
                      self->stream_queue_.erase(self->stream_queue_.begin(),
                                                self->stream_queue_.begin() + static_cast<std::ptrdiff_t>(count));
                      self->WriteStreamQueue();
                    });
}

void HttpSession::WatchStreamClient() {
  // A stream's client sends nothing more; a read completes only when it goes away.
  stream_.socket().async_read_some(asio::buffer(drain_buffer_),
                                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (ec) return self->Close();
                                     self->WatchStreamClient();
                                   });
}

void HttpSession::CloseStream() {
  stream_close_after_queue_ = true;
  // A handler may end its stream before it returned (nothing to follow): StartStream then
  // writes the headers, the queue and closes.
  if (streaming_ && !stream_writing_) WriteStreamQueue();
}

void HttpSession::SetStreamCloseCallback(std::function<void()> callback) {
  if (closed_) {
    if (callback) callback();
    return;
  }
  on_stream_close_ = std::move(callback);
}

// --- deadlines -----------------------------------------------------------------------

void HttpSession::ArmDeadline(Clock::time_point at, Waiting what) {
  std::uint64_t generation = ++deadline_generation_;
  timed_out_ = Waiting::nothing;
  deadline_.expires_at(at);
  deadline_.async_wait([self = shared_from_this(), generation, what](beast::error_code ec) {
    if (ec || generation != self->deadline_generation_) return;
    self->timed_out_ = what;
    beast::error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
}

void HttpSession::Disarm() {
  ++deadline_generation_;
  timed_out_ = Waiting::nothing;
  deadline_.cancel();
}

HttpRequest HttpSession::RequestSoFar() const {
  HttpRequest request;
  request.remote_address = remote_;
  if (parser_ && parser_->is_header_done()) {
    const auto& header = parser_->get();
    request.method = std::string(header.method_string());
    std::string target(header.target());
    auto q = target.find('?');
    request.path = target.substr(0, q);
    if (q != std::string::npos) request.query = target.substr(q + 1);
  }
  return request;
}

}  // namespace kiln

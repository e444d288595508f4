// A Server-Sent Events stream a route handler took over (HttpRouter::Stream). Fed from any
// thread (a NATS callback); the session writes on its own strand, so no thread waits on an
// open stream. A client too slow to take what is queued (more than kMaxQueuedBytes) is
// dropped rather than buffered without bound.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace kiln {

class EventStream {
 public:
  static constexpr std::size_t kMaxQueuedBytes = 1 << 20;

  virtual ~EventStream() = default;
  /// Queues one event ("id: ...\nevent: ...\ndata: ...\n\n"; an empty id or event is left
  /// out; a multi-line data is sent as several data lines). False once the stream ended.
  virtual bool Send(const std::string& id, const std::string& event, const std::string& data) = 0;
  /// Ends the stream from the server side (after what is queued is written).
  virtual void Close() = 0;
  /// Called once, on a server thread, when the stream ends either way; set it before Send.
  virtual void OnClose(std::function<void()> callback) = 0;
};

/// One event in the text/event-stream format.
std::string FormatServerSentEvent(const std::string& id, const std::string& event, const std::string& data);

}  // namespace kiln

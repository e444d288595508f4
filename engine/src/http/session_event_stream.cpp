#include "http/session_event_stream.hpp"

#include <boost/asio/post.hpp>

#include "http/http_session.hpp"

namespace kiln {

std::string FormatServerSentEvent(const std::string& id, const std::string& event, const std::string& data) {
  std::string out;
  out.reserve(data.size() + id.size() + event.size() + 32);
  if (!id.empty()) out += "id: " + id + "\n";
  if (!event.empty()) out += "event: " + event + "\n";
  std::size_t start = 0;
  while (true) {
    auto nl = data.find('\n', start);
    out += "data: " + data.substr(start, nl == std::string::npos ? std::string::npos : nl - start) + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  out += "\n";
  return out;
}

bool SessionEventStream::Send(const std::string& id, const std::string& event, const std::string& data) {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return false;
  }
  auto session = session_.lock();
  if (!session) return false;
  boost::asio::post(session->executor(),
                    [session, bytes = FormatServerSentEvent(id, event, data)]() mutable {
                      session->QueueStreamBytes(std::move(bytes));
                    });
  return true;
}

void SessionEventStream::Close() {
  if (auto session = session_.lock()) {
    boost::asio::post(session->executor(), [session] { session->CloseStream(); });
  }
}

void SessionEventStream::OnClose(std::function<void()> callback) {
  auto session = session_.lock();
  if (!session) {
    Ended();
    if (callback) callback();
    return;
  }
  boost::asio::post(session->executor(), [this_stream = shared_from_this(), session, callback = std::move(callback)]() mutable {
    session->SetStreamCloseCallback([this_stream, callback = std::move(callback)] {
      this_stream->Ended();
      if (callback) callback();
    });
  });
}

void SessionEventStream::Ended() {
  std::lock_guard lock(mutex_);
  ended_ = true;
}

}  // namespace kiln

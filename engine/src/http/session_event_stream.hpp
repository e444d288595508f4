// The EventStream of one HttpSession (internal to http/): Send and Close may come from any
// thread; they post to the session's strand, and do nothing once the session is gone.
#pragma once

#include <memory>
#include <mutex>

#include "http/event_stream.hpp"

namespace kiln {

class HttpSession;

class SessionEventStream : public EventStream, public std::enable_shared_from_this<SessionEventStream> {
 public:
  explicit SessionEventStream(const std::shared_ptr<HttpSession>& session) : session_(session) {}

  bool Send(const std::string& id, const std::string& event, const std::string& data) override;
  void Close() override;
  void OnClose(std::function<void()> callback) override;

 private:
  void Ended();

  std::weak_ptr<HttpSession> session_;
  std::mutex mutex_;
  bool ended_ = false;
};

}  // namespace kiln

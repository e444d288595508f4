// Follows one subject of a JetStream stream: the messages stored after a given sequence,
// then each new one, handed to a callback on cnats' delivery threads. For the gateway's
// Server-Sent Events, where a page open for an hour must not hold a thread: with
// NatsConnection::Delivery::shared_pool every follower of the process shares a few.
//
// An ordered consumer: the library re-creates it where it left off after a gap, so the
// callback sees the stream's order, never a message twice. The callback may still run
// once or twice after Stop() (a message already on its way); whatever it captures stays
// alive until cnats says the subscription is done.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "transport/nats_connection.hpp"
#include "util/result.hpp"

namespace kiln {

class StreamFollower {
 public:
  /// `pending`: how many messages of the subject the server still had to deliver after this
  /// one when it sent it (0: this was the last stored at that moment).
  using OnMessage = std::function<void(std::uint64_t stream_seq, std::uint64_t pending, std::string_view data)>;

  /// Subscribes to `subject` on `stream`, from the message after `after_seq` (nullopt: only
  /// what is stored from now on). An error names the subject and what NATS said.
  static Result<std::unique_ptr<StreamFollower>> Start(NatsConnection& conn, const std::string& stream,
                                                       const std::string& subject, std::optional<std::uint64_t> after_seq,
                                                       OnMessage on_message);
  ~StreamFollower();  // Stop()
  StreamFollower(const StreamFollower&) = delete;
  StreamFollower& operator=(const StreamFollower&) = delete;

  void Stop();

 private:
  struct Callback;
  StreamFollower() = default;
  static void OnNatsMessage(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  static void OnComplete(void* closure);

  natsSubscription* sub_ = nullptr;
};

/// The sequence of the last message stored for `subject` on `stream`; 0 when there is none.
Result<std::uint64_t> LastStoredSequence(NatsConnection& conn, const std::string& stream, const std::string& subject);

}  // namespace kiln

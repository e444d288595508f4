#include "transport/stream_follower.hpp"

namespace kiln {

// Owned by cnats from subscribe to its on-complete callback: outlives the StreamFollower
// when a message is still being delivered while it stops.
struct StreamFollower::Callback {
  OnMessage on_message;
};

Result<std::unique_ptr<StreamFollower>> StreamFollower::Start(NatsConnection& conn, const std::string& stream,
                                                              const std::string& subject,
                                                              std::optional<std::uint64_t> after_seq,
                                                              OnMessage on_message) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  if (!after_seq) {
    so.Config.DeliverPolicy = js_DeliverNew;
  } else if (*after_seq > 0) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = *after_seq + 1;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  auto* callback = new Callback{std::move(on_message)};
  std::unique_ptr<StreamFollower> follower(new StreamFollower());
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_Subscribe(&follower->sub_, conn.js(), subject.c_str(), &StreamFollower::OnNatsMessage, callback, nullptr, &so, &code);
  if (s != NATS_OK) {
    delete callback;
    follower->sub_ = nullptr;
    return MakeError("subscribing to " + subject + " on stream " + stream + ": " + NatsError(s));
  }
  // Frees `callback` once no message can reach it any more (should this fail, it leaks a
  // few bytes rather than risk a message arriving at freed memory).
  natsSubscription_SetOnCompleteCB(follower->sub_, &StreamFollower::OnComplete, callback);
  // A capped log is 64 MiB: let the subscription hold it rather than drop messages (a
  // reader too slow for it is dropped by the HTTP side, which is bounded).
  natsSubscription_SetPendingLimits(follower->sub_, 1 << 20, 512 << 20);
  return follower;
}

StreamFollower::~StreamFollower() { Stop(); }

void StreamFollower::Stop() {
  if (sub_ == nullptr) return;
  natsSubscription_Unsubscribe(sub_);
  natsSubscription_Destroy(sub_);
  sub_ = nullptr;
}

void StreamFollower::OnNatsMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* callback = static_cast<Callback*>(closure);
  jsMsgMetaData* meta = nullptr;
  std::uint64_t seq = 0;
  std::uint64_t pending = 0;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    seq = meta->Sequence.Stream;
    pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
  }
  if (seq > 0) {
    callback->on_message(seq, pending,
                         std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
  }
  natsMsg_Destroy(msg);
}

void StreamFollower::OnComplete(void* closure) { delete static_cast<Callback*>(closure); }

Result<std::uint64_t> LastStoredSequence(NatsConnection& conn, const std::string& stream, const std::string& subject) {
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&msg, conn.js(), stream.c_str(), subject.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return std::uint64_t{0};
  if (s != NATS_OK) return MakeError("reading the last message of " + subject + ": " + NatsError(s));
  const std::uint64_t seq = natsMsg_GetSequence(msg);
  natsMsg_Destroy(msg);
  return seq;
}

}  // namespace kiln

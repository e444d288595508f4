#include "support/stored_events.hpp"

#include "transport/jetstream_setup.hpp"

namespace kiln::testing {

std::vector<nlohmann::json> StoredEvents(NatsConnection& conn, const std::string& subject, int idle_ms) {
  std::vector<nlohmann::json> out;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.DeliverPolicy = js_DeliverAll;
  so.Config.AckPolicy = js_AckNone;
  so.Stream = subjects::kEventsStream;
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (js_SubscribeSync(&sub, conn.js(), subject.c_str(), nullptr, &so, &code) != NATS_OK) return out;
  while (true) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, idle_ms) != NATS_OK) break;
    out.push_back(nlohmann::json::parse(natsMsg_GetData(msg), natsMsg_GetData(msg) + natsMsg_GetDataLength(msg),
                                        nullptr, false));
    natsMsg_Destroy(msg);
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return out;
}

}  // namespace kiln::testing

// What the worker reads off a JetStream message: its delivery count and stream sequence,
// a header, the body. Shared by the worker's files (fetch, claim, max deliveries).
#pragma once

#include <nats/nats.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln {

struct JetStreamDelivery {
  std::uint64_t delivered = 1;
  std::uint64_t stream_seq = 0;
};

inline JetStreamDelivery DeliveryOf(natsMsg* msg) {
  JetStreamDelivery out;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    out.delivered = meta->NumDelivered;
    out.stream_seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
  }
  return out;
}

inline std::string HeaderOf(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return {};
  return value;
}

inline std::string BodyOf(natsMsg* msg) {
  return std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
}

}  // namespace kiln

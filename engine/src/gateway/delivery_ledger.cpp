#include "gateway/delivery_ledger.hpp"

#include "events/job_events.hpp"
#include "job/job.hpp"

namespace kiln {

namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;

// A bucket made by an earlier run keeps its TTL until told otherwise: the configured one wins.
void ApplyTtl(jsCtx* js, Duration ttl) {
  const std::string stream = std::string("KV_") + kDeliveryBucket;
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) != NATS_OK) return;
  const int64_t wanted = static_cast<int64_t>(ttl.count()) * kNanosPerMilli;
  if (info->Config->MaxAge != wanted) {
    info->Config->MaxAge = wanted;
    // The duplicate window may not exceed the max age; KV buckets use min(TTL, 2m).
    if (info->Config->Duplicates > wanted) info->Config->Duplicates = wanted;
    js_UpdateStream(nullptr, js, info->Config, nullptr, nullptr);
  }
  jsStreamInfo_Destroy(info);
}

}  // namespace

bool IsValidDeliveryId(std::string_view delivery) { return IsValidJobId(delivery); }

Result<std::unique_ptr<DeliveryLedger>> DeliveryLedger::Open(NatsConnection& conn, const NatsConfig& nats,
                                                             Duration ttl) {
  kvStore* kv = nullptr;
  if (js_KeyValue(&kv, conn.js(), kDeliveryBucket) == NATS_OK) {
    ApplyTtl(conn.js(), ttl);
  } else {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = kDeliveryBucket;
    cfg.Description = "kiln gateway: GitHub delivery id -> job id";
    cfg.History = 1;
    cfg.TTL = static_cast<int64_t>(ttl.count()) * kNanosPerMilli;
    cfg.StorageType = js_FileStorage;
    cfg.Replicas = nats.stream_replicas;
    natsStatus s = js_CreateKeyValue(&kv, conn.js(), &cfg);
    // Another gateway may have created it in between.
    if (s != NATS_OK && js_KeyValue(&kv, conn.js(), kDeliveryBucket) != NATS_OK) {
      return MakeError(std::string("nats: creating KV bucket ") + kDeliveryBucket + ": " + NatsError(s));
    }
  }
  return std::unique_ptr<DeliveryLedger>(new DeliveryLedger(kv));
}

DeliveryLedger::~DeliveryLedger() { kvStore_Destroy(kv_); }

DeliveryLedger::Claim DeliveryLedger::ClaimKey(const std::string& key, const nlohmann::json& value,
                                               Record& recorded, std::uint64_t& revision, std::string* error) {
  // Read first: a repeat (the common case) costs one read and no failed write.
  for (int round = 0; round < 3; ++round) {
    std::string read_error;
    if (auto stored = store_.Get(key, &read_error)) {
      recorded.job_id = stored->state.value("job", "");
      recorded.message = stored->state.value("message", nlohmann::json());
      recorded.delivery = stored->state.value("delivery", "");
      revision = stored->revision;
      return Claim::seen;
    }
    if (!read_error.empty()) {
      if (error != nullptr) *error = read_error;
      return Claim::unavailable;
    }
    revision = 0;  // create only
    switch (store_.Write(key, value, revision, error)) {
      case WriteOutcome::ok: return Claim::claimed;
      case WriteOutcome::unavailable: return Claim::unavailable;
      case WriteOutcome::conflict: break;  // claimed by someone else just now: read theirs
    }
  }
  if (error != nullptr) *error = key + " keeps changing in " + kDeliveryBucket;
  return Claim::unavailable;
}

DeliveryLedger::Claim DeliveryLedger::ClaimPush(const std::string& delivery, const std::string& content_key,
                                                const Job& job, Record& recorded, std::string* error) {
  // A redelivery by GitHub (same delivery id) is answered from its own entry, whatever
  // else was recorded since.
  std::string read_error;
  if (auto stored = store_.Get(delivery, &read_error)) {
    recorded.job_id = stored->state.value("job", "");
    recorded.message = stored->state.value("message", nlohmann::json());
    recorded.delivery = stored->state.value("delivery", "");
    return Claim::seen;
  }
  if (!read_error.empty()) {
    if (error != nullptr) *error = read_error;
    return Claim::unavailable;
  }
  const nlohmann::json value = {
      {"job", job.id}, {"message", job.to_json()}, {"delivery", delivery}, {"received_at", NowIso8601()}};
  std::uint64_t content_revision = 0;
  const Claim by_content = ClaimKey(content_key, value, recorded, content_revision, error);
  // (Itself, when an earlier copy of this delivery got no further than the content key.)
  if (by_content == Claim::seen) recorded.same_content = recorded.delivery != delivery;
  if (by_content != Claim::claimed) return by_content;
  // The content is ours. A failure from here on leaves it recorded as this job, which a
  // redelivery finishes queueing (found by its content key).
  std::uint64_t delivery_revision = 0;
  const Claim by_delivery = ClaimKey(delivery, value, recorded, delivery_revision, error);
  if (by_delivery == Claim::seen) {
    // Recorded under this delivery id alone in between (a gateway from before content keys):
    // its job is the push's job; point the content key at it too.
    nlohmann::json theirs = {{"job", recorded.job_id},
                             {"message", recorded.message},
                             {"delivery", recorded.delivery.empty() ? delivery : recorded.delivery},
                             {"received_at", NowIso8601()}};
    store_.Write(content_key, theirs, content_revision);
  }
  return by_delivery;
}

}  // namespace kiln

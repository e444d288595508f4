// Which GitHub deliveries became which jobs: KV bucket "webhook-deliveries", key = the
// X-GitHub-Delivery id, value = {"job": <id>, "message": <the job as published>,
// "received_at": <time>}, kept for gateway.delivery_ttl (the bucket's TTL).
//
// Why not only Nats-Msg-Id: JetStream forgets a message id after BUILDS' duplicate window
// (2 minutes), and GitHub redelivers by hand days later. The ledger is claimed with a KV
// create before publishing, so two gateways (or two copies of one delivery arriving at once)
// agree on one job: the loser answers with the winner's job id. The job itself is kept too,
// so a redelivery can finish queueing a job whose publication failed half-way.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "job/job.hpp"
#include "transport/job_state_store.hpp"
#include "transport/nats_connection.hpp"
#include "util/result.hpp"

namespace kiln {

inline constexpr const char* kDeliveryBucket = "webhook-deliveries";

class DeliveryLedger {
 public:
  /// Opens the bucket, creating it with `ttl`, or bringing an existing one's TTL to `ttl`.
  static Result<std::unique_ptr<DeliveryLedger>> Open(NatsConnection& conn, const NatsConfig& nats, Duration ttl);
  ~DeliveryLedger();
  DeliveryLedger(const DeliveryLedger&) = delete;
  DeliveryLedger& operator=(const DeliveryLedger&) = delete;

  enum class Claim {
    claimed,      // the delivery is new and now recorded as `job`: publish it
    seen,         // recorded before: `recorded` says as which job
    unavailable,  // NATS did not answer: `error` says why
  };
  struct Record {
    std::string job_id;
    nlohmann::json message;  // the job as published; null in an entry that lacks it
  };
  /// Records delivery -> `job` unless the delivery is known; on `seen`, `recorded` is the
  /// earlier record.
  Claim ClaimDelivery(const std::string& delivery, const Job& job, Record& recorded, std::string* error);

 private:
  explicit DeliveryLedger(kvStore* kv) : kv_(kv), store_(kv) {}
  kvStore* kv_;
  JobStateStore store_;  // a compare-and-set JSON store; the ledger's values are JSON too
};

/// A delivery id usable as a KV key and a message id: 1 to 128 of [A-Za-z0-9_-] (GitHub's
/// are GUIDs).
bool IsValidDeliveryId(std::string_view delivery);

}  // namespace kiln

// Which GitHub pushes became which jobs: KV bucket "webhook-deliveries", two keys per push,
// the X-GitHub-Delivery id and the push's content key (PushContentKey: repository, ref,
// before, after), each with the value {"job": <id>, "message": <the job as published>,
// "delivery": <the first delivery id>, "received_at": <time>}, kept for
// gateway.delivery_ttl (the bucket's TTL).
//
// Why the content too: GitHub signs only the body, so a captured push sent again under a
// new delivery id is signed correctly; its content key is the one already recorded.
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
    std::string delivery;    // the delivery that recorded it; empty in an entry that lacks it
    bool same_content = false;  // found by the content key under another delivery id
  };
  /// Records `delivery` and `content_key` -> `job` unless either is known; on `seen`,
  /// `recorded` is the earlier record. Both are claimed with a create before the caller
  /// publishes, the content key first: two copies of one push racing (same delivery or
  /// not) agree on one job.
  Claim ClaimPush(const std::string& delivery, const std::string& content_key, const Job& job, Record& recorded,
                  std::string* error);

 private:
  explicit DeliveryLedger(kvStore* kv) : kv_(kv), store_(kv) {}
  /// Creates `key` -> `value` unless it exists; on `seen`, `recorded` is what it holds.
  Claim ClaimKey(const std::string& key, const nlohmann::json& value, Record& recorded, std::uint64_t& revision,
                 std::string* error);
  kvStore* kv_;
  JobStateStore store_;  // a compare-and-set JSON store; the ledger's values are JSON too
};

/// A delivery id usable as a KV key and a message id: 1 to 128 of [A-Za-z0-9_-] (GitHub's
/// are GUIDs).
bool IsValidDeliveryId(std::string_view delivery);

}  // namespace kiln

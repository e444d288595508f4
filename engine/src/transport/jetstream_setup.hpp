// The JetStream objects kiln uses, created or brought up to date idempotently (any number of
// workers and `kiln submit` may run this at once).
//
//   BUILDS        builds.webhook     work queue, file, max age 72h, duplicate window 2m
//   BUILDS_DLQ    builds.dlq         limits retention, file, max age 30 days: dead letters
//                                    stay until replayed (`kiln dlq replay` deletes them)
//   BUILD_EVENTS  builds.status.>    limits retention, file, max age 72h
//   BUILD_LOGS    builds.logs.>      limits retention, file, max age logs.max_age (7 days),
//                                    duplicate window 2m: the jobs' logs (LogChunk), apart
//                                    from the events so that BUILD_EVENTS stays small
//   KV "builds"   job id -> state    history 5, TTL 30 days
//   consumer "kiln-workers" on BUILDS: pull, explicit ack, ack wait worker.ack_wait,
//   max deliver worker.max_retries + 1, max ack pending worker.pool_size * 64.
#pragma once

#include <string>

#include "config/config.hpp"
#include "transport/nats_connection.hpp"
#include "util/result.hpp"

namespace kiln::subjects {
inline constexpr const char* kJobs = "builds.webhook";
inline constexpr const char* kDeadLetters = "builds.dlq";
inline constexpr const char* kStatusPrefix = "builds.status.";  // + job id
inline constexpr const char* kLogsPrefix = "builds.logs.";      // + job id
inline constexpr const char* kCancelPrefix = "builds.cancel.";  // + job id
inline constexpr const char* kJobsStream = "BUILDS";
inline constexpr const char* kDeadLetterStream = "BUILDS_DLQ";
inline constexpr const char* kEventsStream = "BUILD_EVENTS";
inline constexpr const char* kLogsStream = "BUILD_LOGS";
inline constexpr const char* kStateBucket = "builds";
inline constexpr const char* kConsumer = "kiln-workers";
/// The server's advisory when a message of BUILDS reached max deliver without an ack.
inline constexpr const char* kMaxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.BUILDS.kiln-workers";
}  // namespace kiln::subjects

namespace kiln {

/// Max ack pending of the shared consumer: room for 64 workers of this pool size plus the
/// jobs waiting in a retry delay (a nak'ed message stays pending until redelivered).
int MaxAckPendingFor(const WorkerConfig& worker);

/// Streams BUILDS, BUILDS_DLQ, BUILD_EVENTS, BUILD_LOGS and the KV bucket (opened into
/// `conn`). Every process that calls it should pass the config's `logs`: the stream is
/// updated to the max age it is given.
Result<bool> EnsureStreams(NatsConnection& conn, const NatsConfig& nats, const LogsConfig& logs = {});
/// The durable pull consumer kiln-workers, with the worker's settings.
Result<bool> EnsureConsumer(NatsConnection& conn, const NatsConfig& nats, const WorkerConfig& worker);

}  // namespace kiln

#include "transport/jetstream_setup.hpp"

#include <algorithm>
#include <chrono>

namespace kiln {

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kHour = 3600 * kNanosPerSecond;

int64_t Nanos(Duration d) { return static_cast<int64_t>(d.count()) * 1'000'000; }

std::string JsError(const std::string& what, natsStatus s, jsErrCode code) {
  std::string out = "nats: " + what + ": " + NatsError(s);
  if (code != 0) out += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  return out;
}

// Creates the stream, or updates it to `cfg` when it exists (replicas, max age, ...).
Result<bool> EnsureStream(jsCtx* js, jsStreamConfig& cfg) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js, cfg.Name, nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    s = js_UpdateStream(nullptr, js, &cfg, nullptr, &code);
    if (s != NATS_OK) return MakeError(JsError(std::string("updating stream ") + cfg.Name, s, code));
    return true;
  }
  if (s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) {
    return MakeError(JsError(std::string("reading stream ") + cfg.Name, s, code));
  }
  s = js_AddStream(nullptr, js, &cfg, nullptr, &code);
  if (s != NATS_OK) {
    // Another process may have created it in between: that is fine when it exists now.
    if (js_GetStreamInfo(&info, js, cfg.Name, nullptr, nullptr) == NATS_OK) {
      jsStreamInfo_Destroy(info);
      return true;
    }
    return MakeError(JsError(std::string("creating stream ") + cfg.Name, s, code));
  }
  return true;
}

// One subject's stream on file storage.
struct StreamSpec {
  const char* name;
  const char* description;
  const char* subject;
  jsRetentionPolicy retention;
  int64_t max_age;     // nanoseconds
  int64_t duplicates;  // nanoseconds; 0: the server's default window
};

Result<bool> EnsureFileStream(jsCtx* js, const StreamSpec& stream, int replicas) {
  const char* subjects[] = {stream.subject};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.name;
  cfg.Description = stream.description;
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Retention = stream.retention;
  cfg.Storage = js_FileStorage;
  cfg.MaxAge = stream.max_age;
  if (stream.duplicates > 0) cfg.Duplicates = stream.duplicates;
  cfg.Replicas = replicas;
  return EnsureStream(js, cfg);
}

}  // namespace

int MaxAckPendingFor(const WorkerConfig& worker) { return worker.pool_size * 64; }

Result<bool> EnsureStreams(NatsConnection& conn, const NatsConfig& nats, const LogsConfig& logs) {
  jsCtx* js = conn.js();
  const int64_t logs_max_age = Nanos(logs.max_age);
  const StreamSpec streams[] = {
      {subjects::kJobsStream, "kiln build jobs", subjects::kJobs, js_WorkQueuePolicy, 72 * kHour, 120 * kNanosPerSecond},
      {subjects::kDeadLetterStream, "kiln dead-lettered jobs (kiln dlq list / replay)", subjects::kDeadLetters,
       js_LimitsPolicy, 30 * 24 * kHour, 120 * kNanosPerSecond},
      {subjects::kEventsStream, "kiln job events", "builds.status.>", js_LimitsPolicy, 72 * kHour, 0},
      // The server wants the duplicate window no longer than the max age.
      {subjects::kLogsStream, "kiln build logs (kiln logs)", "builds.logs.>", js_LimitsPolicy, logs_max_age,
       std::min<int64_t>(120 * kNanosPerSecond, logs_max_age)},
  };
  for (const StreamSpec& stream : streams) {
    if (auto r = EnsureFileStream(js, stream, nats.stream_replicas); !r) return r;
  }
  if (conn.builds_kv() == nullptr) {
    kvStore* kv = nullptr;
    natsStatus s = js_KeyValue(&kv, js, subjects::kStateBucket);
    if (s != NATS_OK) {
      kvConfig cfg;
      kvConfig_Init(&cfg);
      cfg.Bucket = subjects::kStateBucket;
      cfg.Description = "kiln job state, latest per job id";
      cfg.History = 5;
      cfg.TTL = 30 * 24 * kHour;
      cfg.StorageType = js_FileStorage;
      cfg.Replicas = nats.stream_replicas;
      s = js_CreateKeyValue(&kv, js, &cfg);
      if (s != NATS_OK && js_KeyValue(&kv, js, subjects::kStateBucket) != NATS_OK) {
        return MakeError("nats: creating KV bucket builds: " + NatsError(s));
      }
    }
    conn.set_builds_kv(kv);
  }
  return true;
}

Result<bool> EnsureConsumer(NatsConnection& conn, const NatsConfig& nats, const WorkerConfig& worker) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = subjects::kConsumer;
  cc.Description = "kiln workers (shared)";
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = Nanos(worker.ack_wait);
  cc.MaxDeliver = worker.max_retries + 1;
  cc.MaxAckPending = MaxAckPendingFor(worker);
  cc.FilterSubject = subjects::kJobs;
  cc.DeliverPolicy = js_DeliverAll;
  cc.Replicas = nats.stream_replicas;
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&info, conn.js(), subjects::kJobsStream, subjects::kConsumer, nullptr, &code);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(info);
    s = js_UpdateConsumer(nullptr, conn.js(), subjects::kJobsStream, &cc, nullptr, &code);
    if (s != NATS_OK) return MakeError(JsError("updating consumer kiln-workers", s, code));
    return true;
  }
  s = js_AddConsumer(nullptr, conn.js(), subjects::kJobsStream, &cc, nullptr, &code);
  if (s != NATS_OK) {
    if (js_GetConsumerInfo(&info, conn.js(), subjects::kJobsStream, subjects::kConsumer, nullptr, nullptr) == NATS_OK) {
      jsConsumerInfo_Destroy(info);
      return true;
    }
    return MakeError(JsError("creating consumer kiln-workers", s, code));
  }
  return true;
}

}  // namespace kiln

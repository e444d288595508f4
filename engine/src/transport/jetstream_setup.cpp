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

}  // namespace

int MaxAckPendingFor(const WorkerConfig& worker) { return worker.pool_size * 64; }

Result<bool> EnsureStreams(NatsConnection& conn, const NatsConfig& nats, const LogsConfig& logs) {
  jsCtx* js = conn.js();
  {
    const char* subjects[] = {subjects::kJobs};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = subjects::kJobsStream;
    cfg.Description = "kiln build jobs";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_WorkQueuePolicy;
    cfg.Storage = js_FileStorage;
    cfg.MaxAge = 72 * kHour;
    cfg.Duplicates = 120 * kNanosPerSecond;
    cfg.Replicas = nats.stream_replicas;
    if (auto r = EnsureStream(js, cfg); !r) return r;
  }
  {
    const char* subjects[] = {subjects::kDeadLetters};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = subjects::kDeadLetterStream;
    cfg.Description = "kiln dead-lettered jobs (kiln dlq list / replay)";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_LimitsPolicy;
    cfg.Storage = js_FileStorage;
    cfg.MaxAge = 30 * 24 * kHour;
    cfg.Duplicates = 120 * kNanosPerSecond;
    cfg.Replicas = nats.stream_replicas;
    if (auto r = EnsureStream(js, cfg); !r) return r;
  }
  {
    const char* subjects[] = {"builds.status.>"};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = subjects::kEventsStream;
    cfg.Description = "kiln job events";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_LimitsPolicy;
    cfg.Storage = js_FileStorage;
    cfg.MaxAge = 72 * kHour;
    cfg.Replicas = nats.stream_replicas;
    if (auto r = EnsureStream(js, cfg); !r) return r;
  }
  {
    const char* subjects[] = {"builds.logs.>"};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = subjects::kLogsStream;
    cfg.Description = "kiln build logs (kiln logs)";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_LimitsPolicy;
    cfg.Storage = js_FileStorage;
    cfg.MaxAge = Nanos(logs.max_age);
    cfg.Duplicates = std::min<int64_t>(120 * kNanosPerSecond, cfg.MaxAge);  // the server wants it <= max age
    cfg.Replicas = nats.stream_replicas;
    if (auto r = EnsureStream(js, cfg); !r) return r;
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

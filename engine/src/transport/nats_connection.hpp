// One connection to NATS (cnats) with JetStream, set up the way every kiln process needs it:
// reconnect forever with a wait, publishes buffered while disconnected, auth by
// user/password, token or creds file, TLS when asked.
//
// Thread-safety: cnats connections, JetStream contexts and KV handles are thread-safe; a
// NatsConnection is shared by all threads of a process.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <condition_variable>
#include <mutex>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "util/result.hpp"

namespace kiln {

class Redactor;

/// "nats: timeout (last error: ...)": a natsStatus in words, with cnats' last error text.
std::string NatsError(natsStatus status);

class NatsConnection {
 public:
  /// How async subscriptions get their messages: cnats gives each one a thread of its own
  /// unless told to share a small pool; the gateway, with a subscription per open page,
  /// shares.
  enum class Delivery { thread_per_subscription, shared_pool };

  /// Connects (waiting up to nats.connect_timeout for the first server). `name` shows in the
  /// server's connection list. Secret references in nats.password/nats.token are read here.
  static Result<std::unique_ptr<NatsConnection>> Connect(const NatsConfig& config, const std::string& name,
                                                         Redactor* redactor,
                                                         Delivery delivery = Delivery::thread_per_subscription);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  natsConnection* nc() const { return nc_; }
  jsCtx* js() const { return js_; }
  /// The KV bucket "builds" (opened by EnsureBuildsBucket / OpenBuildsBucket).
  kvStore* builds_kv() const { return kv_; }
  void set_builds_kv(kvStore* kv) { kv_ = kv; }

  bool connected() const { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }
  int reconnects() const { return reconnects_.load(); }
  /// The largest message the server takes (its max_payload, as it announced on connect;
  /// headers count): nothing this process publishes may be longer. 0 when not known.
  std::size_t max_payload() const {
    const std::int64_t limit = natsConnection_GetMaxPayload(nc_);
    return limit > 0 ? static_cast<std::size_t>(limit) : 0;
  }
  /// Waits for outstanding async publishes and flushes the connection.
  void Flush(int timeout_ms);

 private:
  NatsConnection() = default;
  static void OnDisconnected(natsConnection* nc, void* closure);
  static void OnReconnected(natsConnection* nc, void* closure);
  static void OnClosed(natsConnection* nc, void* closure);
  static void OnError(natsConnection* nc, natsSubscription* sub, natsStatus err, void* closure);
  static void OnPublishError(jsCtx* js, jsPubAckErr* pae, void* closure);

  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  kvStore* kv_ = nullptr;
  std::atomic<int> reconnects_{0};
  std::atomic<bool> closing_{false};
  std::mutex closed_mutex_;
  std::condition_variable closed_cv_;
  bool closed_ = false;  // the closed callback ran: no other callback will come
};

}  // namespace kiln

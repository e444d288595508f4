#include "transport/nats_connection.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>

#include "secrets/redactor.hpp"
#include "secrets/secret_store.hpp"

namespace kiln {

std::string NatsError(natsStatus status) {
  std::string out = natsStatus_GetText(status);
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && out.find(last) == std::string::npos) out += std::string(" (") + last + ")";
  return Redactor::redact_url_credentials(out);
}

namespace {

// The largest amount cnats keeps while disconnected (events, acks); beyond it a publish fails
// and the job's sink retries the state write later.
constexpr int kReconnectBufferBytes = 32 * 1024 * 1024;

Result<std::string> ReadSecretRef(const std::string& key, const std::string& spec, Redactor* redactor) {
  if (spec.empty()) return std::string();
  Redactor scratch;
  SecretStore store({{key, spec}}, redactor != nullptr ? *redactor : scratch, ProcessEnvironment());
  auto value = store.get(key);
  if (!value) return MakeError(key + ": secret " + spec + " could not be read");
  return *value;
}

}  // namespace

Result<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const NatsConfig& config, const std::string& name,
                                                                 Redactor* redactor, Delivery delivery) {
  // cnats spins 2000 times on a busy mutex before sleeping; with a pool of job threads on a
  // few shared cores the spinning costs more than it saves (measured: bench/worker).
  static const natsStatus opened = nats_Open(0);
  (void)opened;
  std::unique_ptr<NatsConnection> conn(new NatsConnection());
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return MakeError("nats: cannot create options");
  conn->opts_ = opts;
  auto fail = [&](const std::string& what, natsStatus s) {
    return MakeError("nats: " + what + ": " + NatsError(s));
  };
  natsStatus s = natsOptions_SetServers(opts, nullptr, 0);
  // nats.url may hold several comma-separated servers (a cluster).
  {
    std::vector<std::string> urls;
    std::string url = config.url;
    std::size_t start = 0;
    while (start <= url.size()) {
      auto comma = url.find(',', start);
      if (comma == std::string::npos) comma = url.size();
      std::string one = url.substr(start, comma - start);
      while (!one.empty() && one.front() == ' ') one.erase(0, 1);
      while (!one.empty() && one.back() == ' ') one.pop_back();
      if (!one.empty()) urls.push_back(one);
      start = comma + 1;
    }
    std::vector<const char*> ptrs;
    for (const auto& u : urls) ptrs.push_back(u.c_str());
    s = natsOptions_SetServers(opts, ptrs.data(), static_cast<int>(ptrs.size()));
    if (s != NATS_OK) return fail("nats.url " + Redactor::redact_url_credentials(config.url), s);
  }
  natsOptions_SetName(opts, name.c_str());
  if (delivery == Delivery::shared_pool) {
    // A few threads for every subscription of the process (cnats' default pool has one).
    nats_SetMessageDeliveryPoolSize(4);
    natsOptions_UseGlobalMessageDelivery(opts, true);
  }
  // cnats stops after 60 reconnect attempts by default: a worker must never give up.
  natsOptions_SetAllowReconnect(opts, true);
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, config.reconnect_wait.count());
  natsOptions_SetReconnectJitter(opts, 100, 1000);
  natsOptions_SetReconnectBufSize(opts, kReconnectBufferBytes);
  natsOptions_SetTimeout(opts, config.connect_timeout.count());
  natsOptions_SetPingInterval(opts, 10'000);
  natsOptions_SetMaxPingsOut(opts, 3);
  natsOptions_SetDisconnectedCB(opts, &NatsConnection::OnDisconnected, conn.get());
  natsOptions_SetReconnectedCB(opts, &NatsConnection::OnReconnected, conn.get());
  natsOptions_SetErrorHandler(opts, &NatsConnection::OnError, conn.get());
  natsOptions_SetClosedCB(opts, &NatsConnection::OnClosed, conn.get());

  if (!config.user.empty() || !config.password.empty()) {
    auto password = ReadSecretRef("nats.password", config.password, redactor);
    if (!password) return MakeError(password.error());
    s = natsOptions_SetUserInfo(opts, config.user.c_str(), password->c_str());
    if (s != NATS_OK) return fail("nats.user", s);
  }
  if (!config.token.empty()) {
    auto token = ReadSecretRef("nats.token", config.token, redactor);
    if (!token) return MakeError(token.error());
    s = natsOptions_SetToken(opts, token->c_str());
    if (s != NATS_OK) return fail("nats.token", s);
  }
  if (!config.credentials.empty()) {
    // cnats reads the file only when it connects, and its error then names neither the key
    // nor that it is the credentials: check it here, like the other settings.
    if (::access(config.credentials.c_str(), R_OK) != 0) {
      return MakeError("nats: nats.credentials " + config.credentials + ": " + std::strerror(errno));
    }
    s = natsOptions_SetUserCredentialsFromFiles(opts, config.credentials.c_str(), nullptr);
    if (s != NATS_OK) return fail("nats.credentials " + config.credentials, s);
  }
  bool tls = config.url.rfind("tls://", 0) == 0 || !config.tls_ca.empty() || !config.tls_cert.empty();
  if (tls) {
    s = natsOptions_SetSecure(opts, true);
    if (s != NATS_OK) return fail("TLS", s);
    if (!config.tls_ca.empty()) {
      s = natsOptions_LoadCATrustedCertificates(opts, config.tls_ca.c_str());
      if (s != NATS_OK) return fail("nats.tls_ca " + config.tls_ca, s);
    }
    if (!config.tls_cert.empty() || !config.tls_key.empty()) {
      s = natsOptions_LoadCertificatesChain(opts, config.tls_cert.c_str(), config.tls_key.c_str());
      if (s != NATS_OK) return fail("nats.tls_cert/nats.tls_key " + config.tls_cert, s);
    }
  }

  s = natsConnection_Connect(&conn->nc_, opts);
  if (s != NATS_OK) {
    return MakeError("nats: cannot connect to " + Redactor::redact_url_credentials(config.url) + ": " + NatsError(s));
  }
  jsOptions jso;
  jsOptions_Init(&jso);
  jso.Wait = 5000;
  // Bounded async publishes; a stall waits instead of failing while the server is away.
  jso.PublishAsync.MaxPending = 4096;
  jso.PublishAsync.StallWait = 1000;
  jso.PublishAsync.ErrHandler = &NatsConnection::OnPublishError;
  jso.PublishAsync.ErrHandlerClosure = conn.get();
  s = natsConnection_JetStream(&conn->js_, conn->nc_, &jso);
  if (s != NATS_OK) return fail("JetStream context", s);
  return conn;
}

NatsConnection::~NatsConnection() {
  if (kv_ != nullptr) kvStore_Destroy(kv_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  closing_.store(true);
  if (nc_ != nullptr) {
    natsConnection_FlushTimeout(nc_, 2000);
    natsConnection_Close(nc_);
    // cnats runs the callbacks on its own thread, the closed one last: until it has run, a
    // disconnected callback may still be on its way to this object (ASan saw one arrive
    // after the delete).
    {
      std::unique_lock lock(closed_mutex_);
      closed_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return closed_; });
    }
    natsConnection_Destroy(nc_);
  }
  if (opts_ != nullptr) natsOptions_Destroy(opts_);
}

void NatsConnection::Flush(int timeout_ms) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout_ms;
  natsStatus s = js_PublishAsyncComplete(js_, &po);
  if (s != NATS_OK) spdlog::warn("nats: events still unacknowledged at flush: {}", NatsError(s));
  natsConnection_FlushTimeout(nc_, timeout_ms);
}

void NatsConnection::OnDisconnected(natsConnection*, void* closure) {
  if (!static_cast<NatsConnection*>(closure)->closing_.load()) spdlog::warn("nats: disconnected; reconnecting");
}

void NatsConnection::OnClosed(natsConnection*, void* closure) {
  auto* self = static_cast<NatsConnection*>(closure);
  std::lock_guard lock(self->closed_mutex_);
  self->closed_ = true;
  self->closed_cv_.notify_all();
}

void NatsConnection::OnReconnected(natsConnection* nc, void* closure) {
  auto* self = static_cast<NatsConnection*>(closure);
  self->reconnects_.fetch_add(1);
  char url[256] = {0};
  natsConnection_GetConnectedUrl(nc, url, sizeof(url));
  spdlog::info("nats: reconnected to {}", Redactor::redact_url_credentials(url));
}

void NatsConnection::OnError(natsConnection*, natsSubscription*, natsStatus err, void*) {
  // Slow consumers and the like: log, keep serving.
  spdlog::warn("nats: asynchronous error: {}", natsStatus_GetText(err));
}

void NatsConnection::OnPublishError(jsCtx*, jsPubAckErr* pae, void*) {
  // An event that never made it to BUILD_EVENTS: the KV state still has the job's state.
  spdlog::warn("nats: event publish to {} failed: {}", natsMsg_GetSubject(pae->Msg),
               pae->ErrText != nullptr ? pae->ErrText : natsStatus_GetText(pae->Err));
}

}  // namespace kiln

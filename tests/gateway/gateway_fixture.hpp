// Shared by the gateway tests: GitHub's documented push payload and shapes derived from it,
// and a real `kiln gateway` (the binary under test) in front of a real nats-server, with
// the worker tests' set-up (WorkerTest) for the queue, the KV state and workers.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

#include "gateway/webhook_signature.hpp"
#include "support/temp_dir.hpp"
#include "worker/worker_fixture.hpp"

namespace kiln::testing {

/// tests/fixtures/github/push.json, byte for byte.
inline std::string DocumentedPushPayload() {
  return ReadFile(std::filesystem::path(KILN_SOURCE_DIR) / "tests" / "fixtures" / "github" / "push.json");
}

/// The documented payload with only ref, before, after and deleted changed.
inline std::string PushPayload(const std::string& ref, const std::string& before, const std::string& after,
                               bool deleted = false) {
  auto doc = nlohmann::json::parse(DocumentedPushPayload());
  doc["ref"] = ref;
  doc["before"] = before;
  doc["after"] = after;
  doc["deleted"] = deleted;
  doc["created"] = before.find_first_not_of('0') == std::string::npos;
  return doc.dump(2);
}

inline constexpr const char* kWebhookSecret = "gateway-test-webhook-secret";
inline constexpr const char* kApiToken = "gateway-test-api-token";
inline const std::string kPushedCommit = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
inline const std::string kPreviousCommit = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

/// A push of main from kPreviousCommit to kPushedCommit.
inline std::string BranchPush() { return PushPayload("refs/heads/main", kPreviousCommit, kPushedCommit); }

class GatewayTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    port_ = FreeLoopbackPort();
    WriteFile(dir_.path() / "webhook-secret", kWebhookSecret);
    WriteFile(dir_.path() / "api-token", std::string(kApiToken) + "\n");
    AppendGatewaySection("");
  }

  /// Adds the gateway: section to the worker tests' config (with `extra` keys, indented).
  void AppendGatewaySection(const std::string& extra) {
    std::string config = ReadFile(config_path());
    config = config.substr(0, config.find("gateway:"));
    config += "gateway:\n  address: 127.0.0.1\n  port: " + std::to_string(port_) +
              "\n  webhook_secret: \"file:" + (dir_.path() / "webhook-secret").string() + "\"\n  api_token: \"file:" +
              (dir_.path() / "api-token").string() + "\"\n"
              "  delivery_ttl: 5m\n" + extra;
    WriteFile(config_path(), config);
  }

  KilnProcess& StartGateway() {
    std::string log = (dir_.path() / ("gateway-" + std::to_string(workers_.size()) + ".log")).string();
    workers_.push_back(std::make_unique<KilnProcess>(std::vector<std::string>{"gateway", "--config", config_path()}, log));
    // Ready when it answers at all.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto res = Client().Get("/healthz")) return *workers_.back();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "kiln gateway did not answer on port " << port_;
    return *workers_.back();
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(30));
    client.set_write_timeout(std::chrono::seconds(30));
    return client;
  }

  /// POST /webhooks/github as GitHub sends it; `signature` "" leaves the header out, "sign"
  /// signs `body` with the configured secret.
  httplib::Result Deliver(const std::string& event, const std::string& delivery, const std::string& body,
                          const std::string& signature = "sign") {
    httplib::Headers headers = {{"X-GitHub-Event", event}, {"User-Agent", "GitHub-Hookshot/test"}};
    if (!delivery.empty()) headers.emplace("X-GitHub-Delivery", delivery);
    if (signature == "sign") headers.emplace("X-Hub-Signature-256", GitHubSignature(kWebhookSecret, body));
    else if (!signature.empty()) headers.emplace("X-Hub-Signature-256", signature);
    return Client().Post("/webhooks/github", headers, body, "application/json");
  }

  httplib::Result Query(const std::string& path, const std::string& token = kApiToken) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Client().Get(path, headers);
  }

  static nlohmann::json Json(const httplib::Result& res) {
    return res ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
  }

  /// The message at `seq` in BUILDS: its body and its Nats-Msg-Id.
  std::pair<nlohmann::json, std::string> QueuedMessage(std::uint64_t seq) {
    natsMsg* msg = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_GetMsg(&msg, client_->js(), subjects::kJobsStream, seq, nullptr, &code) != NATS_OK) return {};
    const char* id = nullptr;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    std::pair<nlohmann::json, std::string> out{
        nlohmann::json::parse(natsMsg_GetData(msg), natsMsg_GetData(msg) + natsMsg_GetDataLength(msg)),
        id != nullptr ? id : ""};
    natsMsg_Destroy(msg);
    return out;
  }

  int port_ = 0;
};

}  // namespace kiln::testing

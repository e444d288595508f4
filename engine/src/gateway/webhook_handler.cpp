#include "gateway/webhook_handler.hpp"

#include <spdlog/spdlog.h>

#include "gateway/github_push.hpp"
#include "gateway/webhook_signature.hpp"
#include "transport/job_publisher.hpp"

namespace kiln {

namespace {

WebhookReply Reply(int status, const std::string& result, nlohmann::json body) {
  return WebhookReply{status, std::move(body), result};
}

WebhookReply Refuse(int status, const std::string& result, const std::string& message) {
  return Reply(status, result, {{"error", message}});
}

}  // namespace

WebhookHandler::WebhookHandler(const Config& config, NatsConnection& conn, DeliveryLedger& ledger, std::string secret)
    : config_(config), conn_(conn), ledger_(ledger), secret_(std::move(secret)) {}

WebhookReply WebhookHandler::Handle(const WebhookRequest& request) const {
  // Nothing about the body is looked at before its signature is checked.
  if (request.signature.empty()) return Refuse(401, "unauthorized", "X-Hub-Signature-256: missing");
  if (!VerifyGitHubSignature(secret_, request.body, request.signature)) {
    return Refuse(401, "unauthorized", "X-Hub-Signature-256: does not match the body and the configured secret");
  }
  if (request.event == "ping") return Reply(200, "ping", {{"pong", true}});
  if (request.event != "push") {
    return Reply(202, "ignored",
                 {{"ignored", true}, {"reason", "event '" + request.event + "' does not build (only push does)"}});
  }
  return HandlePush(request);
}

WebhookReply WebhookHandler::HandlePush(const WebhookRequest& request) const {
  if (request.content_type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    return Refuse(400, "bad_request", "Content-Type: set the webhook's content type to application/json");
  }
  if (request.delivery.empty()) return Refuse(400, "bad_request", "X-GitHub-Delivery: missing");
  if (!IsValidDeliveryId(request.delivery)) {
    return Refuse(400, "bad_request", "X-GitHub-Delivery: must be 1 to 128 of A-Z a-z 0-9 _ -");
  }
  JobRules rules;
  rules.allow_file_urls = config_.build.allow_file_urls;
  auto decision = DecidePush(request.body, request.delivery, config_.gateway, rules);
  if (!decision) return Refuse(400, "bad_request", decision.error());
  if (!decision->build) return Reply(202, "ignored", {{"ignored", true}, {"reason", decision->reason}});

  const Job& job = decision->job;
  std::string job_id = job.id;
  std::string error;
  switch (ledger_.ClaimDelivery(request.delivery, job_id, &error)) {
    case DeliveryLedger::Claim::seen:
      spdlog::info("gateway: delivery {} was received before as job {}; not built again", request.delivery, job_id);
      return Reply(202, "duplicate", {{"job", job_id}, {"duplicate", true}});
    case DeliveryLedger::Claim::unavailable:
      spdlog::warn("gateway: delivery {}: {}", request.delivery, error);
      return Refuse(503, "unavailable", "NATS is unavailable; redeliver the webhook later");
    case DeliveryLedger::Claim::claimed: break;
  }
  auto published = PublishJob(conn_, job, request.delivery);
  if (!published) {
    ledger_.Release(request.delivery);
    spdlog::warn("gateway: delivery {}: {}", request.delivery, published.error());
    return Refuse(503, "unavailable", "NATS is unavailable; redeliver the webhook later");
  }
  if (published->duplicate) {
    // The ledger lost the delivery (deleted by hand) but JetStream still remembers it.
    spdlog::warn("gateway: delivery {} was dropped by JetStream as a duplicate message id", request.delivery);
    return Reply(202, "duplicate", {{"job", job_id}, {"duplicate", true}});
  }
  spdlog::info("gateway: delivery {}: job {} queued ({} {} {})", request.delivery, job.id, job.repo_name, job.branch,
               job.commit);
  return Reply(202, "accepted", {{"job", job.id}, {"status", "queued"}});
}

}  // namespace kiln

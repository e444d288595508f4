#include "gateway/webhook_handler.hpp"

#include <spdlog/spdlog.h>

#include "gateway/form_payload.hpp"
#include "gateway/github_push.hpp"
#include "gateway/webhook_signature.hpp"
#include "transport/job_publisher.hpp"
#include "transport/job_state_store.hpp"

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
  if (request.delivery.empty()) return Refuse(400, "bad_request", "X-GitHub-Delivery: missing");
  if (!IsValidDeliveryId(request.delivery)) {
    return Refuse(400, "bad_request", "X-GitHub-Delivery: must be 1 to 128 of A-Z a-z 0-9 _ -");
  }
  JobRules rules;
  rules.allow_file_urls = config_.build.allow_file_urls;
  // GitHub's default content type carries the JSON as the form field payload= (the signature,
  // checked in Handle, covers the form as sent).
  std::string form_json;
  if (IsFormEncoded(request.content_type)) {
    auto payload = FormPayload(request.body);
    if (!payload) return Refuse(400, "bad_request", payload.error());
    form_json = std::move(payload).value();
  }
  const std::string& json = IsFormEncoded(request.content_type) ? form_json : request.body;
  auto decision = DecidePush(json, request.delivery, config_.gateway, rules);
  if (!decision) return Refuse(400, "bad_request", decision.error());
  if (!decision->build) return Reply(202, "ignored", {{"ignored", true}, {"reason", decision->reason}});

  const Job& job = decision->job;
  DeliveryLedger::Record recorded;
  std::string error;
  switch (ledger_.ClaimPush(request.delivery, decision->content_key, job, recorded, &error)) {
    case DeliveryLedger::Claim::seen: return HandleRedelivery(request.delivery, recorded, rules);
    case DeliveryLedger::Claim::unavailable:
      spdlog::warn("gateway: delivery {}: {}", request.delivery, error);
      return Refuse(503, "unavailable", "NATS is unavailable; redeliver the webhook later");
    case DeliveryLedger::Claim::claimed: break;
  }
  JobPublication publication;
  auto published = PublishJob(conn_, job, publication, request.delivery);
  if (!published) {
    // The delivery stays recorded as this job: its redelivery finishes queueing it
    // (HandleRedelivery), under the same job id and message id.
    spdlog::warn("gateway: delivery {}: job {}: {}", request.delivery, job.id, published.error());
    return Refuse(503, "unavailable", "NATS is unavailable; job " + job.id + " is not queued yet: redeliver the webhook");
  }
  if (publication.duplicate) {
    // JetStream published a message with this delivery id in the last 2 minutes, but the
    // ledger had no entry (deleted by hand). That message's job runs; this id never will.
    spdlog::warn("gateway: delivery {} was dropped by JetStream as a repeat of a recent message", request.delivery);
    kvStore_Delete(conn_.builds_kv(), job.id.c_str());
    return Reply(202, "duplicate", {{"duplicate", true}, {"reason", "a message with this delivery id was queued in the last 2 minutes"}});
  }
  spdlog::info("gateway: delivery {}: job {} queued ({} {} {})", request.delivery, job.id, job.repo_name, job.branch,
               job.commit);
  return Reply(202, "accepted", {{"job", job.id}, {"status", "queued"}});
}

WebhookReply WebhookHandler::HandleRedelivery(const std::string& delivery, const DeliveryLedger::Record& recorded,
                                              const JobRules& rules) const {
  // A job that never left "queued" (or never got a state) may have missed the queue: the
  // gateway died, or NATS failed, between recording the delivery and publishing. Publish it
  // again, same job id, same message id (the delivery that recorded it): JetStream drops
  // the copy within its window, and after it a worker runs a job id once (it acknowledges a
  // second message of a job that already runs or ended).
  const std::string& msg_id = recorded.delivery.empty() ? delivery : recorded.delivery;
  if (recorded.message.is_object()) {
    std::string error;
    auto state = JobStateStore(conn_.builds_kv()).Get(recorded.job_id, &error);
    if (!state && !error.empty()) {
      spdlog::warn("gateway: delivery {}: reading job {}: {}", delivery, recorded.job_id, error);
      return Refuse(503, "unavailable", "NATS is unavailable; redeliver the webhook later");
    }
    if (!state || state->state.value("status", "") == "queued") {
      auto job = ParseJob(recorded.message.dump(), rules);
      if (job) {
        JobPublication publication;
        auto published = PublishJob(conn_, job.value(), publication, msg_id);
        if (!published) {
          spdlog::warn("gateway: delivery {}: job {}: {}", delivery, recorded.job_id, published.error());
          return Refuse(503, "unavailable", "NATS is unavailable; redeliver the webhook later");
        }
        if (!publication.duplicate) spdlog::info("gateway: delivery {}: job {} queued again", delivery, recorded.job_id);
      } else {
        spdlog::warn("gateway: delivery {}: the recorded job {} is no longer valid: {}", delivery, recorded.job_id,
                     job.error());
      }
    }
  }
  if (recorded.same_content) {
    // A replay of a captured push under a new delivery id, or GitHub sending one push twice.
    spdlog::warn("gateway: delivery {} carries the push delivery {} brought as job {}; not built again", delivery,
                 recorded.delivery, recorded.job_id);
    return Reply(202, "duplicate",
                 {{"job", recorded.job_id},
                  {"duplicate", true},
                  {"reason", "the same push (repository, ref, before, after) came as delivery " + recorded.delivery +
                                 " within gateway.delivery_ttl"}});
  }
  spdlog::info("gateway: delivery {} was received before as job {}; not built again", delivery, recorded.job_id);
  return Reply(202, "duplicate", {{"job", recorded.job_id}, {"duplicate", true}});
}

}  // namespace kiln

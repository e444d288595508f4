// POST /webhooks/github, apart from HTTP itself: what a delivery becomes.
//
//   no or wrong X-Hub-Signature-256         401, nothing published
//   ping                                    200
//   another event than push                 202, ignored
//   push that builds nothing (tag, branch deletion as configured, other refs)
//                                           202, ignored with the reason
//   push that is not JSON / misses fields / makes a job the worker would refuse
//   (the body as JSON, or form-encoded with the JSON in payload=, GitHub's two content types)
//                                           400 naming what is wrong
//   push seen before (delivery id in the ledger, or the same repository, ref, before and
//   after under another delivery id within gateway.delivery_ttl: a replayed capture)
//                                           202 with the first job's id; published again
//                                           (same ids) only when that job never left
//                                           "queued", so a half-finished publication ends
//   push                                    202 with the new job's id, published on
//                                           builds.webhook with Nats-Msg-Id = the delivery id
//   NATS unavailable                        503 (GitHub shows the failure; redeliver later:
//                                           a delivery recorded before the failure keeps
//                                           its job id)
// A body over gateway.max_body is refused with 413 by the HTTP server before it gets here.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "gateway/delivery_ledger.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

struct WebhookRequest {
  std::string event;         // X-GitHub-Event
  std::string delivery;      // X-GitHub-Delivery
  std::string signature;     // X-Hub-Signature-256
  std::string content_type;  // Content-Type
  std::string body;          // the raw bytes, as signed
};

struct WebhookReply {
  int status = 500;
  nlohmann::json body;
  std::string result;  // the metric label: accepted, duplicate, ignored, ping, unauthorized, bad_request, unavailable
};

class WebhookHandler {
 public:
  WebhookHandler(const Config& config, NatsConnection& conn, DeliveryLedger& ledger, std::string secret);

  WebhookReply Handle(const WebhookRequest& request) const;

 private:
  WebhookReply HandlePush(const WebhookRequest& request) const;
  WebhookReply HandleRedelivery(const std::string& delivery, const DeliveryLedger::Record& recorded,
                                const JobRules& rules) const;

  const Config& config_;
  NatsConnection& conn_;
  DeliveryLedger& ledger_;
  std::string secret_;
};

}  // namespace kiln

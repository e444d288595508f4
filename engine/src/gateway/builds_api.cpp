#include "gateway/builds_api.hpp"

#include <charconv>

#include "job/job.hpp"
#include "transport/job_cancel.hpp"
#include "transport/job_state_store.hpp"

namespace kiln {

ApiReply BuildsApi::Get(const std::string& id) const {
  if (!IsValidJobId(id)) return {400, {{"error", "id: not a job id"}}};
  std::string error;
  auto stored = JobStateStore(conn_.builds_kv()).Get(id, &error);
  if (stored) return {200, stored->state};
  if (!error.empty()) return {503, {{"error", "NATS is unavailable: " + error}}};
  return {404, {{"error", "no job with id '" + id + "'"}}};
}

ApiReply BuildsApi::List(const std::string& limit_text) const {
  int limit = kDefaultLimit;
  if (!limit_text.empty()) {
    auto [end, ec] = std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
    if (ec != std::errc() || end != limit_text.data() + limit_text.size() || limit < 1 || limit > kMaxLimit) {
      return {400, {{"error", "limit: must be a number from 1 to " + std::to_string(kMaxLimit)}}};
    }
  }
  std::string error;
  auto states = JobStateStore(conn_.builds_kv()).Newest(static_cast<std::size_t>(limit), &error);
  if (!states) return {503, {{"error", "NATS is unavailable: " + error}}};
  return {200, {{"builds", *states}}};
}

ApiReply BuildsApi::Cancel(const std::string& id) const {
  if (!IsValidJobId(id)) return {400, {{"error", "id: not a job id"}}};
  const CancelOutcome outcome = CancelJob(conn_, id);
  switch (outcome.kind) {
    case CancelOutcome::Kind::worker_asked:
      return {202, {{"job", id}, {"cancel", "requested"}, {"worker", outcome.worker}}};
    case CancelOutcome::Kind::cancelled_queued: return {200, {{"job", id}, {"status", "cancelled"}}};
    case CancelOutcome::Kind::already_ended:
      return {409, {{"error", "job " + id + " already ended: " + outcome.status}, {"status", outcome.status}}};
    case CancelOutcome::Kind::no_such_job: return {404, {{"error", "no job with id '" + id + "'"}}};
    case CancelOutcome::Kind::worker_silent:
      return {504, {{"error", "job " + id + " is running but its worker does not answer"}}};
    case CancelOutcome::Kind::unavailable: break;
  }
  return {503, {{"error", "NATS is unavailable: " + outcome.error}}};
}

}  // namespace kiln

#include "gateway/builds_api.hpp"

#include <charconv>
#include <cstdint>
#include <optional>

#include "gateway/log_search.hpp"
#include "job/job.hpp"
#include "transport/dead_letter_replay.hpp"
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

namespace {

// `text` as a whole number in [min, max]; nullopt for anything else.
std::optional<std::uint64_t> NumberIn(const std::string& text, std::uint64_t min, std::uint64_t max) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

ApiReply BuildsApi::List(const std::string& limit_text) const {
  int limit = kDefaultLimit;
  if (!limit_text.empty()) {
    auto parsed = NumberIn(limit_text, 1, kMaxLimit);
    if (!parsed) return {400, {{"error", "limit: must be a number from 1 to " + std::to_string(kMaxLimit)}}};
    limit = static_cast<int>(*parsed);
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

ApiReply BuildsApi::Replay(const std::string& id) const {
  if (!IsValidJobId(id)) return {400, {{"error", "id: not a job id"}}};
  const ReplayOutcome outcome = ReplayDeadLetter(conn_, id, rules_);
  switch (outcome.kind) {
    case ReplayOutcome::Kind::replayed: {
      nlohmann::json body = {{"job", outcome.job_id}, {"status", "queued"}, {"replayed_from_dlq", outcome.dlq_seq}};
      if (!outcome.warning.empty()) body["warning"] = outcome.warning;
      return {202, body};
    }
    case ReplayOutcome::Kind::no_dead_letter: return {404, {{"error", "no dead letter for job '" + id + "'"}}};
    case ReplayOutcome::Kind::cannot_run:
      return {422, {{"error", "the dead letter of '" + id + "' cannot run: " + outcome.error}}};
    case ReplayOutcome::Kind::unavailable: break;
  }
  return {503, {{"error", "NATS is unavailable: " + outcome.error}}};
}

ApiReply BuildsApi::SearchLog(const std::string& id, const std::string& q, const std::string& after,
                              const std::string& limit) const {
  if (!IsValidJobId(id)) return {400, {{"error", "id: not a job id"}}};
  LogSearchQuery query;
  query.text = q;
  if (query.text.empty() || query.text.size() > kMaxQueryBytes) {
    return {400, {{"error", "q: the text to find, 1 to " + std::to_string(kMaxQueryBytes) + " bytes"}}};
  }
  if (!after.empty()) {
    auto parsed = NumberIn(after, 0, UINT64_MAX);
    if (!parsed) return {400, {{"error", "after: must be a line number"}}};
    query.after_line = *parsed;
  }
  if (!limit.empty()) {
    auto parsed = NumberIn(limit, 1, kMaxSearchLimit);
    if (!parsed) return {400, {{"error", "limit: must be a number from 1 to " + std::to_string(kMaxSearchLimit)}}};
    query.limit = static_cast<std::size_t>(*parsed);
  }
  auto found = kiln::SearchLog(conn_, id, query);
  if (!found) return {503, {{"error", "reading the log: " + found.error()}}};
  if (!found->job_known) return {404, {{"error", "no job with id '" + id + "'"}}};
  nlohmann::json matches = nlohmann::json::array();
  for (const auto& match : found->matches) {
    matches.push_back({{"line", match.line}, {"step", match.step}, {"attempt", match.attempt}, {"text", match.text}});
  }
  return {200, {{"matches", matches}, {"more", found->more}, {"lines_searched", found->lines_searched}}};
}

}  // namespace kiln

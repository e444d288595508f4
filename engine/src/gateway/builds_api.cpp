#include "gateway/builds_api.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>

#include "gateway/log_event_json.hpp"
#include "gateway/log_search.hpp"
#include "gateway/log_tail.hpp"
#include "job/job.hpp"
#include "secrets/redactor.hpp"
#include "state/job_state.hpp"
#include "transport/dead_letter_replay.hpp"
#include "transport/job_cancel.hpp"
#include "transport/job_publisher.hpp"
#include "transport/job_state_store.hpp"
#include "transport/log_reader.hpp"

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

ApiReply BuildsApi::List(const BuildsQuery& query) const {
  std::size_t limit = kDefaultLimit;
  if (!query.limit.empty()) {
    auto parsed = NumberIn(query.limit, 1, kMaxLimit);
    if (!parsed) return {400, {{"error", "limit: must be a number from 1 to " + std::to_string(kMaxLimit)}}};
    limit = static_cast<std::size_t>(*parsed);
  }
  if (!query.status.empty() && !IsJobStatus(query.status)) {
    return {400, {{"error", "status: '" + query.status +
                                "' is not one of queued, running, retrying, succeeded, failed, cancelled, "
                                "timed_out, dead"}}};
  }
  if (!query.before.empty() && !IsValidJobId(query.before)) return {400, {{"error", "before: not a job id"}}};
  std::string error;
  auto states = JobStateStore(conn_.builds_kv()).Newest(0, &error);
  if (!states) return {503, {{"error", "NATS is unavailable: " + error}}};

  auto matches = [&query](const nlohmann::json& state) {
    const nlohmann::json& repo = state.contains("repo") && state["repo"].is_object() ? state["repo"] : nlohmann::json();
    return (query.repo.empty() || (repo.is_object() && repo.value("name", "") == query.repo)) &&
           (query.branch.empty() || state.value("branch", "") == query.branch) &&
           (query.status.empty() || state.value("status", "") == query.status);
  };
  auto it = states->begin();
  if (!query.before.empty()) {
    it = std::find_if(states->begin(), states->end(),
                      [&query](const nlohmann::json& state) { return state.value("id", "") == query.before; });
    if (it == states->end()) return {400, {{"error", "before: no build '" + query.before + "' to page from"}}};
    ++it;
  }
  nlohmann::json builds = nlohmann::json::array();
  bool more = false;
  for (; it != states->end(); ++it) {
    if (!matches(*it)) continue;
    if (builds.size() == limit) {
      more = true;
      break;
    }
    builds.push_back(std::move(*it));
  }
  return {200, {{"builds", std::move(builds)}, {"more", more}}};
}

ApiReply BuildsApi::RawLog(const std::string& id, std::string& text) const {
  if (!IsValidJobId(id)) return {400, {{"error", "id: not a job id"}}};
  std::string error;
  const bool has_state = JobStateStore(conn_.builds_kv()).Get(id, &error).has_value();
  if (!error.empty()) return {503, {{"error", "NATS is unavailable: " + error}}};
  bool has_log = false;
  auto read = ReadLog(conn_, id, LogReadOptions{}, [&](const LogPiece& piece) {
    has_log = true;
    text += piece.chunk.text;
    // A marker stands for the lines left out: its text is one line without a newline.
    if (piece.chunk.is_marker() && !text.empty() && text.back() != '\n') text += '\n';
    return true;
  });
  if (!read) return {503, {{"error", "reading the log: " + read.error()}}};
  if (!has_state && !has_log) return {404, {{"error", "no job with id '" + id + "'"}}};
  return {200, nullptr};
}

ApiReply BuildsApi::LogTail(const std::string& id, const std::string& max_bytes) const {
  if (!IsValidJobId(id)) return {400, {{"error", "id: not a job id"}}};
  std::uint64_t keep_bytes = kDefaultTailBytes;
  if (!max_bytes.empty()) {
    auto parsed = NumberIn(max_bytes, 1, kMaxTailBytes);
    if (!parsed) return {400, {{"error", "max_bytes: must be a number from 1 to " + std::to_string(kMaxTailBytes)}}};
    keep_bytes = *parsed;
  }
  std::string error;
  const bool has_state = JobStateStore(conn_.builds_kv()).Get(id, &error).has_value();
  if (!error.empty()) return {503, {{"error", "NATS is unavailable: " + error}}};
  auto tail = ReadLogTail(conn_, id, keep_bytes);
  if (!tail) return {503, {{"error", "reading the log: " + tail.error()}}};
  if (!has_state && tail->pieces.empty()) return {404, {{"error", "no job with id '" + id + "'"}}};
  nlohmann::json events = nlohmann::json::array();
  for (const LogPiece& piece : tail->pieces) {
    events.push_back({{"id", LogEventId(piece.after)}, {"data", LogEventJson(piece.chunk, piece.first_line)}});
  }
  return {200,
          {{"events", std::move(events)},
           {"first_line", tail->pieces.empty() ? 1 : tail->pieces.front().first_line},
           {"lines", tail->lines}}};
}

ApiReply BuildsApi::Rebuild(const std::string& id) const {
  if (!IsValidJobId(id)) return {400, {{"error", "id: not a job id"}}};
  std::string error;
  auto stored = JobStateStore(conn_.builds_kv()).Get(id, &error);
  if (!stored) {
    if (!error.empty()) return {503, {{"error", "NATS is unavailable: " + error}}};
    return {404, {{"error", "no job with id '" + id + "'"}}};
  }
  const nlohmann::json& state = stored->state;
  const std::string status = state.value("status", "");
  if (!IsTerminalStatus(status)) {
    return {409, {{"error", "job " + id + " has not ended (" + status + "): wait for it or cancel it first"},
                  {"status", status}}};
  }
  auto refuse = [&id](const std::string& why) {
    return ApiReply{422, {{"error", "job " + id + " cannot be rebuilt: " + why}}};
  };
  Job job;
  job.id = NewJobId();
  try {
    job.repo_url = state.at("repo").at("url").get<std::string>();
    job.repo_name = state["repo"].value("name", "");
    job.commit = state.at("commit").get<std::string>();
    job.branch = state.value("branch", "");
    job.pipeline = state.value("pipeline", "");
    job.trusted = state.value("trusted", true);
    if (state.contains("env")) job.env = state["env"].get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return refuse(std::string("its state lacks what it ran with (") + e.what() + ")");
  }
  if (job.repo_url.find(std::string(Redactor::kMask) + "@") != std::string::npos) {
    return refuse("its repository URL carried credentials, which kiln does not keep; submit it again");
  }
  if (auto valid = ValidateJob(job, rules_); !valid) return refuse(valid.error());
  JobPublication progress;
  if (auto published = PublishJob(conn_, job, progress); !published) {
    return {503, {{"error", "NATS is unavailable: " + published.error()}}};
  }
  return {202, {{"job", job.id}, {"status", "queued"}, {"rebuild_of", id}}};
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

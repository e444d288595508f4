// GET /builds/{id} and GET /builds?limit=N&repo=&branch=&status=&before=: job states from
// KV bucket "builds", the same entries `kiln status` and `kiln list` show; POST /builds/{id}/cancel, as `kiln cancel`;
// GET /builds/{id}/logs/search (gateway/log_search); POST /builds/{id}/replay, as
// `kiln dlq replay`; GET /builds/{id}/logs/raw, GET /builds/{id}/logs/tail and POST
// /builds/{id}/rebuild for the page.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "job/job.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

struct ApiReply {
  int status = 500;
  nlohmann::json body;
};

/// GET /builds's query parameters as given ("" = absent).
struct BuildsQuery {
  std::string limit, repo, branch, status, before;
};

class BuildsApi {
 public:
  static constexpr int kDefaultLimit = 20;
  static constexpr int kMaxLimit = 1000;

  /// `rules`: what a dead letter's message must be to be replayed (as the workers check it).
  BuildsApi(NatsConnection& conn, JobRules rules) : conn_(conn), rules_(rules) {}

  /// 200 with the state, 404 when there is no such job, 503 when NATS fails.
  ApiReply Get(const std::string& id) const;
  /// 200 {"builds": [...], "more"}, newest first, those that match every filter given
  /// (query parameters as given, "" = absent): `limit` (1..kMaxLimit, default
  /// kDefaultLimit), `repo` (repo.name), `branch`, `status` (one of the job statuses),
  /// `before` (a job id: the builds listed after it, the next page). 400 names a bad one.
  ApiReply List(const BuildsQuery& query) const;
  /// 200 text/plain: job `id`'s whole stored log as written (a download); 404 when the job
  /// has neither a state nor a log, 503.
  ApiReply RawLog(const std::string& id, std::string& text) const;
  /// 202 {"job": new id}: the same repository, commit, branch, pipeline, trust and env as
  /// job `id`, queued under a new id; 409 while `id` has not ended, 422 when its state does
  /// not say how to run it again (a repository URL whose credentials were redacted), 404, 503.
  ApiReply Rebuild(const std::string& id) const;
  /// 202 when the worker running it was asked to stop it, 200 when it was cancelled before it
  /// ran, 409 when it had already ended, 404, 504 when its worker does not answer, 503.
  ApiReply Cancel(const std::string& id) const;
  /// 202 when the job's dead letter was published again (its state queued), 404 when it
  /// has none, 422 when its message cannot run, 503.
  ApiReply Replay(const std::string& id) const;
  /// 200 {"matches": [{"line","step","attempt","text"}], "more" (the search stopped at
  /// `limit`: ask again after the last line for the next), "lines_searched"}; 400 for
  /// a missing or too long `q` or a malformed `after`/`limit` (query parameters as given,
  /// "" when absent), 404 when the job has neither a state nor a log, 503.
  ApiReply SearchLog(const std::string& id, const std::string& q, const std::string& after,
                     const std::string& limit) const;
  /// The end of job `id`'s stored log, so a page opens a long log at its tail at once:
  /// 200 {"events": [{"id", "data"}] (the last chunks, as GET /builds/{id}/logs sends them,
  /// together at least `max_bytes` of text or the whole log; kDefaultTailBytes when "",
  /// at most kMaxTailBytes), "first_line" (of the first event; 1: the whole log), "lines"
  /// (stored so far)}; 400 for a bad `max_bytes`, 404 when the job has neither a state nor
  /// a log, 503. Line numbers need the whole log counted: it is read, only its end kept.
  ApiReply LogTail(const std::string& id, const std::string& max_bytes) const;
  static constexpr std::uint64_t kDefaultTailBytes = 256 * 1024;
  static constexpr std::uint64_t kMaxTailBytes = 8 * 1024 * 1024;

 private:
  NatsConnection& conn_;
  JobRules rules_;
};

}  // namespace kiln

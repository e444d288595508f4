#include "gateway/build_streams.hpp"

#include <charconv>
#include <mutex>
#include <variant>
#include <vector>

#include "events/job_events.hpp"
#include "gateway/log_event_json.hpp"
#include "job/job.hpp"
#include "logs/log_chunk.hpp"
#include "state/job_state.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"
#include "transport/log_reader.hpp"
#include "transport/stream_follower.hpp"

namespace kiln {

namespace {

bool ParseNumber(std::string_view text, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

/// The status a terminal event leaves the job in; "" for any other event (a job.failed
/// that will be retried included: the job goes on).
std::string EndStatus(const nlohmann::json& event) {
  const std::string type = event.is_object() ? event.value("type", "") : "";
  if (!event_type::IsTerminal(type)) return "";
  if (type == event_type::kJobFailed && event.value("will_retry", false)) return "";
  return type.substr(type.find('.') + 1);
}

// One open stream: the followers feeding it and where it is. Owned by the followers'
// callbacks; the stream's close stops the followers, which frees it.
struct Feed {
  std::mutex mutex;
  std::shared_ptr<EventStream> stream;
  std::vector<std::unique_ptr<StreamFollower>> followers;
  bool closed = false;                 // the stream ended (either side)
  LogCursor cursor;                    // after the last message sent (line: logs only)
  std::optional<std::uint64_t> end_at;  // the job ended: its last stored sequence
  std::string end_status;

  /// Sends "end" and closes once the job ended and everything up to its end was sent.
  void EndIfDoneLocked() {
    if (closed || !end_at || cursor.stream_seq < *end_at) return;
    closed = true;
    stream->Send("", "end", nlohmann::json({{"status", end_status}}).dump());
    stream->Close();
  }

  /// Stops the followers (the stream's OnClose): outside the lock, as a callback may be
  /// waiting for it on a delivery thread.
  void Stop() {
    std::vector<std::unique_ptr<StreamFollower>> stopping;
    {
      std::lock_guard lock(mutex);
      closed = true;
      stopping.swap(followers);
    }
    stopping.clear();
  }
};

std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Opened {
  std::shared_ptr<Feed> feed;
  nlohmann::json state;
};

/// The checks both routes make, and a Feed for `stream` that stops its followers when the
/// stream ends.
std::variant<Opened, HttpResponse> Open(NatsConnection& conn, const std::string& id,
                                        const std::shared_ptr<EventStream>& stream) {
  if (!IsValidJobId(id)) return JsonError(400, "id: not a job id");
  std::string error;
  auto stored = JobStateStore(conn.builds_kv()).Get(id, &error);
  if (!stored) {
    if (!error.empty()) return JsonError(503, "NATS is unavailable: " + error);
    return JsonError(404, "no job with id '" + id + "'");
  }
  auto feed = std::make_shared<Feed>();
  feed->stream = stream;
  std::weak_ptr<Feed> weak = feed;
  stream->OnClose([weak] {
    if (auto alive = weak.lock()) alive->Stop();
  });
  return Opened{feed, stored->state};
}

/// The job's state is terminal: the stream ends after the last message stored on `subject`.
Result<bool> LearnEnd(NatsConnection& conn, Feed& feed, const std::string& stream_name, const std::string& subject,
                      const std::string& status) {
  auto last = LastStoredSequence(conn, stream_name, subject);
  if (!last) return MakeError(last.error());
  feed.end_at = last.value();
  feed.end_status = status;
  return true;
}

}  // namespace

std::optional<HttpResponse> BuildStreams::Events(const HttpRequest& req, const std::shared_ptr<EventStream>& stream) {
  const std::string& id = req.params[0];
  std::uint64_t after = 0;
  const std::string last_id = req.header("Last-Event-ID");
  if (!last_id.empty() && !ParseNumber(last_id, after)) {
    return JsonError(400, "Last-Event-ID: expected the sequence number of an event of this stream");
  }
  auto opened = Open(conn_, id, stream);
  if (auto* refusal = std::get_if<HttpResponse>(&opened)) return *refusal;
  auto [feed, state] = std::get<Opened>(std::move(opened));
  const std::string subject = std::string(subjects::kStatusPrefix) + id;

  std::lock_guard lock(feed->mutex);
  feed->cursor.stream_seq = after;
  const std::string status = state.value("status", "");
  if (IsTerminalStatus(status)) {
    if (auto learnt = LearnEnd(conn_, *feed, subjects::kEventsStream, subject, status); !learnt) {
      return JsonError(503, "NATS is unavailable: " + learnt.error());
    }
    feed->EndIfDoneLocked();
    if (feed->closed) return std::nullopt;
  }
  auto follower = StreamFollower::Start(
      conn_, subjects::kEventsStream, subject, after,
      [feed](std::uint64_t seq, std::uint64_t, std::string_view data) {
        std::lock_guard feed_lock(feed->mutex);
        if (feed->closed || seq <= feed->cursor.stream_seq) return;
        feed->cursor.stream_seq = seq;
        feed->stream->Send(std::to_string(seq), "", std::string(data));
        // The terminal event is the job's last: nothing follows it.
        if (std::string ended = EndStatus(nlohmann::json::parse(data, nullptr, false)); !ended.empty()) {
          feed->end_at = seq;
          feed->end_status = ended;
        }
        feed->EndIfDoneLocked();
      });
  if (!follower) return JsonError(503, "NATS is unavailable: " + follower.error());
  if (!feed->closed) feed->followers.push_back(std::move(follower.value()));
  return std::nullopt;
}

std::optional<HttpResponse> BuildStreams::Logs(const HttpRequest& req, const std::shared_ptr<EventStream>& stream) {
  const std::string& id = req.params[0];
  LogCursor from;
  if (const std::string last_id = req.header("Last-Event-ID"); !last_id.empty()) {
    auto colon = last_id.find(':');
    if (colon == std::string::npos || !ParseNumber(std::string_view(last_id).substr(0, colon), from.stream_seq) ||
        !ParseNumber(std::string_view(last_id).substr(colon + 1), from.line)) {
      return JsonError(400, "Last-Event-ID: expected '<sequence>:<line>' as this stream's ids are");
    }
  }
  auto opened = Open(conn_, id, stream);
  if (auto* refusal = std::get_if<HttpResponse>(&opened)) return *refusal;
  auto [feed, state] = std::get<Opened>(std::move(opened));
  const std::string log_subject = std::string(subjects::kLogsPrefix) + id;

  // The end of a log is the job's terminal event (the worker stores the whole log before
  // it): watched from before the state is read, so that an end between the two is seen
  // by one or the other.
  NatsConnection& conn = conn_;  // outlives the server's streams (cli/gateway_command.cpp)
  auto watch = StreamFollower::Start(
      conn_, subjects::kEventsStream, std::string(subjects::kStatusPrefix) + id, std::nullopt,
      [&conn, feed, log_subject](std::uint64_t, std::uint64_t, std::string_view data) {
        std::string ended = EndStatus(nlohmann::json::parse(data, nullptr, false));
        if (ended.empty()) return;
        std::lock_guard feed_lock(feed->mutex);
        if (feed->closed || feed->end_at) return;
        if (LearnEnd(conn, *feed, subjects::kLogsStream, log_subject, ended)) feed->EndIfDoneLocked();
      });
  if (!watch) return JsonError(503, "NATS is unavailable: " + watch.error());

  std::lock_guard lock(feed->mutex);
  feed->cursor = from;
  feed->followers.push_back(std::move(watch.value()));
  std::string error;
  auto now = JobStateStore(conn_.builds_kv()).Get(id, &error);
  const std::string status = now ? now->state.value("status", "") : state.value("status", "");
  if (IsTerminalStatus(status) && !feed->end_at) {
    if (auto learnt = LearnEnd(conn_, *feed, subjects::kLogsStream, log_subject, status); !learnt) {
      return JsonError(503, "NATS is unavailable: " + learnt.error());
    }
  }
  feed->EndIfDoneLocked();
  if (feed->closed) return std::nullopt;

  auto follower = StreamFollower::Start(
      conn_, subjects::kLogsStream, log_subject, from.stream_seq,
      [feed](std::uint64_t seq, std::uint64_t, std::string_view data) {
        std::lock_guard feed_lock(feed->mutex);
        if (feed->closed || seq <= feed->cursor.stream_seq) return;
        // Lines are counted as ReadLog counts them, a chunk that is not ours included.
        const std::uint64_t first_line = feed->cursor.line + 1;
        auto chunk = DecodeLogChunk(data);
        feed->cursor.stream_seq = seq;
        if (chunk) {
          feed->cursor.line += LinesEndingIn(*chunk);
          feed->stream->Send(LogEventId(feed->cursor), "", JsonText(LogEventJson(*chunk, first_line)));
        }
        feed->EndIfDoneLocked();
      });
  if (!follower) return JsonError(503, "NATS is unavailable: " + follower.error());
  if (!feed->closed) feed->followers.push_back(std::move(follower.value()));
  return std::nullopt;
}

}  // namespace kiln

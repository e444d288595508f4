#include "transport/nats_job_sink.hpp"

#include <spdlog/spdlog.h>

#include <random>
#include <thread>

#include "events/job_events.hpp"
#include "transport/message_fit.hpp"
#include "transport/jetstream_setup.hpp"

namespace kiln {

namespace {
// Whether `stored` and the state in `text` differ only in their write tokens.
bool SameButForWriteToken(nlohmann::json stored, const std::string& text) {
  nlohmann::json ours = nlohmann::json::parse(text, nullptr, false);
  if (ours.is_discarded() || !ours.is_object() || !stored.is_object()) return false;
  stored.erase("write");
  ours.erase("write");
  return stored == ours;
}
}  // namespace

NatsJobSink::NatsJobSink(NatsConnection& conn, std::string job_id, nlohmann::json state, std::uint64_t revision,
                         CancellationToken* job_cancel, EventSink* observer, std::uint64_t log_max_bytes)
    : conn_(conn),
      store_(conn.builds_kv()),
      job_id_(std::move(job_id)),
      subject_(std::string(subjects::kStatusPrefix) + job_id_),
      job_cancel_(job_cancel),
      observer_(observer),
      state_(std::move(state)),
      revision_(revision) {
  log_ = std::make_unique<LogPublisher>(conn_, job_id_, state_.state().value("attempt", std::uint64_t{1}),
                                        log_max_bytes);
  // Opening std::random_device per job showed in the worker's profile: once per thread.
  static thread_local std::mt19937_64 random{std::random_device{}()};
  write_prefix_ = std::to_string(random()) + "-";
}

void NatsJobSink::LoseLease(const char* where) {
  if (!lease_lost_.exchange(true)) {
    spdlog::warn("job {}: lost its lease ({}): another worker runs a newer attempt; stopping, publishing nothing",
                 job_id_, where);
    if (job_cancel_ != nullptr) job_cancel_->cancel();
    if (observer_ != nullptr) observer_->publish({{"job", job_id_}, {"type", event_type::kAttemptLeaseLost}});
  }
}

std::size_t NatsJobSink::max_message_bytes() const { return conn_.max_payload(); }

std::string NatsJobSink::TextThatFits(const nlohmann::json& doc, const char* what) const {
  std::string text = MessageText(doc);
  const std::size_t max_payload = conn_.max_payload();
  const std::size_t limit = max_payload > kMessageHeaderRoom ? max_payload - kMessageHeaderRoom : max_payload;
  if (limit == 0 || text.size() <= limit) return text;
  nlohmann::json fitted = doc;
  std::string shrunk = FitInMessage(fitted, limit);
  if (shrunk.empty()) {
    spdlog::error("job {}: {} of {} bytes not sent: it does not fit the NATS server's max_payload of {} bytes, even "
                  "without its outputs and long strings",
                  job_id_, what, text.size(), max_payload);
  } else {
    spdlog::warn("job {}: {} of {} bytes shrunk to {} to fit the NATS server's max_payload of {} bytes", job_id_, what,
                 text.size(), shrunk.size(), max_payload);
  }
  return shrunk;
}

void NatsJobSink::log_line(std::string_view step, int attempt, std::string_view line) {
  // Not under mutex_: a state write may hold it for a round trip to NATS, and this is the
  // thread that reads the step's pipe.
  if (!lease_lost_.load()) log_->Append(step, attempt, line);
}

void NatsJobSink::NoteLogCountsLocked() {
  if (log_->version() != log_version_written_) dirty_ = true;
}

WriteOutcome NatsJobSink::WriteStateLocked() {
  log_version_written_ = log_->version();
  std::uint64_t lines = 0, bytes = 0;
  for (const auto& [step, count] : log_->counts()) {
    state_.record_log(step, count.lines, count.bytes);
    lines += count.lines;
    bytes += count.bytes;
  }
  state_.state()["log"] = {{"subject", log_->subject()}, {"lines", lines}, {"bytes", bytes}};
  const std::string token = write_prefix_ + std::to_string(++writes_);
  state_.state()["write"] = token;
  std::string error;
  const std::string text = TextThatFits(state_.state(), "state");
  if (text.empty()) {
    // Never sendable: not a reason to retry (Finish gives up at once), nor to lose the lease.
    state_unsendable_ = true;
    last_write_ = std::chrono::steady_clock::now();
    return WriteOutcome::unavailable;
  }
  state_unsendable_ = false;
  auto outcome = store_.WriteText(job_id_, text, revision_, &error);
  if (outcome == WriteOutcome::conflict && !unanswered_writes_.empty()) {
    // Maybe the entry moved on with one of our own unanswered writes: look before giving up.
    std::string read_error;
    auto stored = store_.Get(job_id_, &read_error);
    if (!stored) {
      outcome = WriteOutcome::unavailable;  // cannot tell now; decide on the next write
      error = read_error.empty() ? "entry missing" : read_error;
    } else if (unanswered_writes_.count(stored->state.value("write", ""))) {
      revision_ = stored->revision;
      unanswered_writes_.clear();
      // When what is stored already says all this write would (its acknowledgement was lost,
      // it was not), writing it again would add a revision: for a final state, a second one.
      outcome = SameButForWriteToken(stored->state, text) ? WriteOutcome::ok
                                                           : store_.WriteText(job_id_, text, revision_, &error);
    }
  }
  last_write_ = std::chrono::steady_clock::now();
  if (outcome == WriteOutcome::ok) {
    dirty_ = false;
    unanswered_writes_.clear();
  } else if (outcome == WriteOutcome::conflict) {
    LoseLease("state write");
  } else {
    unanswered_writes_.insert(token);
    spdlog::debug("job {}: state write deferred: {}", job_id_, error);
  }
  return outcome;
}

void NatsJobSink::PublishEvent(const nlohmann::json& event) {
  // A plain publish: stream BUILD_EVENTS stores it all the same, in the order sent, but the
  // server sends no acknowledgement back. Per no-op job that is 4 messages fewer from the
  // server and 4 callbacks fewer in the worker (bench/worker). What it gives up: a log line
  // when the server failed to store an event, which was all an acknowledgement gave (an
  // event was never re-sent); the KV state, written with compare-and-set, is the record.
  // JobEvents redacted the event already; MessageText also masks URL user-info of an event
  // built without it.
  const std::string body = TextThatFits(event, "event");
  if (body.empty()) {
    if (observer_ != nullptr) observer_->publish(event);
    return;
  }
  natsStatus s = natsConnection_Publish(conn_.nc(), subject_.c_str(), body.data(), static_cast<int>(body.size()));
  if (s != NATS_OK) spdlog::warn("job {}: event {} not published: {}", job_id_, event.value("type", ""), NatsError(s));
  if (observer_ != nullptr) observer_->publish(event);
}

void NatsJobSink::publish(const nlohmann::json& event) {
  if (lease_lost_.load()) return;
  const std::string type = event.value("type", "");
  std::lock_guard lock(mutex_);
  if (event_type::IsTerminal(type)) {
    terminal_ = event;  // the worker decides (Finish)
    return;
  }
  if (type == event_type::kStepLog) {
    // A step.log event built without JobEvents::log: its line goes to the log all the same.
    const auto& step = event.value("step", nlohmann::json());
    log_->Append(step.is_string() ? step.get<std::string>() : std::string(), event.value("attempt", 0),
                 event.value("message", ""));
    return;
  }
  if (state_.apply(event)) {
    dirty_ = true;
    // A write that fails for lack of NATS is retried by the next change or the heartbeat.
    if (std::chrono::steady_clock::now() - last_write_ >= kStateWriteInterval &&
        WriteStateLocked() == WriteOutcome::conflict) {
      return;
    }
  }
  PublishEvent(event);
}

std::optional<nlohmann::json> NatsJobSink::held_terminal() const {
  std::lock_guard lock(mutex_);
  return terminal_;
}

bool NatsJobSink::Finish(const nlohmann::json& event, std::chrono::steady_clock::time_point deadline) {
  // The whole log is stored before the terminal event: a reader that sees the event can
  // read all of it. A log NATS did not take by the deadline does not hold the result back.
  if (!log_->Finish(deadline)) {
    spdlog::warn("job {}: its log was not all stored before the deadline; publishing the result anyway", job_id_);
  }
  std::unique_lock lock(mutex_);
  state_.apply(event);
  dirty_ = true;
  auto wait = std::chrono::milliseconds(100);
  while (!lease_lost_.load()) {
    auto outcome = WriteStateLocked();
    if (outcome == WriteOutcome::ok) {
      PublishEvent(event);
      return true;
    }
    if (outcome == WriteOutcome::conflict) return false;
    if (state_unsendable_) {
      spdlog::error("job {}: final state cannot be sent (over the NATS server's max_payload); leaving the job to "
                    "redelivery",
                    job_id_);
      return false;
    }
    if (std::chrono::steady_clock::now() + wait > deadline) {
      spdlog::error("job {}: final state not written before the deadline; leaving the job to redelivery", job_id_);
      return false;
    }
    lock.unlock();
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::milliseconds(2000));
    lock.lock();
  }
  return false;
}

void NatsJobSink::Heartbeat() {
  if (lease_lost_.load()) return;
  std::lock_guard lock(mutex_);
  NoteLogCountsLocked();
  if (dirty_) {
    WriteStateLocked();
    return;
  }
  // Nothing to write: read the entry and check it is still at our revision.
  std::string error;
  auto stored = store_.Get(job_id_, &error);
  if (!stored) return;  // NATS away (or deleted by hand): decide on the next write
  if (stored->revision != revision_) LoseLease("heartbeat check");
}

void NatsJobSink::FlushIfDue() {
  if (lease_lost_.load()) return;
  std::lock_guard lock(mutex_);
  NoteLogCountsLocked();
  if (dirty_ && std::chrono::steady_clock::now() - last_write_ >= kStateWriteInterval) WriteStateLocked();
}

nlohmann::json NatsJobSink::state() const {
  std::lock_guard lock(mutex_);
  return state_.state();
}

}  // namespace kiln

#include "worker/worker.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>
#include <utility>

#include "events/job_events.hpp"
#include "secrets/redactor.hpp"
#include "state/job_state.hpp"
#include "transport/dead_letters.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"
#include "transport/nats_job_sink.hpp"
#include "util/cancellation.hpp"
#include "worker/attempt_outcome.hpp"
#include "worker/jetstream_message.hpp"
#include "worker/running_job.hpp"
#include "worker/status_subject_sink.hpp"

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long the end of an attempt may wait for NATS to write its final state.
constexpr auto kFinishDeadline = std::chrono::minutes(5);

}  // namespace

std::string DefaultWorkerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "worker");
  return std::string(host) + "-" + std::to_string(getpid());
}


Worker::Worker(const Config& config, NatsConnection& conn, const JobRunner& runner, std::string worker_id)
    : config_(config), conn_(conn), runner_(runner), worker_id_(std::move(worker_id)) {}

Worker::~Worker() {
  RequestStop();
  if (fetcher_.joinable()) fetcher_.join();
  for (auto& t : slots_) {
    if (t.joinable()) t.join();
  }
  if (heartbeat_.joinable()) heartbeat_.join();
  // Stopped, not destroyed, before the subscriptions go: a late advisory's hand-over is
  // given up at once.
  if (dead_letters_) dead_letters_->Stop();
  if (cancel_sub_ != nullptr) natsSubscription_Destroy(cancel_sub_);
  if (advisory_sub_ != nullptr) natsSubscription_Destroy(advisory_sub_);
  if (pull_ != nullptr) natsSubscription_Destroy(pull_);
}

Result<bool> Worker::Start() {
  if (auto r = EnsureStreams(conn_, config_.nats, config_.logs); !r) return r;
  if (auto r = EnsureConsumer(conn_, config_.nats, config_.worker); !r) return r;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = subjects::kJobsStream;
  so.Consumer = subjects::kConsumer;
  jsErrCode code = static_cast<jsErrCode>(0);
  const auto beat = std::max(milliseconds(500), config_.worker.ack_wait / 3);
  dead_letters_ = std::make_unique<DeadLetterPublisher>(conn_, DeadLetterRetry{}, beat);
  natsStatus s = js_PullSubscribe(&pull_, conn_.js(), subjects::kJobs, subjects::kConsumer, nullptr, &so, &code);
  if (s != NATS_OK) return MakeError("nats: binding to consumer kiln-workers: " + NatsError(s));
  std::string cancel_subject = std::string(subjects::kCancelPrefix) + "*";
  s = natsConnection_Subscribe(&cancel_sub_, conn_.nc(), cancel_subject.c_str(), &Worker::OnCancel, this);
  if (s != NATS_OK) return MakeError("nats: subscribing to " + cancel_subject + ": " + NatsError(s));
  // One worker of the group handles each advisory.
  s = natsConnection_QueueSubscribe(&advisory_sub_, conn_.nc(), subjects::kMaxDeliveriesAdvisory, "kiln-workers",
                                    &Worker::OnMaxDeliveries, this);
  if (s != NATS_OK) return MakeError("nats: subscribing to max-deliveries advisories: " + NatsError(s));
  natsConnection_FlushTimeout(conn_.nc(), 5000);

  for (int i = 0; i < config_.worker.pool_size; ++i) slots_.emplace_back([this] { SlotLoop(); });
  fetcher_ = std::thread([this] { FetchLoop(); });
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
  spdlog::info("worker {}: serving {} with {} slots (max deliver {}, ack wait {} ms)", worker_id_, subjects::kJobs,
               config_.worker.pool_size, config_.worker.max_retries + 1, config_.worker.ack_wait.count());
  return true;
}

void Worker::RequestStop() {
  {
    // Under the lock, so a thread between checking its wait predicate and sleeping cannot
    // miss the wake-up.
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  cv_.notify_all();
  slot_free_.notify_all();
  message_ready_.notify_all();
}

void Worker::SleepUnlessStopping(milliseconds duration) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, duration, [this] { return stopping(); });
}

bool Worker::Ack(natsMsg* msg, const std::string& what) {
  // Sent without waiting for the server's reply: by the time a message is acked its outcome is
  // already in the KV state (terminal, or a dead letter published), so an ack that gets lost
  // only means a redelivery that the state turns into an ack without a run. Waiting cost a
  // round trip per job on the slot and a reply message on the server (bench/worker).
  natsStatus s = natsMsg_Ack(msg, nullptr);
  if (s != NATS_OK) spdlog::warn("worker {}: ack of {} failed: {}", worker_id_, what, NatsError(s));
  return s == NATS_OK;
}

void Worker::PublishJobDead(EventSink& sink, const std::string& job_id, std::uint64_t seq, nlohmann::json fields) {
  JobEvents(job_id, worker_id_, redactor_, sink, seq).emit(event_type::kJobDead, std::move(fields));
}

void Worker::DeadLetterInvalid(natsMsg* msg, std::uint64_t delivered, std::uint64_t stream_seq,
                               const std::string& parse_error) {
  // The error may quote any field of the message, a secret's value too.
  const std::string error = redactor_ != nullptr ? redactor_->redact(parse_error) : parse_error;
  DeadLetter letter;
  letter.body = BodyOf(msg);
  letter.reason = "invalid message: " + error;
  letter.attempts = static_cast<int>(delivered);
  letter.worker = worker_id_;
  letter.stream_seq = stream_seq;
  // The id, when the message has a usable one: `kiln status ID` then says why.
  if (letter.body.size() <= 64 * 1024) {
    auto doc = nlohmann::json::parse(letter.body, nullptr, false);
    if (doc.is_object() && doc.contains("id") && doc["id"].is_string() && IsValidJobId(doc["id"].get<std::string>())) {
      letter.job_id = doc["id"].get<std::string>();
    }
  }
  spdlog::warn("worker {}: dead-lettering message {} (job '{}'): {}", worker_id_, stream_seq, letter.job_id,
               letter.reason);
  DeadLetterPublisher::Handoff handoff{std::move(letter), msg};
  handoff.published = [this, error](const DeadLetter& dead) {
    if (observer_ != nullptr) PublishJobDead(*observer_, dead.job_id, 1, {{"reason", dead.reason}});
    if (dead.job_id.empty()) return;
    JobStateStore store(conn_.builds_kv());
    nlohmann::json state = {{"id", dead.job_id},  {"status", "dead"},     {"reason", dead.reason},
                            {"error", error},       {"worker", worker_id_}, {"finished_at", NowIso8601()},
                            {"updated_at", NowIso8601()}, {"steps", nlohmann::json::array()}};
    std::uint64_t revision = 0;
    // Only for an id nobody uses: a malformed message must not overwrite a real job's state.
    if (store.Write(dead.job_id, state, revision) == WriteOutcome::ok) {
      StatusSubjectSink status_subject(conn_, dead.job_id);
      PublishJobDead(status_subject, dead.job_id, 1, {{"reason", dead.reason}, {"error", error}});
    }
  };
  // Acked once the letter is in; nak'ed if NATS refuses it for too long (the next delivery
  // tries again).
  dead_letters_->Submit(std::move(handoff));
}

void Worker::RunClaimed(natsMsg* msg, const Job& job, std::uint64_t delivered, std::uint64_t stream_seq,
                        nlohmann::json state, std::uint64_t revision) {
  auto running = std::make_shared<RunningJob>();
  running->msg = msg;
  running->id = job.id;
  std::uint64_t first_seq = state.value("next_seq", std::uint64_t{1});
  running->sink = std::make_unique<NatsJobSink>(conn_, job.id, std::move(state), revision, &running->token, observer_,
                                               config_.logs.max_bytes);
  {
    std::lock_guard lock(mutex_);
    running_[job.id] = running;
  }
  spdlog::info("worker {}: job {} attempt {} started ({} {})", worker_id_, job.id, delivered,
               Redactor::redact_url_credentials(job.repo_url), job.commit);
  JobOutcome outcome;
  try {
    outcome = runner_.run(job, *running->sink, running->token, {}, first_seq);
  } catch (const std::exception& e) {
    outcome.status = JobStatus::failed;
    outcome.retryable = false;
    outcome.error = std::string("internal error: ") + e.what();
  }
  // The workspace the job left goes after its result is published and acked, on every path.
  struct RemoveWorkspaceOnReturn {
    JobOutcome& outcome;
    ~RemoveWorkspaceOnReturn() { RemoveWorkspaceLeftBy(outcome); }
  } remove_workspace{outcome};
  {
    std::lock_guard lock(mutex_);
    running_.erase(job.id);
  }
  NatsJobSink& sink = *running->sink;
  auto deadline = Clock::now() + kFinishDeadline;
  auto finish_and = [&](nlohmann::json event) { return sink.Finish(event, deadline); };

  if (sink.lease_lost()) {
    spdlog::warn("worker {}: job {} attempt {}: lease lost; publishing no result", worker_id_, job.id, delivered);
    natsMsg_Destroy(msg);
    return;
  }
  nlohmann::json event = sink.held_terminal().value_or(nlohmann::json::object());
  if (event.empty() || !event.contains("type")) {
    // The runner ended without a terminal event (it threw): make one.
    event = {{"job", job.id}, {"seq", sink.state().value("next_seq", first_seq)}, {"worker", worker_id_},
             {"type", std::string("job.") + std::string(to_string(outcome.status))}};
    if (!outcome.error.empty()) event["error"] = outcome.error;
  }
  event["time"] = NowIso8601();
  event["job_attempt"] = delivered;

  AttemptResult result;
  result.status = outcome.status;
  result.retryable = outcome.retryable;
  result.error = outcome.error;
  result.attempt = static_cast<int>(delivered);
  result.max_attempts = config_.worker.max_retries + 1;
  result.interrupted_by_shutdown = running->interrupted_by_shutdown.load();
  result.timeout = config_.worker.timeout;
  result.retry_delay = config_.worker.retry_delay;
  result.retry_max_delay = config_.worker.retry_max_delay;
  // One generator per slot thread: the slots fail jobs concurrently.
  static thread_local std::mt19937_64 jitter{std::random_device{}()};
  const AttemptOutcome decision = DecideAttemptOutcome(result, jitter);

  if (decision.replaces_attempt_event) {
    event = {{"job", job.id}, {"seq", event.value("seq", first_seq)}, {"time", NowIso8601()}, {"worker", worker_id_}};
  }
  if (decision.event_type) event["type"] = *decision.event_type;
  for (const auto& [key, value] : decision.event_fields.items()) event[key] = value;

  const bool finished = finish_and(event);
  switch (decision.message) {
    case MessageAction::ack:
      if (finished) Ack(msg, "job " + job.id);
      break;
    case MessageAction::nak:
      if (finished) {
        if (decision.nak_delay.count() > 0) natsMsg_NakWithDelay(msg, decision.nak_delay.count(), nullptr);
        else natsMsg_Nak(msg, nullptr);
      }
      if (result.interrupted_by_shutdown) {
        spdlog::info("worker {}: job {} interrupted by shutdown; handed back for redelivery", worker_id_, job.id);
      } else if (finished) {
        spdlog::info("worker {}: job {} attempt {}/{} failed (retryable): {}; again in {} ms", worker_id_, job.id,
                     delivered, result.max_attempts, outcome.error, decision.nak_delay.count());
      }
      break;
    case MessageAction::dead_letter:
      if (finished) {
        DeadLetter letter{job.id, decision.dead_letter_reason, outcome.error, static_cast<int>(delivered), worker_id_,
                          "", stream_seq, BodyOf(msg)};
        // Acked only once the dead letter is in: else the redelivery publishes it (Process).
        dead_letters_->Submit(DeadLetterPublisher::Handoff(std::move(letter), std::exchange(msg, nullptr)));
        if (outcome.status == JobStatus::failed) {
          spdlog::warn("worker {}: job {} dead-lettered: {}: {}", worker_id_, job.id, decision.dead_letter_reason,
                       outcome.error);
        }
      }
      break;
  }
  if (msg != nullptr) natsMsg_Destroy(msg);  // unless the dead-letter publisher took it
}

void Worker::OnCancel(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<Worker*>(closure);
  std::string subject = natsMsg_GetSubject(msg);
  std::string id = subject.substr(std::string(subjects::kCancelPrefix).size());
  std::shared_ptr<RunningJob> job;
  {
    std::lock_guard lock(self->mutex_);
    auto it = self->running_.find(id);
    if (it != self->running_.end()) job = it->second;
  }
  if (job) {
    job->cancelled_by_user.store(true);
    job->token.cancel();
    spdlog::info("worker {}: job {}: cancel requested", self->worker_id_, id);
    if (const char* reply = natsMsg_GetReply(msg); reply != nullptr && *reply != '\0') {
      std::string answer = nlohmann::json{{"job", id}, {"worker", self->worker_id_}, {"cancelling", true}}.dump();
      natsConnection_Publish(nc, reply, answer.data(), static_cast<int>(answer.size()));
    }
  }
  natsMsg_Destroy(msg);
}

void Worker::Wait() {
  std::size_t running_count = 0;
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return stopping(); });
    // Under the lock: a slot may still be adding a job it claimed (TSan saw that race).
    running_count = running_.size();
  }
  spdlog::info("worker {}: stopping: no more pulls; {} job(s) running get {} ms to finish", worker_id_,
               running_count, config_.worker.shutdown_grace.count());
  if (fetcher_.joinable()) fetcher_.join();
  auto grace_end = Clock::now() + config_.worker.shutdown_grace;
  {
    std::unique_lock lock(mutex_);
    cv_.wait_until(lock, grace_end, [this] { return busy_ == 0; });
    if (busy_ > 0) {
      shutting_down_jobs_.store(true);
      for (auto& [id, job] : running_) {
        spdlog::warn("worker {}: job {} still running after the grace period; cancelling it for redelivery",
                     worker_id_, id);
        job->interrupted_by_shutdown.store(true);
        job->token.cancel();
      }
    }
  }
  cv_.notify_all();
  message_ready_.notify_all();
  for (auto& t : slots_) {
    if (t.joinable()) t.join();
  }
  if (heartbeat_.joinable()) heartbeat_.join();
  // After the slots: a job that died in the grace period has handed its letter over.
  if (dead_letters_) dead_letters_->Stop();
  conn_.Flush(5000);
  spdlog::info("worker {}: stopped", worker_id_);
}

}  // namespace kiln

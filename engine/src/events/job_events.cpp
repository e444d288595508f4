#include "events/job_events.hpp"

#include <chrono>
#include <ctime>

#include "secrets/redactor.hpp"

namespace kiln {

namespace event_type {
bool IsTerminal(std::string_view type) {
  return type == kJobSucceeded || type == kJobFailed || type == kJobCancelled || type == kJobTimedOut ||
         type == kJobDead;
}
}  // namespace event_type

std::string NowIso8601() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t seconds = system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms));
  return buffer;
}

JobEvents::JobEvents(std::string job_id, std::string worker, const Redactor* redactor, EventSink& sink,
                     std::uint64_t first_seq)
    : job_id_(std::move(job_id)), worker_(std::move(worker)), redactor_(redactor), sink_(sink), seq_(first_seq) {}

std::uint64_t JobEvents::next_seq() const {
  std::lock_guard lock(mutex_);
  return seq_;
}

nlohmann::json JobEvents::emit(std::string_view type, nlohmann::json fields) {
  nlohmann::json event = nlohmann::json::object();
  event["job"] = job_id_;
  event["time"] = NowIso8601();
  event["worker"] = worker_;
  event["type"] = type;
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) event[key] = std::move(value);
  }
  if (redactor_) redactor_->redact_json(event);
  std::lock_guard lock(mutex_);
  event["seq"] = seq_++;
  sink_.publish(event);
  return event;
}

void JobEvents::log(std::optional<std::string_view> step, int attempt, std::string_view message,
                    std::string_view level) {
  if (sink_.takes_log_lines()) {
    std::string line = level == "warn" ? "warning: " + std::string(message) : std::string(message);
    if (redactor_) line = redactor_->redact(line);
    sink_.log_line(step.value_or(std::string_view()), attempt, line);
    return;
  }
  LogEvent(step, attempt, message, level);
}

void JobEvents::log_redacted(std::string_view step, int attempt, std::string_view line) {
  if (sink_.takes_log_lines()) {
    sink_.log_line(step, attempt, line);
    return;
  }
  LogEvent(step, attempt, line, {});
}

void JobEvents::LogEvent(std::optional<std::string_view> step, int attempt, std::string_view message,
                         std::string_view level) {
  nlohmann::json fields = {{"message", message}};
  if (step) {
    fields["step"] = *step;
    fields["attempt"] = attempt;
  } else {
    fields["step"] = nullptr;
  }
  if (!level.empty()) fields["level"] = level;
  emit(event_type::kStepLog, std::move(fields));
}

}  // namespace kiln

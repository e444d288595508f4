#include "log/logging.hpp"

#include <atomic>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "config/config.hpp"
#include "events/job_events.hpp"
#include "secrets/redactor.hpp"

namespace kiln {

namespace {

std::atomic<const Redactor*> g_redactor{nullptr};
std::atomic<bool> g_json{true};

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto created = std::make_shared<spdlog::logger>("kiln", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    created->set_pattern("%v");
    created->set_level(spdlog::level::info);
    created->flush_on(spdlog::level::warn);
    return created;
  }();
  return *logger;
}

}  // namespace

std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

void SetUpLogging(const LoggingConfig& config, const Redactor* redactor) {
  g_redactor.store(redactor);
  g_json.store(config.format != "text");
  Logger().set_level(ParseLogLevel(config.level).value_or(spdlog::level::info));
}

void Log(spdlog::level::level_enum level, std::string_view message, const LogFields& fields) {
  spdlog::logger& logger = Logger();
  if (!logger.should_log(level)) return;
  const Redactor* redactor = g_redactor.load();
  std::string clean = redactor ? redactor->redact(message) : Redactor::redact_url_credentials(message);
  std::string line;
  if (g_json.load()) {
    nlohmann::json record = {{"time", NowIso8601()},
                             {"level", spdlog::level::to_string_view(level).data()},
                             {"msg", clean}};
    if (!fields.worker.empty()) record["worker"] = fields.worker;
    if (!fields.job.empty()) record["job"] = fields.job;
    if (!fields.step.empty()) record["step"] = redactor ? redactor->redact(fields.step) : std::string(fields.step);
    if (fields.duration_ms) record["duration_ms"] = *fields.duration_ms;
    line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = NowIso8601() + " " + std::string(spdlog::level::to_string_view(level).data());
    if (!fields.job.empty()) line += " [" + std::string(fields.job) + "]";
    if (!fields.step.empty()) line += " [" + std::string(fields.step) + "]";
    line += " " + clean;
    if (fields.duration_ms) line += " (" + std::to_string(*fields.duration_ms) + " ms)";
  }
  logger.log(level, "{}", line);
}

}  // namespace kiln

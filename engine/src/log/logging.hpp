// kiln's log lines: spdlog to stderr, as JSON lines or text, every line redacted.
//
// A job's lines carry the job id, and a step's lines the step and its duration, as fields
// in JSON ({"time","level","msg","job","step","duration_ms"}) and as brackets in text.
// Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>

namespace kiln {

class Redactor;
struct LoggingConfig;

struct LogFields {
  std::string_view job;
  std::string_view step;
  std::optional<std::int64_t> duration_ms;
  std::string_view worker;
};

/// Sets the level and format; `redactor` (may be null) cleans every line from now on.
void SetUpLogging(const LoggingConfig& config, const Redactor* redactor);
/// Level names: trace, debug, info, warn, error, off.
std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view name);

void Log(spdlog::level::level_enum level, std::string_view message, const LogFields& fields = {});

}  // namespace kiln

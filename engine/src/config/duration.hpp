// Durations in the config and in pipeline options: "90" (seconds), "250ms", "2s", "5m", "1h".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace kiln {

using Duration = std::chrono::milliseconds;

Result<Duration> ParseDuration(std::string_view text);
/// The shortest exact form: "1500ms", "2s", "5m", "1h".
std::string FormatDuration(Duration duration);

}  // namespace kiln

// The `schedules:` section: a list, unlike every other section, so it has its own reader.
// Internal to the config loader.
//
//   schedules:
//     - name: nightly-shop
//       cron: "0 2 * * *"
//       job: { repo: { url: "https://github.com/acme/shop.git" }, commit: "<sha>", branch: main }
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"

namespace kiln::config_schedules {

/// Reads the section's value into `out`; returns the problems, each naming the schedule
/// (by name, else by position), the key and the line in `file`.
std::vector<std::string> Read(const YAML::Node& value, const std::string& file, std::vector<ScheduleConfig>& out);

/// Checks each schedule's job against the rules that depend on other keys (build.allow_file_urls),
/// once the file and the environment are applied.
std::vector<std::string> CheckJobs(const Config& config);

/// [a-z0-9][a-z0-9_-]*, 1..64 characters: it becomes part of job ids and message ids.
bool IsScheduleName(std::string_view name);

}  // namespace kiln::config_schedules

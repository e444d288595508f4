#include "maintenance_steps.hpp"

#include "cache_gc.hpp"
#include "step_args.hpp"

namespace kiln::cache {

StepResult RunStatsStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig&) {
  if (std::string error = CheckArgs("stats", args, {}); !error.empty()) return StepResult::Terminal(error);
  const CacheStats stats = CollectStats(ctx.build_cache_dir());
  nlohmann::json areas = nlohmann::json::object();
  for (const auto& area : stats.areas) {
    areas[area.area] = {{"bytes", area.bytes}, {"entries", area.entries}, {"last_used", area.last_used_unix}};
  }
  return StepResult::Ok({{"total_bytes", stats.total_bytes}, {"areas", areas}},
                        std::to_string(stats.total_bytes) + " bytes in the build cache");
}

StepResult RunGcStep(const nlohmann::json& args, StepContext& ctx, const CacheConfig& config) {
  if (std::string error = CheckArgs("gc", args, {"max_size", "max_age"}); !error.empty()) {
    return StepResult::Terminal(error);
  }
  std::optional<std::uint64_t> max_size = config.max_size;
  std::optional<std::chrono::seconds> max_age = config.max_age;
  if (args.is_object() && args.contains("max_size") && !args["max_size"].is_null()) {
    std::uint64_t bytes = 0;
    if (auto error = SizeFromJson(args["max_size"], "cache.gc: max_size", &bytes); !error.empty()) {
      return StepResult::Terminal(error);
    }
    max_size = bytes;
  }
  if (args.is_object() && args.contains("max_age") && !args["max_age"].is_null()) {
    std::chrono::seconds age{};
    if (auto error = DurationFromJson(args["max_age"], "cache.gc: max_age", &age); !error.empty()) {
      return StepResult::Terminal(error);
    }
    max_age = age;
  }
  const GcReport report = GarbageCollect(ctx.build_cache_dir(), max_size, max_age);
  nlohmann::json evicted = nlohmann::json::array();
  for (const auto& e : report.evicted) {
    evicted.push_back({{"unit", e.unit}, {"bytes", e.bytes}, {"reason", e.reason}});
    ctx.log("cache.gc: evicted " + e.unit + " (" + std::to_string(e.bytes) + " bytes, " + e.reason + ")");
  }
  for (const auto& error : report.errors) ctx.warn("cache.gc: " + error);
  const std::string message = "evicted " + std::to_string(report.evicted.size()) + ", " +
                              std::to_string(report.bytes_before) + " -> " + std::to_string(report.bytes_after) +
                              " bytes";
  return StepResult::Ok({{"bytes_before", report.bytes_before},
                         {"bytes_after", report.bytes_after},
                         {"evicted", evicted},
                         {"skipped", report.skipped},
                         {"errors", report.errors}},
                        message);
}

}  // namespace kiln::cache

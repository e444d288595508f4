#include "metrics/cache_size_probe.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "app/maintenance_step.hpp"

namespace kiln {

CacheSizeProbe::CacheSizeProbe(EngineContext& engine, prometheus::Registry& registry)
    : engine_(engine),
      sizes_(prometheus::BuildGauge()
                 .Name("kiln_cache_size_bytes")
                 .Help("Size of the dependency cache per area (the cache plugin's cache.stats; area=\"total\" is all)")
                 .Register(registry)),
      remote_counts_(prometheus::BuildCounter()
                         .Name("kiln_cache_remote_total")
                         .Help("The cache's remote level (a shared registry): fetches and pushes by result")
                         .Register(registry)) {
  if (engine_.plugins->find("cache") == nullptr) return;  // no cache plugin: no cache metrics
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      Refresh();
      lock.lock();
      cv_.wait_for(lock, kRefresh, [this] { return stopping_; });
    }
  });
}

CacheSizeProbe::~CacheSizeProbe() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool CacheSizeProbe::Refresh() {
  Plugin* cache = engine_.plugins->find("cache");
  if (cache == nullptr) return false;
  StepResult result = RunMaintenanceStep(engine_, *cache, "stats", nlohmann::json::object(), [](std::string_view) {});
  if (!result.ok()) {
    spdlog::debug("metrics: cache.stats: {}", result.message);
    return false;
  }
  const nlohmann::json& out = result.outputs;
  if (out.contains("total_bytes") && out["total_bytes"].is_number()) {
    sizes_.Add({{"area", "total"}}).Set(out["total_bytes"].get<double>());
  }
  if (out.contains("areas") && out["areas"].is_object()) {
    for (const auto& [area, stats] : out["areas"].items()) {
      if (stats.is_object() && stats.contains("bytes") && stats["bytes"].is_number()) {
        sizes_.Add({{"area", area}}).Set(stats["bytes"].get<double>());
      }
    }
  }
  if (out.contains("remote")) remote_counts_.Update(out["remote"]);
  return true;
}

}  // namespace kiln

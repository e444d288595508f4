// kiln_cache_size_bytes{area}: the dependency cache's size per area, as the cache plugin
// itself counts it (its `cache.stats` step, run through the plugin host like `kiln cache
// stats`), refreshed in the background every kRefresh. The engine knows nothing of the
// cache's layout; without the cache plugin there is no such metric.
//
// The same run's "remote" counts become kiln_cache_remote_total{op,result}
// (cache_remote_counts.hpp), up to kRefresh late.
//
// A refresh walks the cache tree (like du), so it is not done per scrape: a scrape shows the
// sizes of the last refresh.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "metrics/cache_remote_counts.hpp"

namespace prometheus {
class Gauge;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace kiln {

struct EngineContext;

class CacheSizeProbe {
 public:
  static constexpr std::chrono::seconds kRefresh{60};

  CacheSizeProbe(EngineContext& engine, prometheus::Registry& registry);
  ~CacheSizeProbe();
  CacheSizeProbe(const CacheSizeProbe&) = delete;
  CacheSizeProbe& operator=(const CacheSizeProbe&) = delete;

  /// Runs cache.stats once and updates the gauges; false when it could not.
  bool Refresh();

 private:
  EngineContext& engine_;
  prometheus::Family<prometheus::Gauge>& sizes_;
  CacheRemoteCounts remote_counts_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kiln

// kiln_cache_remote_total{op,result}: what the cache plugin's remote level (a registry shared
// by workers) did, from the counts its cache.stats reports ("remote": {"fetch": {"hit": n,
// ...}, "push": {"ok": n, ...}}) since the plugin was loaded. The plugin counts in the worker
// process, where its background pushes end after their step; the probe turns the totals it
// reads into counter increments. op is fetch or push; result is the plugin's word (fetch:
// hit, miss, error, rejected; push: ok, error, dropped).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace prometheus {
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace kiln {

class CacheRemoteCounts {
 public:
  explicit CacheRemoteCounts(prometheus::Family<prometheus::Counter>& family) : family_(family) {}

  /// Adds what grew since the last call; a `remote` that is not an object (no remote level
  /// configured) adds nothing. Only op and result names of [a-z_] are taken, at most 16 of
  /// each, so a scrape's size stays bounded.
  void Update(const nlohmann::json& remote);

 private:
  prometheus::Family<prometheus::Counter>& family_;
  std::map<std::string, double> seen_;  // "op/result" -> the total last read
};

}  // namespace kiln

#include "metrics/cache_remote_counts.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>

namespace kiln {
namespace {

bool PlainName(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

}  // namespace

void CacheRemoteCounts::Update(const nlohmann::json& remote) {
  if (!remote.is_object()) return;
  for (const char* op : {"fetch", "push"}) {
    const auto results = remote.find(op);
    if (results == remote.end() || !results->is_object()) continue;
    int taken = 0;
    for (const auto& [result, value] : results->items()) {
      if (!PlainName(result) || !value.is_number() || ++taken > 16) continue;
      const double total = value.get<double>();
      double& seen = seen_[std::string(op) + "/" + result];
      // The plugin's counts only grow while it is loaded; a smaller total is a new count.
      const double delta = total >= seen ? total - seen : total;
      seen = total;
      prometheus::Counter& counter = family_.Add({{"op", op}, {"result", result}});
      if (delta > 0) counter.Increment(delta);
    }
  }
}

}  // namespace kiln

#include "cache_gc.hpp"

#include "modified_time.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "kiln/repository_area.hpp"
#include "keyed_store.hpp"
#include "language_detection.hpp"
#include "tree_copy.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An area's last use: its marker's time, else (never marked) the directory's own.
std::int64_t AreaLastUsed(const fs::path& dir) {
  const std::int64_t marked = ModifiedUnix(dir / std::string(kLastUsedMarker));
  return marked != 0 ? marked : ModifiedUnix(dir);
}

AreaStats LanguageAreaStats(const fs::path& root, Language language) {
  AreaStats stats;
  stats.area = std::string(LanguageName(language));
  const fs::path dir = root / stats.area;
  TreeUsage(dir, &stats.bytes, &stats.entries);
  stats.last_used_unix = AreaLastUsed(dir);
  return stats;
}

struct Unit {
  std::string name;   // "keyed/<scope>/<key>", "keyed/<key>" (from before scopes) or the area name
  std::string scope;  // keyed entries only ("" for those from before scopes)
  std::string key;    // keyed entries only
  std::uint64_t bytes = 0;
  std::int64_t last_used = 0;
  bool broken = false;
  bool unscoped = false;  // from before scopes: no job reads it any more
};

// Each repository's area (kiln/repository_area.hpp), as one unit named by its directory.
std::vector<AreaStats> RepositoryAreaStats(const fs::path& root) {
  std::vector<AreaStats> areas;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(root, ec)) {
    const std::string name = item.path().filename().string();
    if (!repository_area::IsAreaName(name) || !item.is_directory(ec) || item.is_symlink(ec)) continue;
    AreaStats area;
    area.area = name;
    TreeUsage(item.path(), &area.bytes, &area.entries);
    area.last_used_unix = AreaLastUsed(item.path());
    areas.push_back(area);
  }
  std::sort(areas.begin(), areas.end(), [](const AreaStats& a, const AreaStats& b) { return a.area < b.area; });
  return areas;
}

// Every scope's store, and last the store of the entries from before scopes.
std::vector<KeyedStore> KeyedStores(const fs::path& root) {
  std::vector<KeyedStore> stores;
  for (const auto& scope : KeyedStore::Scopes(root)) stores.emplace_back(root, scope);
  stores.emplace_back(root, "");
  return stores;
}

}  // namespace

CacheStats CollectStats(const fs::path& root) {
  CacheStats stats;
  for (Language language : AllLanguages()) {
    stats.areas.push_back(LanguageAreaStats(root, language));
  }
  AreaStats keyed;
  keyed.area = "keyed";
  for (const auto& store : KeyedStores(root)) {
    for (const auto& entry : store.List()) {
      keyed.bytes += entry.bytes;
      keyed.entries += 1;
      keyed.last_used_unix = std::max(keyed.last_used_unix, entry.last_used_unix);
    }
  }
  stats.areas.push_back(keyed);
  AreaStats repositories;
  repositories.area = "repositories";
  for (const auto& area : RepositoryAreaStats(root)) {
    repositories.bytes += area.bytes;
    repositories.entries += 1;
    repositories.last_used_unix = std::max(repositories.last_used_unix, area.last_used_unix);
  }
  stats.areas.push_back(repositories);
  for (const auto& area : stats.areas) stats.total_bytes += area.bytes;
  return stats;
}

GcReport GarbageCollect(const fs::path& root, std::optional<std::uint64_t> max_size,
                        std::optional<std::chrono::seconds> max_age) {
  GcReport report;
  std::vector<KeyedStore> stores = KeyedStores(root);
  for (auto& store : stores) store.CleanLeftovers(kLeftoverSeconds);
  const std::int64_t now = NowUnix();
  {
    // Areas whose removal a crash interrupted.
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(root, ec)) {
      if (item.path().filename().string().rfind(".evicting-", 0) == 0) RemoveTree(item.path());
    }
  }

  std::vector<Unit> units;
  for (Language language : AllLanguages()) {
    AreaStats area = LanguageAreaStats(root, language);
    if (area.bytes == 0 && area.entries == 0) continue;
    units.push_back(Unit{area.area, {}, {}, area.bytes, area.last_used_unix, false, false});
  }
  for (const auto& area : RepositoryAreaStats(root)) {
    units.push_back(Unit{area.area, {}, {}, area.bytes, area.last_used_unix, false, false});
  }
  for (const auto& store : stores) {
    const std::string prefix = store.scope().empty() ? "keyed/" : "keyed/" + store.scope() + "/";
    for (const auto& entry : store.List()) {
      units.push_back(Unit{prefix + entry.key, store.scope(), entry.key, entry.bytes, entry.last_used_unix,
                           !entry.valid, store.scope().empty()});
    }
  }
  for (const auto& unit : units) report.bytes_before += unit.bytes;
  report.bytes_after = report.bytes_before;

  // Broken and unscoped first, then oldest use first; ties by name so the order is stable.
  std::sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) {
    if (a.broken != b.broken) return a.broken;
    if (a.unscoped != b.unscoped) return a.unscoped;
    if (a.last_used != b.last_used) return a.last_used < b.last_used;
    return a.name < b.name;
  });

  auto evict = [&](const Unit& unit, const char* reason) {
    std::string error;
    bool gone = false;
    if (!unit.key.empty()) {
      gone = KeyedStore(root, unit.scope).Evict(unit.key, &error);
    } else {
      if (now - unit.last_used < kAreaInUseSeconds) {
        report.skipped.push_back(unit.name);
        return false;
      }
      // Rename first so that a build starting now finds an empty area, not half of one.
      const fs::path area = root / unit.name;
      const fs::path doomed = root / (".evicting-" + unit.name + "-" + std::to_string(now));
      std::error_code ec;
      fs::rename(area, doomed, ec);
      if (ec) {
        error = "cannot move \"" + area.string() + "\" aside: " + ec.message();
      } else {
        error = RemoveTree(doomed);
        gone = error.empty();
      }
    }
    if (!gone) {
      if (error.empty()) {
        report.skipped.push_back(unit.name);
      } else {
        report.errors.push_back(unit.name + ": " + error);
      }
      return false;
    }
    report.evicted.push_back(Eviction{unit.name, unit.bytes, reason});
    report.bytes_after -= std::min(report.bytes_after, unit.bytes);
    return true;
  };

  std::vector<bool> done(units.size(), false);
  for (std::size_t i = 0; i < units.size(); ++i) {
    const Unit& unit = units[i];
    if (unit.broken) {
      done[i] = evict(unit, "broken");
    } else if (unit.unscoped) {
      done[i] = evict(unit, "unscoped");
    } else if (max_age && now - unit.last_used > max_age->count()) {
      done[i] = evict(unit, "age");
    }
  }
  if (max_size) {
    for (std::size_t i = 0; i < units.size() && report.bytes_after > *max_size; ++i) {
      if (!done[i]) done[i] = evict(units[i], "size");
    }
  }
  return report;
}

}  // namespace kiln::cache

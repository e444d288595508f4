// kiln-cache-tool: the cache library from the command line, for benchmarks and for
// looking at a cache by hand. Not installed; the `kiln cache gc` command is the user's way.
//
//   kiln-cache-tool save    CACHE_ROOT WORKSPACE KEY PATH...
//   kiln-cache-tool restore CACHE_ROOT WORKSPACE KEY PATH...
//   kiln-cache-tool stats   CACHE_ROOT
//   kiln-cache-tool gc      CACHE_ROOT [MAX_SIZE|-] [MAX_AGE|-]
// Environment: KILN_CACHE_THREADS (copy threads, default auto), KILN_CACHE_DURABLE=1.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cache_config.hpp"
#include "cache_gc.hpp"
#include "keyed_store.hpp"
#include "kiln/repository_scope.hpp"
#include "safe_paths.hpp"

namespace {

using namespace kiln::cache;

int Usage() {
  std::fprintf(stderr,
               "usage: kiln-cache-tool save|restore CACHE_ROOT WORKSPACE KEY PATH...\n"
               "       kiln-cache-tool stats CACHE_ROOT\n"
               "       kiln-cache-tool gc CACHE_ROOT [MAX_SIZE|-] [MAX_AGE|-]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string command = argv[1];
  const std::string root = argv[2];
  CopyOptions copy;
  if (const char* threads = std::getenv("KILN_CACHE_THREADS")) copy.threads = static_cast<unsigned>(std::atoi(threads));

  if (command == "save" || command == "restore") {
    if (argc < 6) return Usage();
    const std::string key = argv[4];
    if (auto error = ValidateKey(key); !error.empty()) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 2;
    }
    std::vector<std::string> given(argv + 5, argv + argc);
    std::vector<WorkspacePath> paths;
    std::string error;
    if (!ResolveWorkspacePaths(argv[3], given, &paths, &error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 2;
    }
    // The scope of jobs without a repository: the bench measures the store, not scoping.
    KeyedStore store(root, std::string(kiln::repository_scope::kNoRepositoryScope));
    if (command == "save") {
      SaveOptions options;
      options.copy = copy;
      options.durable = std::getenv("KILN_CACHE_DURABLE") != nullptr;
      const SaveOutcome outcome = store.Save(key, paths, options);
      if (outcome.kind == SaveOutcome::Kind::failed) {
        std::fprintf(stderr, "save failed: %s\n", outcome.message.c_str());
        return 1;
      }
      std::printf("%s %llu files %llu bytes\n", outcome.kind == SaveOutcome::Kind::saved ? "saved" : "not saved",
                  static_cast<unsigned long long>(outcome.files), static_cast<unsigned long long>(outcome.bytes));
      return 0;
    }
    RestoreOptions options;
    options.copy = copy;
    const RestoreOutcome outcome = store.Restore(key, {}, paths, options);
    for (const auto& warning : outcome.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    if (outcome.hit == RestoreOutcome::Hit::miss) {
      std::printf("miss\n");
      return 1;
    }
    std::printf("hit %s %llu files\n", outcome.matched_key.c_str(), static_cast<unsigned long long>(outcome.files));
    return 0;
  }
  if (command == "stats") {
    const CacheStats stats = CollectStats(root);
    for (const auto& area : stats.areas) {
      std::printf("%-8s %14llu bytes %10llu entries\n", area.area.c_str(),
                  static_cast<unsigned long long>(area.bytes), static_cast<unsigned long long>(area.entries));
    }
    return 0;
  }
  if (command == "gc") {
    std::optional<std::uint64_t> max_size;
    std::optional<std::chrono::seconds> max_age;
    if (argc > 3 && std::string(argv[3]) != "-") {
      std::uint64_t bytes = 0;
      if (!ParseSize(argv[3], &bytes)) return Usage();
      max_size = bytes;
    }
    if (argc > 4 && std::string(argv[4]) != "-") {
      std::chrono::seconds age{};
      if (!ParseDuration(argv[4], &age)) return Usage();
      max_age = age;
    }
    const GcReport report = GarbageCollect(root, max_size, max_age);
    for (const auto& e : report.evicted) {
      std::printf("evicted %s %llu bytes (%s)\n", e.unit.c_str(), static_cast<unsigned long long>(e.bytes),
                  e.reason.c_str());
    }
    for (const auto& e : report.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    return report.errors.empty() ? 0 : 1;
  }
  return Usage();
}

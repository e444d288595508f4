#include "unique_suffix.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <random>

namespace kiln::cache {

std::string UniqueSuffix() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 random{std::random_device{}()};
  return std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(random() % 1000000);
}

}  // namespace kiln::cache

#include "cache_config.hpp"

#include <cctype>
#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::cache {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// Splits "1.5GiB" into 1.5 and "GiB". False when there is no number first.
bool SplitNumber(std::string_view text, double* number, std::string* unit) {
  text = Trim(text);
  std::size_t i = 0;
  bool digits = false;
  bool dot = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return false;
  try {
    *number = std::stod(std::string(text.substr(0, i)));
  } catch (...) {
    return false;
  }
  *unit = std::string(Trim(text.substr(i)));
  return true;
}

std::string Quote(const nlohmann::json& value) { return value.dump(); }

}  // namespace

bool ParseSize(std::string_view text, std::uint64_t* bytes) {
  double number = 0;
  std::string unit;
  if (!SplitNumber(text, &number, &unit)) return false;
  double factor = 0;
  static const struct {
    const char* unit;
    double factor;
  } kUnits[] = {
      {"", 1},          {"B", 1},           {"K", 1024.0},      {"KiB", 1024.0},
      {"KB", 1e3},      {"M", 1048576.0},   {"MiB", 1048576.0}, {"MB", 1e6},
      {"G", 1073741824.0}, {"GiB", 1073741824.0}, {"GB", 1e9},
      {"T", 1099511627776.0}, {"TiB", 1099511627776.0}, {"TB", 1e12},
  };
  for (const auto& u : kUnits) {
    if (unit == u.unit) factor = u.factor;
  }
  if (factor == 0) return false;
  const double value = std::floor(number * factor);
  if (!(value >= 0) || value >= 1.8e19) return false;
  *bytes = static_cast<std::uint64_t>(value);
  return true;
}

bool ParseDuration(std::string_view text, std::chrono::seconds* duration) {
  double number = 0;
  std::string unit;
  if (!SplitNumber(text, &number, &unit)) return false;
  double factor = 0;
  if (unit.empty() || unit == "s") factor = 1;
  if (unit == "m") factor = 60;
  if (unit == "h") factor = 3600;
  if (unit == "d") factor = 86400;
  if (unit == "w") factor = 7 * 86400;
  if (factor == 0) return false;
  const double value = std::floor(number * factor);
  if (!(value >= 0) || value > 1e15) return false;
  *duration = std::chrono::seconds(static_cast<std::int64_t>(value));
  return true;
}

std::string SizeFromJson(const nlohmann::json& value, std::string_view key, std::uint64_t* bytes) {
  if (value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
    *bytes = value.get<std::uint64_t>();
    return {};
  }
  if (value.is_string() && ParseSize(value.get<std::string>(), bytes)) return {};
  return std::string(key) + ": must be a size like \"10GiB\", \"500MB\" or a number of bytes, got " +
         Quote(value);
}

std::string DurationFromJson(const nlohmann::json& value, std::string_view key,
                             std::chrono::seconds* duration) {
  if (value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
    *duration = std::chrono::seconds(value.get<std::int64_t>());
    return {};
  }
  if (value.is_string() && ParseDuration(value.get<std::string>(), duration)) return {};
  return std::string(key) + ": must be a duration like \"14d\", \"12h\", \"90s\" or a number of seconds, got " +
         Quote(value);
}

namespace {

// A registry reference's repository part: lower-case components of [a-z0-9] separated by
// one of ". _ - __", as the distribution spec has it; the scope is appended as one more.
bool ValidRepositoryPath(std::string_view path) {
  if (path.empty()) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view component = path.substr(start, end - start);
    if (component.empty() || !std::isalnum(static_cast<unsigned char>(component.front())) ||
        !std::isalnum(static_cast<unsigned char>(component.back()))) {
      return false;
    }
    for (char c : component) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

bool ValidHost(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string ParseRemoteCacheConfig(const nlohmann::json& section, RemoteCacheConfig* config) {
  *config = RemoteCacheConfig{};
  if (section.is_null()) return {};
  if (!section.is_object()) return "cache.remote: must be a mapping, got " + Quote(section);
  for (const auto& [key, value] : section.items()) {
    if (key == "registry") {
      const std::string text = value.is_string() ? value.get<std::string>() : std::string();
      const auto slash = text.find('/');
      if (!value.is_string() || text.find("://") != std::string::npos || !ValidHost(text.substr(0, slash)) ||
          (slash != std::string::npos && !ValidRepositoryPath(text.substr(slash + 1)))) {
        return "cache.remote.registry: must be \"host[:port]/path\" with a lower-case path, no scheme "
               "(\"registry.example.com/kiln-cache\"), got " + Quote(value);
      }
      config->registry = text;
    } else if (key == "secret") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return "cache.remote.secret: must be the name of a secret holding \"user:password\", got " + Quote(value);
      }
      config->secret = value.get<std::string>();
    } else if (key == "tls_verify") {
      if (value.is_boolean()) {
        config->tls_verify = value.get<bool>();
      } else if (value.is_string() && (value == "true" || value == "false")) {
        config->tls_verify = value == "true";
      } else {
        return "cache.remote.tls_verify: must be true or false, got " + Quote(value);
      }
    } else if (key == "cert_dir") {
      if (!value.is_string() || value.get<std::string>().empty() || value.get<std::string>().front() != '/') {
        return "cache.remote.cert_dir: must be an absolute directory path, got " + Quote(value);
      }
      config->cert_dir = value.get<std::string>();
    } else if (key == "timeout") {
      if (auto error = DurationFromJson(value, "cache.remote.timeout", &config->timeout); !error.empty()) return error;
      if (config->timeout.count() == 0) return "cache.remote.timeout: must be more than 0 seconds";
    } else {
      return "cache.remote." + key + ": unknown key (known: registry, secret, tls_verify, cert_dir, timeout)";
    }
  }
  if (config->registry.empty()) return "cache.remote.registry: missing (the registry and path the entries go to)";
  return {};
}

std::string ParseCacheConfig(const nlohmann::json& section, CacheConfig* config) {
  *config = CacheConfig{};
  if (section.is_null()) return {};
  if (!section.is_object()) return "cache: must be a mapping, got " + Quote(section);
  for (const auto& [key, value] : section.items()) {
    if (key == "max_size") {
      std::uint64_t bytes = 0;
      if (auto error = SizeFromJson(value, "cache.max_size", &bytes); !error.empty()) return error;
      config->max_size = bytes;
    } else if (key == "max_age") {
      std::chrono::seconds age{};
      if (auto error = DurationFromJson(value, "cache.max_age", &age); !error.empty()) return error;
      config->max_age = age;
    } else if (key == "copy_threads") {
      std::int64_t threads = -1;
      if (value.is_number_integer()) threads = value.get<std::int64_t>();
      if (value.is_string()) {
        try {
          std::size_t used = 0;
          threads = std::stoll(value.get<std::string>(), &used);
          if (used != value.get<std::string>().size()) threads = -1;
        } catch (...) {
          threads = -1;
        }
      }
      if (threads < 0 || threads > 64) {
        return "cache.copy_threads: must be a whole number from 0 (auto) to 64, got " + Quote(value);
      }
      config->copy_threads = static_cast<unsigned>(threads);
    } else if (key == "durable") {
      if (value.is_boolean()) {
        config->durable = value.get<bool>();
      } else if (value.is_string() && (value == "true" || value == "false")) {
        config->durable = value == "true";
      } else {
        return "cache.durable: must be true or false, got " + Quote(value);
      }
    } else if (key == "restore") {
      if (value != "auto" && value != "copy") return "cache.restore: must be \"auto\" or \"copy\", got " + Quote(value);
      config->overlay_restore = value == "auto";
    } else if (key == "remote") {
      if (auto error = ParseRemoteCacheConfig(value, &config->remote); !error.empty()) return error;
    } else {
      return "cache." + key + ": unknown key (known: max_size, max_age, copy_threads, durable, restore, remote)";
    }
  }
  return {};
}

}  // namespace kiln::cache

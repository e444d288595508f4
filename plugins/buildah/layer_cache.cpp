#include "layer_cache.hpp"

#include "image_naming.hpp"

namespace kiln::buildah {

std::string ParseLayerCache(const nlohmann::json& args, const BuildahConfig& config, LayerCache& out) {
  out = {};
  auto it = args.find("cache");
  if (it == args.end() || it->is_null()) {
    out.from = out.to = config.layer_cache;
    return {};
  }
  if (it->is_boolean() && !it->get<bool>()) {
    out.explicit_ = true;
    return {};
  }
  if (!it->is_object()) return "cache: must be false or { from = repository, to = repository }, got " + it->dump();
  out.explicit_ = true;
  for (const auto& [key, value] : it->items()) {
    if (key != "from" && key != "to") return "cache: unknown key '" + key + "' (known: from, to)";
    if (!value.is_string()) return "cache." + key + ": must be a repository, got " + value.dump();
    const std::string repository = value.get<std::string>();
    if (!IsValidRepository(repository) || repository.find('/') == std::string::npos) {
      return "cache." + key + ": must be a registry repository without tag or digest " +
             "(registry.example.com/kiln/cache), got '" + repository + "'";
    }
    (key == "from" ? out.from : out.to) = repository;
  }
  if (!out.enabled()) return "cache: give from, to or both (or cache = false)";
  return {};
}

std::vector<std::string> LayerCacheOptions(const LayerCache& cache) {
  std::vector<std::string> options;
  if (!cache.from.empty()) options.insert(options.end(), {"--cache-from", cache.from});
  if (!cache.to.empty()) options.insert(options.end(), {"--cache-to", cache.to});
  return options;
}

}  // namespace kiln::buildah

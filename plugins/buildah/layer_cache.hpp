// Image layers shared through a registry: `buildah.build{ cache = { from = R, to = R } }`,
// by default `buildah.layer_cache`. buildah (1.27+) then looks up each step's layer in R
// by the step's cache key (`--cache-from`) and pushes the layers it builds there
// (`--cache-to`), so a worker with an empty store reuses what another built.
//
// Limits of Debian's buildah 1.28, written where they bite:
//  - the remote cache works on the layer cache: it needs `--layers`;
//  - one repository for --cache-from (several are accepted from 1.29 on), and 1.28 looks
//    in the local store before the registry only in an order fixed in 1.29: a stale local
//    layer wins;
//  - buildah itself talks to the registry during the build, so under chroot isolation
//    (which cannot cut a RUN step's network apart from buildah's) the build needs
//    network = "host"; with the default network = "none" the configured cache is skipped
//    (said in the log) and an explicit one is refused.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "buildah_config.hpp"

namespace kiln::buildah {

struct LayerCache {
  std::string from;  // repository to read layers from; "" none
  std::string to;    // repository to push built layers to; "" none
  bool explicit_ = false;  // given by the build (errors are the build's), not by the config
  bool enabled() const { return !from.empty() || !to.empty(); }
};

/// Reads the `cache` argument: absent (the config's buildah.layer_cache for both), `false`
/// (none), or `{ from = repository?, to = repository? }`. "" or an error naming the key.
std::string ParseLayerCache(const nlohmann::json& args, const BuildahConfig& config, LayerCache& out);

/// The bud options for `cache`: --cache-from R and/or --cache-to R.
std::vector<std::string> LayerCacheOptions(const LayerCache& cache);

}  // namespace kiln::buildah

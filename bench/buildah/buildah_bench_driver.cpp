// Runs one buildah.build the way the engine does (the real RuntimeStepContext and process
// runner, through the test harness), for bench/buildah/run.sh to time with hyperfine.
//
//   buildah_bench_driver STORE_DIR CONTEXT_DIR [none|host] [CREATED]
//   buildah_bench_driver push STORE_DIR IMAGE DESTINATION     (a plain-HTTP registry)
//   buildah_bench_driver cached STORE_DIR CONTEXT_DIR CACHE_REPOSITORY   (network host)
//
// CREATED (RFC 3339) fixes the org.opencontainers.image.created label; without it the label
// is the time of the build.
// STORE_DIR holds the buildah store (STORE_DIR/root, STORE_DIR/runroot, chroot isolation,
// storage driver from $STORAGE_DRIVER, default vfs);
// the job's workspace is a fresh temp dir each run. Prints the step's outputs as JSON.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "buildah_plugin.hpp"
#include "support/step_harness.hpp"
#include "support/temp_dir.hpp"

namespace {

nlohmann::json StoreConfig(const std::filesystem::path& store) {
  return {{"root", (store / "root").string()},
          {"runroot", (store / "runroot").string()},
          {"storage_driver", std::getenv("STORAGE_DRIVER") ? std::getenv("STORAGE_DRIVER") : "vfs"},
          {"isolation", "chroot"}};
}

/// The store config for talking to the bench's local registry (plain HTTP).
nlohmann::json RegistryStoreConfig(const std::filesystem::path& store) {
  nlohmann::json config = StoreConfig(store);
  config["tls_verify"] = false;
  return config;
}

/// One step through the harness; prints its outputs, or its message and returns 1.
int RunStep(const nlohmann::json& config, std::string_view step, const nlohmann::json& args) {
  kiln::buildah::BuildahPlugin plugin;
  if (std::string error = plugin.configure(config); !error.empty()) {
    std::cerr << error << "\n";
    return 2;
  }
  kiln::testing::TempDir job_root("kiln-buildah-bench");
  kiln::testing::StepHarness harness(job_root.path());
  harness.plugin_config = config;
  kiln::StepResult result = harness.run(plugin, step, args);
  if (!result.ok()) {
    std::cerr << result.message << "\n";
    return 1;
  }
  std::cout << result.outputs.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "push") {
    return RunStep(RegistryStoreConfig(argv[2]), "push", {{"image", argv[3]}, {"destination", argv[4]}});
  }
  if (argc == 5 && std::string(argv[1]) == "cached") {
    nlohmann::json config = RegistryStoreConfig(argv[2]);
    config["layer_cache"] = argv[4];
    return RunStep(config, "build", {{"context", argv[3]}, {"network", "host"}});
  }
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: %s STORE_DIR CONTEXT_DIR [none|host] [CREATED]\n", argv[0]);
    return 2;
  }
  nlohmann::json args = {{"context", argv[2]}, {"network", argc >= 4 ? argv[3] : "none"}};
  if (argc == 5) args["created"] = argv[4];
  return RunStep(StoreConfig(argv[1]), "build", args);
}

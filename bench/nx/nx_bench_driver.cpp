// Runs one nx.build the way the engine does (the real RuntimeStepContext and process
// runner, through the test harness), for bench/nx/nx_bench.sh.
//
//   nx_bench_driver build WORKSPACE_DIR STATE_DIR [KEY=VALUE...]
//     -> prints the step's outputs as JSON; KEY=VALUE pairs are the step's env
//
// STATE_DIR holds the job's build cache (STATE_DIR/cache/build): keep it between runs to
// measure a warm NX cache, remove it to measure a cold one.
#include <cstdio>
#include <iostream>
#include <string>

#include "build_step.hpp"
#include "support/step_harness.hpp"

namespace {

class BenchNxPlugin final : public kiln::Plugin {
 public:
  std::string_view name() const override { return "nx"; }
  std::string_view version() const override { return "bench"; }
  std::vector<std::string> steps() const override { return {"build"}; }
  kiln::StepResult run(std::string_view, const nlohmann::json& args, kiln::StepContext& ctx) override {
    return kiln::nx::RunBuild(ctx, args, kiln::nx::NxConfig{});
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || std::string(argv[1]) != "build") {
    std::fprintf(stderr, "usage: %s build WORKSPACE_DIR STATE_DIR [KEY=VALUE...]\n", argv[0]);
    return 2;
  }
  nlohmann::json env = nlohmann::json::object();
  for (int i = 4; i < argc; ++i) {
    const std::string pair = argv[i];
    const auto eq = pair.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "not KEY=VALUE: %s\n", argv[i]);
      return 2;
    }
    env[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  kiln::testing::StepHarness harness(argv[3]);
  BenchNxPlugin plugin;
  auto result = harness.run(plugin, "build", {{"dir", argv[2]}, {"env", env}});
  if (!result.ok()) {
    std::cerr << result.message << "\n";
    return 1;
  }
  std::cout << result.outputs.dump() << "\n";
  return 0;
}

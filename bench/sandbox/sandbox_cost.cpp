// Runs /bin/true N times each way, interleaved (plain; under a bare `bwrap --ro-bind / /`,
// the floor any bwrap sandbox pays; sandboxed without network; sandboxed with egress), so
// the machine's drift hits all of them alike; prints one JSON object with
// every sample in milliseconds. bench/sandbox/run.sh summarises several runs.
// Usage: kiln_bench_sandbox WORK_DIR [RUNS]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "process/process_runner.hpp"
#include "sandbox/sandbox_policy.hpp"
#include "sandbox/sandboxed_run.hpp"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  if (argc < 2) {
    std::cerr << "usage: kiln_bench_sandbox WORK_DIR [RUNS]\n";
    return 2;
  }
  const std::string workspace = std::string(argv[1]) + "/ws";
  const int runs = argc > 2 ? std::stoi(argv[2]) : 100;
  std::filesystem::create_directories(workspace);
  auto policy = kiln::MakeSandboxPolicy(kiln::SandboxConfig{}, {});
  if (!policy) {
    std::cerr << policy.error() << "\n";
    return 2;
  }
  kiln::ProcessRunOptions options;
  options.default_cwd = workspace;
  options.base_env = kiln::ScrubbedEnvironment(workspace);
  kiln::ProcessSpec spec;
  spec.argv = {"/bin/true"};
  kiln::ProcessSpec bare_bwrap;
  bare_bwrap.argv = {policy.value().bwrap, "--ro-bind", "/", "/", "/bin/true"};
  kiln::ProcessSpec egress = spec;
  egress.network = kiln::Network::egress;

  nlohmann::json samples = {{"plain", nlohmann::json::array()},
                            {"bare_bwrap", nlohmann::json::array()},
                            {"sandboxed", nlohmann::json::array()},
                            {"sandboxed_egress", nlohmann::json::array()}};
  auto time = [](auto&& run) {
    const auto start = Clock::now();
    const bool ok = run();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return ok ? ms : -1.0;
  };
  for (int i = 0; i < runs; ++i) {
    samples["plain"].push_back(time([&] { return kiln::RunProcess(spec, options).ok(); }));
    samples["bare_bwrap"].push_back(time([&] { return kiln::RunProcess(bare_bwrap, options).ok(); }));
    samples["sandboxed"].push_back(
        time([&] { return kiln::RunSandboxed(policy.value(), workspace, spec, options).ok(); }));
    if (i % 4 == 0) {  // slirp4netns adds tens of ms: fewer samples keep the run short
      samples["sandboxed_egress"].push_back(
          time([&] { return kiln::RunSandboxed(policy.value(), workspace, egress, options).ok(); }));
    }
  }
  std::cout << samples.dump() << "\n";
  return 0;
}

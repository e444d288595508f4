// kiln-git-bench: runs one operation of the git plugin, as a job would, for hyperfine to
// time against the git CLI (see run.sh). Uses the engine's real step context through
// StepHarness over <root>/work and <root>/cache/code.
//
//   kiln-git-bench --root DIR --op clone|fetch|checkout|sync --transport libgit2|cli
//                  --url URL --commit SHA
//   clone/fetch: bring the mirror to SHA (the same code path; clone when the mirror is absent)
//   checkout:    make <root>/work/src from the existing mirror
//   sync:        both, as git.sync does
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include "git_plugin.hpp"
#include "mirror_cache.hpp"
#include "remote_fetcher.hpp"
#include "repo_url.hpp"
#include "support/step_harness.hpp"
#include "sync_step.hpp"
#include "workspace_checkout.hpp"

namespace {

using namespace kiln;
using namespace kiln::git;

class BenchPlugin final : public Plugin {
 public:
  explicit BenchPlugin(Transport transport) : fetcher_(MakeFetcher(transport)) { config_.transport = transport; }
  std::string_view name() const override { return "gitbench"; }
  std::string_view version() const override { return "0"; }
  std::vector<std::string> steps() const override { return {"clone", "fetch", "checkout", "sync"}; }

  StepResult run(std::string_view step, const nlohmann::json& args, StepContext& ctx) override {
    if (step == "sync") return SyncStep(config_, *fetcher_).Run(args, ctx);
    std::string error;
    auto url = RepoUrl::Parse(args["url"].get<std::string>(), &error);
    if (!url) return StepResult::Terminal(error);
    const std::string commit = args["commit"];
    MirrorCache cache(ctx.code_cache_dir(), *fetcher_);
    if (step == "checkout") {
      CheckoutRequest request{cache.MirrorPath(*url), std::filesystem::path(ctx.workspace()) / "src", commit, "",
                              url->clean()};
      error = CheckoutWorkspace(request, ctx);
      return error.empty() ? StepResult::Ok() : StepResult::Terminal(error);
    }
    MirrorRequest request{*url, commit, "", Credential{}, FetchPolicy::always};
    MirrorResult result = cache.EnsureCommit(request, ctx);
    if (result.failure) return *result.failure;
    return StepResult::Ok({{"fetched_objects", result.fetched_objects}});
  }

 private:
  GitConfig config_;
  std::unique_ptr<RemoteFetcher> fetcher_;
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> options;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) break;
    options[argv[i] + 2] = argv[i + 1];
  }
  for (const char* key : {"root", "op", "transport", "url", "commit"}) {
    if (!options.count(key)) {
      std::cerr << "usage: kiln-git-bench --root DIR --op clone|fetch|checkout|sync --transport libgit2|cli "
                   "--url URL --commit SHA\n";
      return 2;
    }
  }
  const Transport transport = options["transport"] == "cli" ? Transport::cli : Transport::libgit2;
  BenchPlugin plugin(transport);
  kiln::testing::StepHarness harness(options["root"]);
  const auto start = std::chrono::steady_clock::now();
  StepResult result = harness.run(plugin, options["op"], {{"url", options["url"]}, {"commit", options["commit"]}});
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    std::cerr << to_string(result.status) << ": " << result.message << "\n" << harness.log_text();
    return 1;
  }
  std::printf("%s %s %.1f ms %s\n", options["op"].c_str(), options["transport"].c_str(), elapsed,
              result.outputs.dump().c_str());
  return 0;
}

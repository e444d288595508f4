// The probe: a plugin whose steps exercise every part of the SDK, for the engine's tests.
#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "kiln/plugin.hpp"

namespace {

class ProbePlugin final : public kiln::Plugin {
 public:
  std::string_view name() const override { return "probe"; }
  std::string_view version() const override { return "1.0.0"; }
  std::vector<std::string> steps() const override {
    return {"echo", "flaky", "fail", "throw", "sleep", "spawn", "progress", "secret", "context", "config"};
  }

  std::string configure(const nlohmann::json& section) override {
    if (section.is_null()) return {};
    if (!section.is_object()) return "probe: must be a table";
    for (const auto& [key, value] : section.items()) {
      if (key != "greeting") return "probe." + key + ": unknown key";
      if (!value.is_string()) return "probe.greeting: must be a string";
    }
    return {};
  }

  kiln::StepResult run(std::string_view step, const nlohmann::json& args, kiln::StepContext& ctx) override {
    if (step == "echo") return kiln::StepResult::Ok(args);
    if (step == "flaky") {
      // Fails retryably until it has been called `fail_times` times for `key`.
      const std::string key = ctx.job().value("id", "") + "/" + args.value("key", "default");
      int calls;
      {
        std::lock_guard lock(mutex_);
        calls = ++calls_[key];
      }
      if (calls <= args.value("fail_times", 2)) return kiln::StepResult::Retryable("flaky call " + std::to_string(calls));
      return kiln::StepResult::Ok({{"calls", calls}});
    }
    if (step == "fail") {
      std::string message = args.value("message", "probe failed");
      return args.value("kind", "terminal") == "retryable" ? kiln::StepResult::Retryable(message)
                                                            : kiln::StepResult::Terminal(message);
    }
    if (step == "throw") throw std::runtime_error(args.value("message", "probe threw"));
    if (step == "sleep" || step == "spawn") {
      kiln::ProcessSpec spec;
      if (step == "sleep") {
        spec.argv = {"sleep", std::to_string(args.value("seconds", 30))};
      } else {
        // A child that starts a grandchild in the background and writes its pid, then waits.
        spec.argv = {"sh", "-c", args.value("script", "sleep 30 & echo $! > grandchild.pid; wait")};
      }
      kiln::ProcessResult result = ctx.run(spec);
      if (result.timed_out || result.cancelled) return kiln::StepResult::Terminal("stopped");
      if (!result.ok()) return kiln::StepResult::Terminal("exit " + std::to_string(result.exit_code) + ": " + result.output_tail);
      return kiln::StepResult::Ok({{"output", result.output_tail}});
    }
    if (step == "progress") {
      for (int pct : {10, 50, 100}) ctx.progress(pct, "at " + std::to_string(pct));
      ctx.log("a log line");
      ctx.warn("a warning");
      return kiln::StepResult::Ok();
    }
    if (step == "secret") {
      auto value = ctx.secret(args.value("name", ""));
      if (!value) return kiln::StepResult::Terminal("no such secret");
      ctx.log("the secret is " + *value);
      // Echoing a secret in outputs and messages must still not leak it.
      return kiln::StepResult::Ok({{"value", *value}}, "used " + *value);
    }
    if (step == "context") {
      return kiln::StepResult::Ok({{"job", ctx.job()},
                                   {"workspace", ctx.workspace()},
                                   {"code_cache", ctx.code_cache_dir()},
                                   {"build_cache", ctx.build_cache_dir()}});
    }
    if (step == "config") return kiln::StepResult::Ok({{"config", ctx.config()}});
    return kiln::StepResult::Terminal("probe: no step " + std::string(step));
  }

 private:
  std::mutex mutex_;
  std::map<std::string, int> calls_;
};

}  // namespace

KILN_PLUGIN(ProbePlugin)

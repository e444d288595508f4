// The implementation behind a deferred test plugin's front. DEFERRED_NAME is set per
// target; DEFERRED_FEWER_STEPS makes an implementation that does not match its front.
#include <atomic>

#include "kiln/plugin.hpp"

namespace {

std::atomic<int> instances{0};

class DeferredImplementation final : public kiln::Plugin {
 public:
  DeferredImplementation() { ++instances; }
  std::string_view name() const override { return DEFERRED_NAME; }
  std::string_view version() const override { return "1.0.0"; }
#ifdef DEFERRED_FEWER_STEPS
  std::vector<std::string> steps() const override { return {"hello"}; }
#else
  std::vector<std::string> steps() const override { return {"hello", "instances"}; }
#endif

  std::string configure(const nlohmann::json& section) override {
    greeting_ = section.is_object() ? section.value("greeting", "hello") : "hello";
    return {};
  }

  kiln::StepResult run(std::string_view step, const nlohmann::json& args, kiln::StepContext&) override {
    if (step == "hello") return kiln::StepResult::Ok({{"greeting", greeting_}, {"to", args.value("to", "")}});
    if (step == "instances") return kiln::StepResult::Ok({{"instances", instances.load()}});
    return kiln::StepResult::Terminal("no step " + std::string(step));
  }

 private:
  std::string greeting_;
};

}  // namespace

KILN_PLUGIN(DeferredImplementation)

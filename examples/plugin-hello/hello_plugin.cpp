// hello: a small kiln plugin with two steps, as a starting point for your own.
//
//   hello.greet{ name = "kiln" }      -> { greeting = "Hello, kiln!" }     (the `hello:` config's style)
//   hello.write{ file = "hello.txt" } -> { path = "<workspace>/hello.txt" } (runs a process via the context)
//
// What it shows: the config section (configure), outputs, a terminal error for bad input,
// a retryable one for a transient failure, running a process through StepContext (so
// cancellation and timeouts reach it), and no exception leaving run().
#include <exception>
#include <filesystem>
#include <mutex>
#include <string>

#include <kiln/plugin.hpp>

#include "greeting.hpp"

namespace {

class HelloPlugin final : public kiln::Plugin {
 public:
  std::string_view name() const override { return "hello"; }
  std::string_view version() const override { return HELLO_VERSION; }
  std::vector<std::string> steps() const override { return {"greet", "write"}; }

  // `hello: { style: plain | loud }`. Every key is checked: a typo is an error naming it.
  std::string configure(const nlohmann::json& section) override {
    if (section.is_null()) return {};
    if (!section.is_object()) return "hello: must be a map";
    for (const auto& [key, value] : section.items()) {
      if (key != "style") return "hello." + key + ": unknown key; the only key is style";
      if (!value.is_string() || (value != "plain" && value != "loud")) {
        return "hello.style: must be 'plain' or 'loud'";
      }
    }
    std::lock_guard lock(mutex_);
    style_ = section.value("style", "plain");
    return {};
  }

  kiln::StepResult run(std::string_view step, const nlohmann::json& args, kiln::StepContext& ctx) override {
    // No exception may cross into the engine: everything below is caught here.
    try {
      if (step == "greet") return Greet(args, ctx);
      if (step == "write") return Write(args, ctx);
      return kiln::StepResult::Terminal("hello: no step '" + std::string(step) + "'");
    } catch (const std::exception& e) {
      return kiln::StepResult::Terminal(std::string("hello.") + std::string(step) + ": " + e.what());
    }
  }

 private:
  kiln::StepResult Greet(const nlohmann::json& args, kiln::StepContext& ctx) {
    if (!args.is_object() || !args.contains("name") || !args["name"].is_string()) {
      return kiln::StepResult::Terminal("hello.greet: name: expected a string");
    }
    std::string style;
    {
      std::lock_guard lock(mutex_);  // run() may be called from several jobs at once
      style = style_;
    }
    const std::string greeting = hello::Greeting(args["name"].get<std::string>(), style);
    if (greeting.empty()) return kiln::StepResult::Terminal("hello.greet: name: must be 1 to 100 characters");
    ctx.log(greeting);
    return kiln::StepResult::Ok({{"greeting", greeting}, {"job", ctx.job().value("id", "")}});
  }

  kiln::StepResult Write(const nlohmann::json& args, kiln::StepContext& ctx) {
    const std::string file = args.is_object() ? args.value("file", "hello.txt") : "hello.txt";
    if (file.empty() || file.find('/') != std::string::npos || file[0] == '.') {
      return kiln::StepResult::Terminal("hello.write: file: a plain file name, got '" + file + "'");
    }
    kiln::ProcessSpec spec;
    spec.argv = {"sh", "-c", "printf 'hello from %s\\n' \"$KILN_JOB\" > \"$1\"", "sh", file};
    spec.env = {{"KILN_JOB", ctx.job().value("id", "")}};
    kiln::ProcessResult result = ctx.run(spec);
    if (result.cancelled || result.timed_out) return kiln::StepResult::Terminal("hello.write: stopped");
    // A process that could not start may work next time (e.g. out of processes): retryable.
    if (!result.started) return kiln::StepResult::Retryable("hello.write: " + result.error);
    if (!result.ok()) return kiln::StepResult::Terminal("hello.write: exit " + std::to_string(result.exit_code));
    return kiln::StepResult::Ok({{"path", (std::filesystem::path(ctx.workspace()) / file).string()}});
  }

  std::mutex mutex_;
  std::string style_ = "plain";
};

}  // namespace

KILN_PLUGIN(HelloPlugin)

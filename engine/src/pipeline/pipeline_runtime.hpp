// Runs one pipeline script for one job in a LuaSandbox: the `job` global, the `kiln` API
// and one table per loaded plugin whose functions are its steps.
//
// kiln.step(name, [opts], fn) is where policy lives: events (step.started, step.retrying,
// step.finished), the retry policy (retryable errors only), the per-attempt timeout
// (which stops the step's Lua code at its next instruction and kills its processes) and
// the step's outputs. A plugin step called outside kiln.step runs as a step of its own
// with the default options.
//
// Errors a script sees are tables {kind = "retryable"|"terminal"|"cancelled"|"timed_out",
// message = "..."} with a locked metatable whose __tostring gives the message.
#pragma once

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/job_events.hpp"
#include "pipeline/lua_sandbox.hpp"
#include "pipeline/retry_policy.hpp"
#include "pipeline/runtime_step_context.hpp"
#include "util/cancellation.hpp"

namespace kiln {

class PluginHost;

enum class ErrorKind { retryable, terminal, cancelled, timed_out };
std::string_view to_string(ErrorKind kind);

struct PipelineSettings {
  SandboxLimits limits;
  RetryPolicy default_retry;         // attempts = 1 unless kiln.defaults says otherwise
  Duration default_timeout = std::chrono::minutes(30);
};

struct PipelineResult {
  bool ok = false;
  ErrorKind kind = ErrorKind::terminal;
  std::string message;
  nlohmann::json returned;                          // what the script returned
  nlohmann::json steps = nlohmann::json::array();   // {name, status, attempts, duration_ms, outputs}
};

class PipelineRuntime {
 public:
  /// `plugins` may be null (no plugin tables); `events` receives the step events;
  /// `job_token` stops everything (job cancel, job timeout).
  PipelineRuntime(const PipelineSettings& settings, const PluginHost* plugins, JobResources& resources,
                  JobEvents& events, const CancellationToken& job_token);
  ~PipelineRuntime();

  /// Compiles the script without running it (kiln validate). Errors carry file and line.
  static Result<bool> Check(std::string_view source, const std::string& file_name, const SandboxLimits& limits);

  PipelineResult run(std::string_view source, const std::string& file_name);

  // Called from the Lua C functions (pipeline_api.cpp).
  struct Frame;
  struct StepOptions {
    RetryPolicy retry;
    Duration timeout{0};
  };
  struct Attempt {
    bool ok = false;
    int results = 0;  // values left on the Lua stack on success
    ErrorKind kind = ErrorKind::terminal;
    std::string message;
  };
  using Body = int (*)(lua_State* L, PipelineRuntime& runtime, Frame& frame, void* data);

  lua_State* lua() const { return sandbox_->state(); }
  LuaSandbox& sandbox() { return *sandbox_; }
  const PluginHost* plugins() const { return plugins_; }
  JobResources& resources() { return resources_; }
  JobEvents& events() { return events_; }
  const CancellationToken& job_token() const { return job_token_; }
  Frame* current_frame() { return frames_.empty() ? nullptr : frames_.back().get(); }
  StepOptions default_options() const;
  void set_defaults(const RetryPolicy& retry, Duration timeout);
  Result<StepOptions> parse_options(const nlohmann::json& opts) const;

  /// Runs a step named `name`: kiln.step's logic. The body is called once per attempt with
  /// the frame pushed and must leave its results on the stack and return their count, or
  /// raise. Returns the number of results on success; raises the step's error otherwise.
  /// `arg_index`, when not 0, is a stack index whose value the body receives as its
  /// argument 2 (kiln.step's function).
  int run_step(lua_State* L, const std::string& name, const StepOptions& options, Body body, void* data,
               int arg_index = 0);
  /// Runs `body` in the current step, or as an implicit step named `name` outside one.
  int in_step(lua_State* L, const std::string& name, Body body, void* data);
  /// A StepReporter writing step.log / step.progress events for `frame`.
  StepReporter reporter_for(const Frame& frame);

  /// Pushes an error object and raises it. Never returns.
  [[noreturn]] void raise(lua_State* L, ErrorKind kind, const std::string& message);
  /// Classifies the error value at the top of the stack (never calls a metamethod).
  Attempt classify_error(lua_State* L, int status);
  /// The step whose failure ended the job, for its error message.
  const std::string& failed_step() const { return failed_step_; }

 private:
  void install_globals(const std::string& file_name);
  /// Why `outputs` cannot be kept in the job's state (one NATS message), or nothing; counts
  /// them in outputs_bytes_ when they can.
  std::optional<std::string> outputs_over_message_limit(const nlohmann::json& outputs);
  bool sleep_cancellable(Duration delay);

  PipelineSettings settings_;
  const PluginHost* plugins_;
  JobResources& resources_;
  JobEvents& events_;
  const CancellationToken& job_token_;
  std::unique_ptr<LuaSandbox> sandbox_;
  std::vector<std::unique_ptr<Frame>> frames_;
  RetryPolicy defaults_retry_;
  Duration defaults_timeout_;
  std::mt19937_64 random_;
  nlohmann::json steps_ = nlohmann::json::array();
  std::string failed_step_;
  std::size_t outputs_bytes_ = 0;  // of the steps that succeeded so far
};

/// Installs `job`, `kiln`, the plugin tables and print (pipeline_api.cpp). Runs protected.
int InstallPipelineApi(lua_State* L);
/// The registry key of the error objects' metatable.
inline constexpr const char* kErrorMetatable = "kiln.error";

struct PipelineRuntime::Frame {
  std::string name;
  int attempt = 1;
  CancellationToken token;
  explicit Frame(const CancellationToken* parent) : token(parent) {}
};

}  // namespace kiln

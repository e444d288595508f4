#include "pipeline/pipeline_runtime.hpp"

#include <thread>

#include "log/logging.hpp"
#include "pipeline/lua_json.hpp"

namespace kiln {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::retryable: return "retryable";
    case ErrorKind::terminal: return "terminal";
    case ErrorKind::cancelled: return "cancelled";
    case ErrorKind::timed_out: return "timed_out";
  }
  return "terminal";
}

namespace {

using Clock = std::chrono::steady_clock;

struct BodyCall {
  PipelineRuntime* runtime;
  PipelineRuntime::Frame* frame;
  PipelineRuntime::Body body;
  void* data;
};

// Runs a step body inside lua_pcall: argument 1 is the BodyCall, argument 2 the optional value.
int BodyTrampoline(lua_State* L) {
  auto* call = static_cast<BodyCall*>(lua_touserdata(L, 1));
  return call->body(L, *call->runtime, *call->frame, call->data);
}

std::int64_t ElapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

// A seed for each job's retry jitter. std::random_device is opened once per thread, not once
// per job (its set-up showed in the worker's profile).
std::uint64_t JitterSeed() {
  static thread_local std::mt19937_64 seeds{std::random_device{}()};
  return seeds();
}

ErrorKind KindOf(StopReason reason) {
  return reason == StopReason::timed_out ? ErrorKind::timed_out : ErrorKind::cancelled;
}

}  // namespace

PipelineRuntime::PipelineRuntime(const PipelineSettings& settings, const PluginHost* plugins,
                                 JobResources& resources, JobEvents& events, const CancellationToken& job_token)
    : settings_(settings),
      plugins_(plugins),
      resources_(resources),
      events_(events),
      job_token_(job_token),
      sandbox_(std::make_unique<LuaSandbox>(settings.limits)),
      defaults_retry_(settings.default_retry),
      defaults_timeout_(settings.default_timeout),
      random_(JitterSeed()) {}

PipelineRuntime::~PipelineRuntime() {
  frames_.clear();
  sandbox_.reset();
}

Result<bool> PipelineRuntime::Check(std::string_view source, const std::string& file_name, const SandboxLimits& limits) {
  LuaSandbox sandbox(limits);
  auto loaded = sandbox.load(source, "@" + file_name);
  if (!loaded) return loaded;
  lua_pop(sandbox.state(), 1);
  return true;
}

PipelineRuntime::StepOptions PipelineRuntime::default_options() const {
  return StepOptions{defaults_retry_, defaults_timeout_};
}

void PipelineRuntime::set_defaults(const RetryPolicy& retry, Duration timeout) {
  defaults_retry_ = retry;
  defaults_timeout_ = timeout;
}

Result<PipelineRuntime::StepOptions> PipelineRuntime::parse_options(const nlohmann::json& opts) const {
  StepOptions options = default_options();
  if (opts.is_null()) return options;
  if (!opts.is_object()) return MakeError("step options must be a table like { retry = {...}, timeout = \"5m\" }");
  for (const auto& [key, value] : opts.items()) {
    if (key == "retry") {
      auto retry = ParseRetryPolicy(value, options.retry);
      if (!retry) return MakeError(retry.error());
      options.retry = retry.value();
    } else if (key == "timeout") {
      auto timeout = DurationFromJson(value, "timeout");
      if (!timeout) return MakeError(timeout.error());
      options.timeout = timeout.value();
    } else {
      return MakeError("step options: unknown field '" + key + "' (retry, timeout)");
    }
  }
  return options;
}

StepReporter PipelineRuntime::reporter_for(const Frame& frame) {
  StepReporter reporter;
  std::string step = frame.name;
  int attempt = frame.attempt;
  JobEvents* events = &events_;
  // RuntimeStepContext masks every line before it reports it (StepReporter).
  reporter.log = [events, step, attempt](std::string_view line) { events->log_redacted(step, attempt, line); };
  reporter.warn = [events, step, attempt](std::string_view line) { events->log(step, attempt, line, "warn"); };
  reporter.progress = [events, step, attempt](double percent, std::string_view message) {
    events->emit(event_type::kStepProgress,
                 {{"step", step}, {"attempt", attempt}, {"percent", percent}, {"message", message}});
  };
  return reporter;
}

void PipelineRuntime::raise(lua_State* L, ErrorKind kind, const std::string& message) {
  lua_createtable(L, 0, 2);
  lua_pushstring(L, std::string(to_string(kind)).c_str());
  lua_setfield(L, -2, "kind");
  lua_pushlstring(L, message.data(), message.size());
  lua_setfield(L, -2, "message");
  luaL_setmetatable(L, kErrorMetatable);
  lua_error(L);
  __builtin_unreachable();
}

PipelineRuntime::Attempt PipelineRuntime::classify_error(lua_State* L, int status) {
  Attempt attempt;
  const int top = lua_gettop(L);
  if (sandbox_->fault() != SandboxFault::none) {
    attempt.message = sandbox_->fault_message();
  } else if (status == LUA_ERRMEM) {
    attempt.message = sandbox_->memory_message();
    sandbox_->clear_memory_exhausted();
  } else if (lua_type(L, top) == LUA_TTABLE && lua_getmetatable(L, top)) {
    luaL_getmetatable(L, kErrorMetatable);
    const bool ours = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (ours) {
      lua_pushliteral(L, "kind");
      lua_rawget(L, top);
      std::string kind = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "terminal";
      lua_pop(L, 1);
      lua_pushliteral(L, "message");
      lua_rawget(L, top);
      attempt.message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
      lua_pop(L, 1);
      if (kind == "retryable") attempt.kind = ErrorKind::retryable;
      if (kind == "cancelled") attempt.kind = ErrorKind::cancelled;
      if (kind == "timed_out") attempt.kind = ErrorKind::timed_out;
    } else {
      attempt.message = "error object is a table value";
    }
  } else if (lua_type(L, top) == LUA_TSTRING) {
    attempt.message = lua_tostring(L, top);
  } else if (lua_type(L, top) == LUA_TNUMBER) {
    lua_pushvalue(L, top);
    attempt.message = lua_tostring(L, -1);
    lua_pop(L, 1);
  } else {
    attempt.message = std::string("error object is a ") + luaL_typename(L, top) + " value";
  }
  if (status == LUA_ERRERR) attempt.message = "error in error handling: " + attempt.message;
  // A script can raise a message of megabytes; events and logs carry a bounded one.
  constexpr std::size_t kMaxMessage = 4096;
  if (attempt.message.size() > kMaxMessage) {
    attempt.message = attempt.message.substr(0, kMaxMessage) + "... (" +
                      std::to_string(attempt.message.size() - kMaxMessage) + " more bytes)";
  }
  lua_settop(L, top - 1);
  return attempt;
}

bool PipelineRuntime::sleep_cancellable(Duration delay) {
  sandbox_->begin_wait();
  const auto until = Clock::now() + delay;
  while (Clock::now() < until && !job_token_.stopped()) {
    auto left = until - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(left, std::chrono::milliseconds(50)));
  }
  sandbox_->end_wait();
  return !job_token_.stopped();
}

int PipelineRuntime::in_step(lua_State* L, const std::string& name, Body body, void* data) {
  if (Frame* frame = current_frame()) return body(L, *this, *frame, data);
  return run_step(L, name, default_options(), body, data);
}

int PipelineRuntime::run_step(lua_State* L, const std::string& name, const StepOptions& options, Body body,
                              void* data, int arg_index) {
  if (job_token_.stopped()) {
    raise(L, KindOf(job_token_.stop_reason()), "job stopped before step '" + name + "'");
  }
  if (arg_index != 0) arg_index = lua_absindex(L, arg_index);
  const auto step_started = Clock::now();
  Attempt outcome;
  int attempt = 1;
  for (;; ++attempt) {
    frames_.push_back(std::make_unique<Frame>(frames_.empty() ? &job_token_ : &frames_.back()->token));
    Frame& frame = *frames_.back();
    frame.name = name;
    frame.attempt = attempt;
    frame.token.set_timeout(options.timeout);
    events_.emit(event_type::kStepStarted, {{"step", name}, {"attempt", attempt}});
    sandbox_->watch(&frame.token);

    const int base = lua_gettop(L);
    BodyCall call{this, &frame, body, data};
    lua_pushcfunction(L, BodyTrampoline);
    lua_pushlightuserdata(L, &call);
    if (arg_index != 0) {
      lua_pushvalue(L, arg_index);
    } else {
      lua_pushnil(L);
    }
    const int status = lua_pcall(L, 2, LUA_MULTRET, 0);
    const StopReason stop = frame.token.stop_reason();
    frames_.pop_back();
    sandbox_->watch(frames_.empty() ? &job_token_ : &frames_.back()->token);

    if (status == LUA_OK && stop == StopReason::none) {
      outcome = Attempt{};
      outcome.ok = true;
      outcome.results = lua_gettop(L) - base;
      break;
    }
    if (status == LUA_OK) {
      lua_settop(L, base);
      outcome = Attempt{};
    } else {
      outcome = classify_error(L, status);
    }
    if (job_token_.stopped()) {
      outcome.kind = KindOf(job_token_.stop_reason());
      if (outcome.kind == ErrorKind::cancelled) outcome.message = "cancelled";
    } else if (stop == StopReason::timed_out && sandbox_->fault() == SandboxFault::none) {
      outcome.kind = ErrorKind::timed_out;
      outcome.message = "step '" + name + "' timed out after " + FormatDuration(options.timeout);
    }
    if (outcome.kind == ErrorKind::retryable && attempt < options.retry.attempts && sandbox_->fault() == SandboxFault::none) {
      const Duration delay = options.retry.delay(attempt, random_);
      events_.emit(event_type::kStepRetrying, {{"step", name},
                                               {"attempt", attempt},
                                               {"status", "retryable"},
                                               {"delay_ms", delay.count()},
                                               {"error", outcome.message}});
      if (sleep_cancellable(delay)) continue;
      outcome.kind = KindOf(job_token_.stop_reason());
    }
    break;
  }

  nlohmann::json outputs;
  if (outcome.ok && outcome.results > 0) {
    auto converted = LuaToJson(L, lua_gettop(L) - outcome.results + 1, "outputs");
    if (converted) outputs = std::move(converted.value());
    if (auto refused = outputs_over_message_limit(outputs)) {
      lua_pop(L, outcome.results);
      outcome = Attempt{};
      outcome.kind = ErrorKind::terminal;
      outcome.message = "step '" + name + "': " + *refused;
      outputs = nullptr;
    }
  }
  const std::int64_t duration_ms = ElapsedMs(step_started);
  const std::string status = outcome.ok ? "ok" : std::string(to_string(outcome.kind));
  nlohmann::json finished = {{"step", name}, {"attempt", attempt}, {"status", status}, {"duration_ms", duration_ms}};
  if (!outcome.ok) finished["message"] = outcome.message;
  finished["outputs"] = outputs.is_null() ? nlohmann::json::object() : outputs;
  events_.emit(event_type::kStepFinished, finished);
  {
    const std::string job_id = resources_.job.value("id", "");
    Log(outcome.ok ? spdlog::level::info : spdlog::level::warn,
        "step " + status + (attempt > 1 ? " after " + std::to_string(attempt) + " attempts" : "") +
            (outcome.ok ? "" : ": " + outcome.message),
        LogFields{job_id, name, duration_ms, {}});
  }
  nlohmann::json record = {{"name", name}, {"status", status}, {"attempts", attempt}, {"duration_ms", duration_ms}};
  if (!outputs.is_null()) record["outputs"] = outputs;
  if (!outcome.ok) record["error"] = outcome.message;
  steps_.push_back(std::move(record));

  if (outcome.ok) return outcome.results;
  if (failed_step_.empty() || frames_.empty()) failed_step_ = name;
  raise(L, outcome.kind, outcome.message);
}

std::optional<std::string> PipelineRuntime::outputs_over_message_limit(const nlohmann::json& outputs) {
  const std::size_t limit = events_.max_message_bytes();
  if (limit == 0 || outputs.is_null()) return std::nullopt;
  // The job's state is one NATS message and keeps every step's outputs twice (in the step's
  // entry and in the job's outputs); an eighth of it is left for the rest of the state.
  const std::size_t budget = (limit - limit / 8) / 2;
  const std::size_t size = outputs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
  if (outputs_bytes_ + size <= budget) {
    outputs_bytes_ += size;
    return std::nullopt;
  }
  return "outputs of " + std::to_string(size) + " bytes do not fit in the job's state: the NATS server's max_payload " +
         "is " + std::to_string(limit) + " bytes, which leaves " + std::to_string(budget) +
         " bytes for the outputs of all steps (" + std::to_string(outputs_bytes_) +
         " used by earlier steps); return less, or keep large data in a file of the workspace";
}

PipelineResult PipelineRuntime::run(std::string_view source, const std::string& file_name) {
  PipelineResult result;
  lua_State* L = lua();
  if (L == nullptr) {
    result.message = "cannot create a Lua state";
    return result;
  }
  sandbox_->watch(&job_token_);
  lua_pushcfunction(L, InstallPipelineApi);
  lua_pushlightuserdata(L, this);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    result.message = "cannot set up the pipeline: " + classify_error(L, LUA_ERRRUN).message;
    return result;
  }
  auto loaded = sandbox_->load(source, "@" + file_name);
  if (!loaded) {
    result.message = loaded.error();
    return result;
  }
  const int status = lua_pcall(L, 0, 1, 0);
  if (status == LUA_OK) {
    result.ok = true;
    auto returned = LuaToJson(L, -1, "result");
    if (returned) result.returned = std::move(returned.value());
    lua_pop(L, 1);
  } else {
    Attempt attempt = classify_error(L, status);
    result.kind = attempt.kind;
    result.message = attempt.message;
  }
  if (job_token_.stopped()) {
    result.ok = false;
    result.kind = KindOf(job_token_.stop_reason());
  }
  result.steps = steps_;
  return result;
}

}  // namespace kiln

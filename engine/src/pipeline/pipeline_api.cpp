// The Lua side of the pipeline runtime: `job`, `kiln.*`, the plugin tables and print.
// Every C function here gets its PipelineRuntime as upvalue 1. C++ exceptions never reach
// Lua: Protect() turns them into Lua errors (Lua's own errors are not std::exceptions and
// pass through untouched).
#include <filesystem>
#include <string>

#include "kiln/repository_area.hpp"
#include "kiln/workspace_path.hpp"
#include "pipeline/lua_json.hpp"
#include "pipeline/pipeline_runtime.hpp"
#include "plugin_host/plugin_host.hpp"
#include "secrets/secret_store.hpp"

namespace kiln {

namespace {

PipelineRuntime& Runtime(lua_State* L) {
  return *static_cast<PipelineRuntime*>(lua_touserdata(L, lua_upvalueindex(1)));
}

template <typename F>
int Protect(lua_State* L, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return luaL_error(L, "internal error: %s", e.what());
  }
}

// Text of all arguments, as print() joins them.
std::string JoinArguments(lua_State* L, int first) {
  std::string text;
  const int top = lua_gettop(L);
  for (int i = first; i <= top; ++i) {
    std::size_t length = 0;
    const char* piece = luaL_tolstring(L, i, &length);
    if (i > first) text += '\t';
    text.append(piece, length);
    lua_pop(L, 1);
  }
  return text;
}

void EmitLog(PipelineRuntime& runtime, const std::string& message) {
  if (auto* frame = runtime.current_frame()) {
    runtime.events().log(frame->name, frame->attempt, message);
  } else {
    runtime.events().log(std::nullopt, 0, message);
  }
}

// ---- kiln.step ---------------------------------------------------------------------------

int StepFunctionBody(lua_State* L, PipelineRuntime&, PipelineRuntime::Frame&, void*) {
  const int base = 2;  // 1 is the call, 2 the function
  lua_pushvalue(L, 2);
  lua_call(L, 0, LUA_MULTRET);
  return lua_gettop(L) - base;
}

int LuaStep(lua_State* L) {
  PipelineRuntime& runtime = Runtime(L);
  std::size_t name_length = 0;
  const char* name_data = luaL_checklstring(L, 1, &name_length);
  if (name_length == 0 || name_length > 200) return luaL_error(L, "kiln.step: the name must be 1 to 200 characters");
  std::string name(name_data, name_length);
  int function_index = 2;
  nlohmann::json opts;
  if (lua_type(L, 2) == LUA_TTABLE) {
    auto converted = LuaToJson(L, 2, "options");
    if (!converted) return luaL_error(L, "kiln.step '%s': %s", name.c_str(), converted.error().c_str());
    opts = std::move(converted.value());
    function_index = 3;
  }
  if (lua_type(L, function_index) != LUA_TFUNCTION) {
    return luaL_error(L, "kiln.step '%s': expected kiln.step(name, [options], function)", name.c_str());
  }
  auto options = runtime.parse_options(opts);
  if (!options) return luaL_error(L, "kiln.step '%s': %s", name.c_str(), options.error().c_str());
  return runtime.run_step(L, name, options.value(), StepFunctionBody, nullptr, function_index);
}

// ---- kiln.exec ---------------------------------------------------------------------------

struct ExecCall {
  ProcessSpec spec;
  bool caches = false;  // the repository's dependency caches mounted (cache.paths names them)
};

// Raises the step's error when the job's workspace cannot be made ready (made on first use).
void RequireWorkspace(lua_State* L, PipelineRuntime& runtime, const std::string& where) {
  runtime.sandbox().begin_wait();  // waiting for another holder's lease is not script time
  WorkspaceReadiness ready = PrepareWorkspace(runtime.resources());
  runtime.sandbox().end_wait();
  if (!ready.error.empty()) {
    runtime.raise(L, ready.retryable ? ErrorKind::retryable : ErrorKind::terminal, where + ": " + ready.error);
  }
}

int ExecBody(lua_State* L, PipelineRuntime& runtime, PipelineRuntime::Frame& frame, void* data) {
  auto& call = *static_cast<ExecCall*>(data);
  RequireWorkspace(L, runtime, "kiln.exec");
  if (call.spec.cwd.empty()) {
    call.spec.cwd = runtime.resources().workspace;
  } else {
    // Inside the job's workspace once symlinks and ".." are resolved (kiln/workspace_path.hpp).
    const auto cwd = workspace_path::Resolve(runtime.resources().workspace, call.spec.cwd);
    if (!cwd) runtime.raise(L, ErrorKind::terminal, "kiln.exec: cwd is outside the job's workspace: " + cwd.error);
    call.spec.cwd = cwd.path.string();
  }
  if (call.caches) {
    // Only the job's own repository's areas: a pipeline (maybe the repository's own) names
    // no host path, and the worker made every directory above the one mounted.
    const auto area = repository_area::AreaRoot(runtime.resources().build_cache_dir, runtime.resources().job);
    std::string failed = repository_area::MarkUsed(area);
    const auto deps = repository_area::DependencyRoot(area);
    std::error_code ec;
    if (failed.empty() && !std::filesystem::create_directory(deps, ec) && ec) {
      failed = "cannot create " + deps.string() + ": " + ec.message();
    }
    if (!failed.empty()) runtime.raise(L, ErrorKind::retryable, "kiln.exec: caches: " + failed);
    call.spec.mounts.push_back(SandboxMount{deps.string(), true});
  }
  RuntimeStepContext ctx(runtime.resources(), nlohmann::json(), frame.token, runtime.reporter_for(frame));
  runtime.sandbox().begin_wait();
  ProcessResult result = ctx.run(call.spec);
  runtime.sandbox().end_wait();
  if (!result.started) runtime.raise(L, ErrorKind::terminal, "kiln.exec: " + result.error);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, result.exit_code);
  lua_setfield(L, -2, "code");
  lua_pushlstring(L, result.output_tail.data(), result.output_tail.size());
  lua_setfield(L, -2, "output_tail");
  lua_pushboolean(L, result.timed_out);
  lua_setfield(L, -2, "timed_out");
  if (!result.stopped_by.empty()) {
    lua_pushlstring(L, result.stopped_by.data(), result.stopped_by.size());
    lua_setfield(L, -2, "stopped_by");
  }
  if (result.signal != 0) {
    lua_pushinteger(L, result.signal);
    lua_setfield(L, -2, "signal");
  }
  return 1;
}

int LuaExec(lua_State* L) {
  PipelineRuntime& runtime = Runtime(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  auto args = LuaToJson(L, 1, "kiln.exec");
  if (!args) return luaL_error(L, "%s", args.error().c_str());
  ExecCall call;
  std::string problem;
  const auto& spec = args.value();
  for (const auto& [key, value] : spec.items()) {
    if (key == "cmd") {
      if (!value.is_array() || value.empty()) {
        problem = "kiln.exec: cmd must be a non-empty list of strings, e.g. { \"make\", \"all\" }";
        break;
      }
      for (const auto& part : value) {
        if (!part.is_string()) {
          problem = "kiln.exec: every item of cmd must be a string";
          break;
        }
        call.spec.argv.push_back(part.get<std::string>());
      }
    } else if (key == "cwd") {
      if (!value.is_string()) problem = "kiln.exec: cwd must be a string";
      else call.spec.cwd = value.get<std::string>();
    } else if (key == "env") {
      if (!value.is_object()) {
        problem = "kiln.exec: env must be a table of strings";
        break;
      }
      for (const auto& [name, item] : value.items()) {
        if (!item.is_string()) {
          problem = "kiln.exec: env." + name + " must be a string";
          break;
        }
        call.spec.env[name] = item.get<std::string>();
      }
    } else if (key == "timeout") {
      auto timeout = DurationFromJson(value, "kiln.exec: timeout");
      if (!timeout) problem = timeout.error();
      else call.spec.timeout = timeout.value();
    } else if (key == "network") {
      // Builds and tests get none; an install that downloads asks for egress.
      if (value == "none") call.spec.network = Network::none;
      else if (value == "egress") call.spec.network = Network::egress;
      else problem = "kiln.exec: network must be \"none\" or \"egress\", got " + value.dump();
    } else if (key == "caches") {
      if (!value.is_boolean()) problem = "kiln.exec: caches must be true or false, got " + value.dump();
      else call.caches = value.get<bool>();
    } else {
      problem = "kiln.exec: unknown field '" + key + "' (cmd, cwd, env, timeout, network, caches)";
    }
    if (!problem.empty()) break;
  }
  if (problem.empty() && call.spec.argv.empty()) problem = "kiln.exec: cmd is required";
  if (!problem.empty()) return luaL_error(L, "%s", problem.c_str());
  const std::string name = "exec " + call.spec.argv[0];
  return runtime.in_step(L, name, ExecBody, &call);
}

// ---- plugin steps ------------------------------------------------------------------------

struct PluginCall {
  Plugin* plugin;
  std::string plugin_name;
  std::string step;
  nlohmann::json args;
};

int PluginBody(lua_State* L, PipelineRuntime& runtime, PipelineRuntime::Frame& frame, void* data) {
  auto& call = *static_cast<PluginCall*>(data);
  RequireWorkspace(L, runtime, call.plugin_name + "." + call.step);
  RuntimeStepContext ctx(runtime.resources(), runtime.plugins()->config_of(call.plugin_name), frame.token,
                         runtime.reporter_for(frame));
  runtime.sandbox().begin_wait();
  StepResult result = PluginHost::RunStep(*call.plugin, call.step, call.args, ctx);
  runtime.sandbox().end_wait();
  const std::string where = call.plugin_name + "." + call.step;
  if (frame.token.stopped()) {
    runtime.raise(L, frame.token.stop_reason() == StopReason::timed_out ? ErrorKind::timed_out : ErrorKind::cancelled,
                  where + ": stopped");
  }
  switch (result.status) {
    case StepResult::Status::ok:
      PushJson(L, result.outputs);
      return 1;
    case StepResult::Status::retryable:
      runtime.raise(L, ErrorKind::retryable, where + ": " + result.message);
    case StepResult::Status::terminal:
      break;
  }
  runtime.raise(L, ErrorKind::terminal, where + ": " + result.message);
}

int LuaPluginStep(lua_State* L) {
  PipelineRuntime& runtime = Runtime(L);
  PluginCall call;
  call.plugin_name = lua_tostring(L, lua_upvalueindex(2));
  call.step = lua_tostring(L, lua_upvalueindex(3));
  const std::string where = call.plugin_name + "." + call.step;
  call.plugin = runtime.plugins()->find(call.plugin_name);
  if (lua_type(L, 1) != LUA_TNONE && lua_type(L, 1) != LUA_TNIL && lua_type(L, 1) != LUA_TTABLE) {
    return luaL_error(L, "%s: expects a table of arguments, e.g. %s{ ... }", where.c_str(), where.c_str());
  }
  auto args = LuaToJson(L, 1, "");
  if (!args) return luaL_error(L, "%s: argument %s", where.c_str(), args.error().c_str());
  call.args = args.value().is_null() ? nlohmann::json::object() : std::move(args.value());
  return runtime.in_step(L, where, PluginBody, &call);
}

// The __index of a plugin table: a step the plugin does not have.
int UnknownStep(lua_State* L) {
  const char* plugin = lua_tostring(L, lua_upvalueindex(1));
  const char* step = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  return luaL_error(L, "plugin '%s' has no step '%s'", plugin, step);
}

// The __index of the table that stands for a well-known phase whose plugin is not loaded.
int UnloadedPluginStep(lua_State* L) {
  const char* plugin = lua_tostring(L, lua_upvalueindex(1));
  const char* step = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  return luaL_error(L, "%s.%s: the plugin '%s' is not loaded (see `kiln plugins`)", plugin, step, plugin);
}

bool IsWellKnownPhase(std::string_view name) {
  return name == "git" || name == "nx" || name == "buildah" || name == "cache";
}

// _G's __index: the protected globals (job, kiln, plugin tables); for a well-known phase
// whose plugin is not loaded, a table whose every step fails saying so.
int GlobalIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING && IsWellKnownPhase(lua_tostring(L, 2))) {
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, UnloadedPluginStep, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

// ---- the rest of kiln.* ------------------------------------------------------------------

int LuaLog(lua_State* L) {
  PipelineRuntime& runtime = Runtime(L);
  std::string text = JoinArguments(L, 1);
  return Protect(L, [&] {
    EmitLog(runtime, text);
    return 0;
  });
}

int LuaProgress(lua_State* L) {
  PipelineRuntime& runtime = Runtime(L);
  lua_Number percent = luaL_checknumber(L, 1);
  if (!(percent >= 0 && percent <= 100)) return luaL_error(L, "kiln.progress: percent must be between 0 and 100");
  std::string message = lua_isnoneornil(L, 2) ? "" : JoinArguments(L, 2);
  nlohmann::json fields = {{"percent", percent}, {"message", message}};
  if (auto* frame = runtime.current_frame()) {
    fields["step"] = frame->name;
    fields["attempt"] = frame->attempt;
  }
  return Protect(L, [&] {
    runtime.events().emit(event_type::kStepProgress, fields);
    return 0;
  });
}

int RaiseKind(lua_State* L, ErrorKind kind) {
  PipelineRuntime& runtime = Runtime(L);
  std::string message = lua_isnoneornil(L, 1) ? std::string(to_string(kind)) : JoinArguments(L, 1);
  runtime.raise(L, kind, message);
}

int LuaFail(lua_State* L) { return RaiseKind(L, ErrorKind::terminal); }
int LuaRetryable(lua_State* L) { return RaiseKind(L, ErrorKind::retryable); }

int LuaSecret(lua_State* L) {
  PipelineRuntime& runtime = Runtime(L);
  std::string name = luaL_checkstring(L, 1);
  const SecretStore* secrets = runtime.resources().secrets;
  std::optional<std::string> value = secrets ? secrets->get(name) : std::nullopt;
  if (!value) {
    std::string why = secrets && secrets->configured(name) ? "is configured but its source is empty or missing"
                                                           : "is not configured (secrets: in the config)";
    runtime.raise(L, ErrorKind::terminal, "kiln.secret: secret '" + name + "' " + why);
  }
  lua_pushlstring(L, value->data(), value->size());
  return 1;
}

int LuaDefaults(lua_State* L) {
  PipelineRuntime& runtime = Runtime(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  auto spec = LuaToJson(L, 1, "kiln.defaults");
  if (!spec) return luaL_error(L, "%s", spec.error().c_str());
  auto options = runtime.parse_options(spec.value());
  if (!options) return luaL_error(L, "kiln.defaults: %s", options.error().c_str());
  runtime.set_defaults(options->retry, options->timeout);
  return 0;
}

int LuaExists(lua_State* L) {
  PipelineRuntime& runtime = Runtime(L);
  std::string path = luaL_checkstring(L, 1);
  RequireWorkspace(L, runtime, "kiln.exists");
  // "" has always meant the workspace itself here.
  const auto resolved = workspace_path::Resolve(runtime.resources().workspace, path.empty() ? "." : path);
  if (!resolved) return luaL_error(L, "kiln.exists: outside the job's workspace: %s", resolved.error.c_str());
  std::error_code ec;
  lua_pushboolean(L, std::filesystem::exists(resolved.path, ec));
  return 1;
}

int ErrorToString(lua_State* L) {
  lua_pushliteral(L, "message");
  lua_rawget(L, 1);
  if (lua_type(L, -1) != LUA_TSTRING) lua_pushliteral(L, "error");
  return 1;
}

int ReadOnlyAssign(lua_State* L) {
  const char* key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  return luaL_error(L, "cannot assign '%s': this table is read-only", key);
}

int ReadOnlyPairs(lua_State* L) {
  lua_getglobal(L, "next");
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__index");
  lua_remove(L, -2);
  lua_pushnil(L);
  return 3;
}

// Replaces the table at the top by a read-only proxy of it; nested tables first.
void MakeReadOnly(lua_State* L) {
  luaL_checkstack(L, 6, "nested too deep");
  const int data = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, data) != 0) {
    if (lua_type(L, -1) == LUA_TTABLE) {
      MakeReadOnly(L);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, data);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_newtable(L);  // the proxy
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, data);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadOnlyAssign);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, ReadOnlyPairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_remove(L, data);
}

// _G: the script may add globals of its own, but not replace the protected ones.
int GlobalAssign(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) {
    const char* key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
    return luaL_error(L, "cannot assign the global '%s': it is part of the pipeline API", key);
  }
  lua_pop(L, 1);
  lua_rawset(L, 1);
  return 0;
}

}  // namespace

int InstallPipelineApi(lua_State* L) {
  auto* runtime = static_cast<PipelineRuntime*>(lua_touserdata(L, 1));
  lua_settop(L, 0);

  luaL_newmetatable(L, kErrorMetatable);
  lua_pushcfunction(L, ErrorToString);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);

  lua_newtable(L);  // the protected globals
  const int protected_globals = lua_gettop(L);

  // job
  PushJson(L, runtime->resources().job);
  MakeReadOnly(L);
  lua_setfield(L, protected_globals, "job");

  // kiln
  const luaL_Reg kiln_functions[] = {
      {"step", LuaStep},     {"exec", LuaExec},       {"log", LuaLog},         {"progress", LuaProgress},
      {"fail", LuaFail},     {"retryable", LuaRetryable}, {"secret", LuaSecret}, {"defaults", LuaDefaults},
      {"exists", LuaExists}, {nullptr, nullptr}};
  lua_newtable(L);
  lua_pushlightuserdata(L, runtime);
  luaL_setfuncs(L, kiln_functions, 1);
  lua_pushstring(L, runtime->resources().workspace.c_str());
  lua_setfield(L, -2, "workspace");
  MakeReadOnly(L);
  lua_setfield(L, protected_globals, "kiln");

  // one table per plugin
  if (const PluginHost* host = runtime->plugins()) {
    for (const auto& info : host->plugins()) {
      lua_newtable(L);
      for (const auto& step : info.steps) {
        lua_pushlightuserdata(L, runtime);
        lua_pushstring(L, info.name.c_str());
        lua_pushstring(L, step.c_str());
        lua_pushcclosure(L, LuaPluginStep, 3);
        lua_setfield(L, -2, step.c_str());
      }
      // A step the plugin does not have: a clear error instead of "attempt to call a nil value".
      lua_createtable(L, 0, 1);
      lua_pushstring(L, info.name.c_str());
      lua_pushcclosure(L, UnknownStep, 1);
      lua_setfield(L, -2, "__index");
      lua_setmetatable(L, -2);
      MakeReadOnly(L);
      lua_setfield(L, protected_globals, info.name.c_str());
    }
  }

  // print goes to the step log.
  lua_pushglobaltable(L);
  const int globals = lua_gettop(L);
  lua_pushlightuserdata(L, runtime);
  lua_pushcclosure(L, LuaLog, 1);
  lua_setfield(L, globals, "print");

  // _G looks names up in the protected table and refuses to let them be replaced.
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, protected_globals);
  lua_pushcclosure(L, GlobalIndex, 1);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, protected_globals);
  lua_pushcclosure(L, GlobalAssign, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, globals);
  lua_settop(L, 0);
  return 0;
}

}  // namespace kiln

#include "pipeline/lua_sandbox.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "pipeline/pattern_guard.hpp"

namespace kiln {

namespace {

constexpr int kHookInterval = 1000;

// `load` with the mode forced to text: precompiled chunks can crash the VM.
int TextOnlyLoad(lua_State* L) {
  int args = lua_gettop(L);
  if (args < 1) return luaL_error(L, "bad argument #1 to 'load' (value expected)");
  // An env given (even nil) is passed on; none given must stay none, or the chunk's _ENV
  // would be nil instead of the globals.
  const int passed = args >= 4 ? 4 : 3;
  lua_settop(L, passed);
  lua_pushliteral(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, passed, LUA_MULTRET);
  return lua_gettop(L);
}

// setmetatable that refuses finalizers. Lua turns hooks off while a __gc metamethod runs,
// so a looping finalizer could never be stopped; and Lua 5.4 marks an object for
// finalization only when its metatable has __gc at setmetatable time, so checking here
// is enough (a __gc added to the metatable later is never called).
int SetMetatableWithoutFinalizers(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    lua_rawget(L, 2);
    const bool has_finalizer = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (has_finalizer) return luaL_error(L, "setmetatable: __gc finalizers are not allowed in pipelines");
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// xpcall whose message handler runs after the error has unwound, as an ordinary call.
// Lua calls a message handler at the point of the error: when the error comes from the
// count hook, that is inside the hook, where hooks are off, so a looping handler could
// never be stopped. The handler loses the erroring frame (no traceback of it), which a
// pipeline does not need.
int XpcallAfterUnwind(lua_State* L) {
  luaL_checktype(L, 2, LUA_TFUNCTION);
  const int args = lua_gettop(L) - 2;
  const int base = lua_gettop(L);
  lua_pushvalue(L, 1);
  for (int i = 3; i <= base; ++i) lua_pushvalue(L, i);
  if (lua_pcall(L, args, LUA_MULTRET, 0) == LUA_OK) {
    lua_pushboolean(L, 1);
    lua_insert(L, base + 1);
    return lua_gettop(L) - base;
  }
  lua_pushvalue(L, 2);
  lua_insert(L, -2);
  lua_call(L, 1, 1);
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

void RemoveField(lua_State* L, int table, const char* name) {
  lua_pushnil(L);
  lua_setfield(L, table, name);
}

}  // namespace

LuaSandbox::LuaSandbox(const SandboxLimits& limits) : limits_(limits) {
  state_ = lua_newstate(&LuaSandbox::Allocate, this);
  if (state_ == nullptr) return;
  *static_cast<LuaSandbox**>(lua_getextraspace(state_)) = this;
  started_ = std::chrono::steady_clock::now();
  open_libraries();
  arm_hook(kHookInterval);
}

LuaSandbox::~LuaSandbox() {
  if (state_ == nullptr) return;
  // Finalizers (__gc) of the script run during lua_close: they still meet the hook, so a
  // finalizer that loops ends once the budget is spent.
  lua_close(state_);
}

LuaSandbox& LuaSandbox::From(lua_State* L) { return **static_cast<LuaSandbox**>(lua_getextraspace(L)); }

void* LuaSandbox::Allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  auto* self = static_cast<LuaSandbox*>(ud);
  // When ptr is null, osize is a type tag, not a size.
  const std::size_t old_size = ptr != nullptr ? osize : 0;
  if (nsize == 0) {
    std::free(ptr);
    self->memory_used_ -= old_size;
    return nullptr;
  }
  if (nsize > old_size && self->memory_used_ - old_size + nsize > self->limits_.memory_bytes) {
    self->memory_exhausted_ = true;
    return nullptr;
  }
  void* grown = std::realloc(ptr, nsize);
  if (grown == nullptr) return nullptr;
  self->memory_used_ = self->memory_used_ - old_size + nsize;
  if (self->memory_used_ > self->memory_peak_) self->memory_peak_ = self->memory_used_;
  return grown;
}

void LuaSandbox::arm_hook(int count) {
  if (hook_interval_ == count) return;
  hook_interval_ = count;
  lua_sethook(state_, &LuaSandbox::Hook, LUA_MASKCOUNT, count);
}

void LuaSandbox::Hook(lua_State* L, lua_Debug* /*ar*/) {
  LuaSandbox& self = From(L);
  self.instructions_used_ += static_cast<std::uint64_t>(self.hook_interval_);
  if (self.fault_ == SandboxFault::none) {
    if (self.instructions_used_ > self.limits_.instructions) {
      self.fault_ = SandboxFault::instructions;
    } else if (self.limits_.script_time.count() > 0 && self.wait_depth_ == 0) {
      auto own = std::chrono::steady_clock::now() - self.started_ - self.waited_;
      if (own > self.limits_.script_time) self.fault_ = SandboxFault::script_time;
    }
  }
  bool stopped = self.watched_ != nullptr && self.watched_->stopped();
  if (self.fault_ == SandboxFault::none && !stopped) return;
  // From now on every instruction raises: a pcall in the script can catch the error but
  // cannot execute anything with it.
  self.arm_hook(1);
  if (self.fault_ != SandboxFault::none) {
    luaL_error(L, "%s", self.fault_message().c_str());
  }
  StopReason reason = self.watched_->stop_reason();
  luaL_error(L, "%s", reason == StopReason::timed_out ? "timed out" : "cancelled");
}

void LuaSandbox::watch(const CancellationToken* token) {
  watched_ = token;
  // Back to the normal interval unless a fault or the new token keeps the hook raising.
  if (fault_ == SandboxFault::none && (token == nullptr || !token->stopped())) arm_hook(kHookInterval);
}

void LuaSandbox::begin_wait() {
  if (wait_depth_++ == 0) wait_started_ = std::chrono::steady_clock::now();
}

void LuaSandbox::end_wait() {
  if (wait_depth_ > 0 && --wait_depth_ == 0) waited_ += std::chrono::steady_clock::now() - wait_started_;
}

std::chrono::milliseconds LuaSandbox::script_time_left() const {
  if (limits_.script_time.count() <= 0) return std::chrono::milliseconds::max();
  auto own = std::chrono::steady_clock::now() - started_ - waited_;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(limits_.script_time - own);
  return std::max(left, std::chrono::milliseconds(0));
}

std::string LuaSandbox::fault_message() const {
  switch (fault_) {
    case SandboxFault::instructions:
      return "pipeline exceeded its instruction limit (" + std::to_string(limits_.instructions) + " instructions)";
    case SandboxFault::script_time:
      return "pipeline script exceeded its time limit (" + std::to_string(limits_.script_time.count()) +
             " ms of script time, waits excluded)";
    case SandboxFault::stopped:
    case SandboxFault::none:
      break;
  }
  return {};
}

std::string LuaSandbox::memory_message() const {
  return "pipeline exceeded its memory limit (" + std::to_string(limits_.memory_bytes / 1024) + " KiB)";
}

void LuaSandbox::open_libraries() {
  lua_State* L = state_;
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  lua_settop(L, 0);

  lua_pushglobaltable(L);
  const int globals = lua_gettop(L);
  for (const char* name : {"dofile", "loadfile", "collectgarbage", "require", "module"}) {
    RemoveField(L, globals, name);
  }
  // load: text only.
  lua_getfield(L, globals, "load");
  lua_pushcclosure(L, TextOnlyLoad, 1);
  lua_setfield(L, globals, "load");

  lua_pushcfunction(L, XpcallAfterUnwind);
  lua_setfield(L, globals, "xpcall");

  lua_getfield(L, globals, "setmetatable");
  lua_pushcclosure(L, SetMetatableWithoutFinalizers, 1);
  lua_setfield(L, globals, "setmetatable");

  // string.dump makes bytecode; nothing in a pipeline needs it.
  lua_getfield(L, globals, LUA_STRLIBNAME);
  RemoveField(L, lua_gettop(L), "dump");
  lua_pop(L, 1);

  // os: time, clock and date only. The full library is opened aside and dropped.
  luaL_requiref(L, "kiln_os_full", luaopen_os, 0);
  const int full_os = lua_gettop(L);
  lua_createtable(L, 0, 3);
  for (const char* name : {"time", "clock", "date"}) {
    lua_getfield(L, full_os, name);
    lua_setfield(L, -2, name);
  }
  lua_setfield(L, globals, "os");
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);  // package.loaded is of no use without require

  // The pattern matcher runs in C, out of the hook's reach: bounded separately.
  InstallPatternGuard(L);

  // The string metatable is shared by every string: lock it.
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_settop(L, 0);
}

Result<bool> LuaSandbox::load(std::string_view source, const std::string& chunk_name) {
  if (state_ == nullptr) return MakeError("cannot create a Lua state");
  if (!source.empty() && source[0] == LUA_SIGNATURE[0]) return MakeError(chunk_name.substr(1) + ": precompiled chunks are not accepted");
  int status = luaL_loadbufferx(state_, source.data(), source.size(), chunk_name.c_str(), "t");
  if (status != LUA_OK) {
    std::string message = lua_type(state_, -1) == LUA_TSTRING ? lua_tostring(state_, -1) : "cannot load the script";
    lua_pop(state_, 1);
    if (status == LUA_ERRMEM) message = memory_message();
    return MakeError(message);
  }
  return true;
}

}  // namespace kiln

// Lua -> JSON (LuaToJson) on values a pipeline script makes: what a step returns becomes
// the step's outputs (events, KV state), and a table of arguments crosses into a plugin.
//
// An input is a Lua expression, evaluated as `return <input>` in the job sandbox (small
// limits, so a loop ends quickly); inputs that do not compile or that fail are skipped.
// Promises checked: no crash; no metamethod runs (an input's tables may carry __index,
// __pairs or __len that raise, and a raise would end the conversion); an error names where
// it is; a value that converts serialises as events do, and converts to the same JSON after
// PushJson (the next step sees what this one returned).
#include <cstddef>
#include <cstdint>
#include <string>

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include "fuzz_checks.hpp"
#include "pipeline/lua_json.hpp"
#include "pipeline/lua_sandbox.hpp"

namespace {

using nlohmann::json;

struct Conversion {
  kiln::Result<json> first = kiln::MakeError("not run");
  kiln::Result<json> again = kiln::MakeError("not run");
};

int Convert(lua_State* L) {
  auto* conversion = static_cast<Conversion*>(lua_touserdata(L, lua_upvalueindex(1)));
  conversion->first = kiln::LuaToJson(L, 1, "value");
  if (conversion->first) {
    kiln::PushJson(L, conversion->first.value());
    conversion->again = kiln::LuaToJson(L, -1, "value");
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source = "return " + std::string(reinterpret_cast<const char*>(data), size);
  kiln::LuaSandbox sandbox(kiln::SandboxLimits{.memory_bytes = 8u << 20, .instructions = 100'000,
                                               .script_time = std::chrono::milliseconds(2000)});
  lua_State* L = sandbox.state();
  if (!sandbox.load(source, "=fuzz")) return 0;
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) return 0;

  Conversion conversion;
  lua_pushlightuserdata(L, &conversion);
  lua_pushcclosure(L, Convert, 1);
  lua_insert(L, -2);
  const int status = lua_pcall(L, 1, 0, 0);
  if (status != LUA_OK) {
    // Only running out of memory may interrupt a conversion.
    if (status != LUA_ERRMEM && !sandbox.memory_exhausted()) {
      kiln::fuzz::Fail(std::string("the conversion raised: ") + lua_tostring(L, -1));
    }
    return 0;
  }
  if (!conversion.first) {
    if (conversion.first.error().rfind("value", 0) != 0) {
      kiln::fuzz::Fail("an error that does not say where: " + conversion.first.error());
    }
    return 0;
  }
  (void)conversion.first.value().dump(-1, ' ', false, json::error_handler_t::replace);
  if (!conversion.again) kiln::fuzz::Fail("converted JSON does not convert again: " +
                                                 conversion.again.error());
  if (!kiln::fuzz::SameJson(conversion.again.value(), conversion.first.value())) {
    kiln::fuzz::Fail("a second round changed the value: " + kiln::fuzz::Show(conversion.first.value()) + " then " +
                     kiln::fuzz::Show(conversion.again.value()));
  }
  return 0;
}

// JSON -> Lua -> JSON (PushJson, then LuaToJson): how a plugin step's outputs reach a
// pipeline script, and how the script's tables come back as step outputs and arguments.
//
// An input is JSON text (inputs that are not JSON are skipped). Promises checked: no crash;
// the round trip gives the input back, up to what Lua tables cannot hold (lua_json.hpp):
// a null object member vanishes, trailing nulls of an array vanish, an empty array comes
// back as {}, an unsigned integer past Lua's largest integer comes back as a float. It may
// refuse (with a message) only what it documents: a hole left by a null inside an array,
// nesting deeper than kMaxJsonDepth, or a number that is not finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include "fuzz_checks.hpp"
#include "pipeline/lua_json.hpp"

namespace {

using nlohmann::json;

// What the round trip should give; `may_refuse` is set when a refusal is allowed as well.
json Expected(const json& value, int depth, bool& may_refuse) {
  if (value.is_structured() && depth > kiln::kMaxJsonDepth) {
    may_refuse = true;  // PushJson must refuse it; and this would recurse as deep
    return json();
  }
  if (value.is_number_float() && !std::isfinite(value.get<double>())) may_refuse = true;
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(LUA_MAXINTEGER)) {
    return json(static_cast<double>(value.get<std::uint64_t>()));  // as Lua reads such a literal
  }
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, item] : value.items()) {
      if (!item.is_null()) out[key] = Expected(item, depth + 1, may_refuse);
    }
    return out;
  }
  if (value.is_array()) {
    std::size_t end = value.size();
    while (end > 0 && value[end - 1].is_null()) --end;
    if (end == 0) return json::object();
    json out = json::array();
    for (std::size_t i = 0; i < end; ++i) {
      if (value[i].is_null()) may_refuse = true;  // a hole: Lua cannot tell it from a sparse table
      out.push_back(Expected(value[i], depth + 1, may_refuse));
    }
    return out;
  }
  return value;
}

struct RoundTrip {
  const json* input = nullptr;
  kiln::Result<json> output = kiln::MakeError("not run");
};

int RunRoundTrip(lua_State* L) {
  auto* trip = static_cast<RoundTrip*>(lua_touserdata(L, 1));
  kiln::PushJson(L, *trip->input);
  trip->output = kiln::LuaToJson(L, -1, "value");
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const json input = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) return 0;

  lua_State* L = luaL_newstate();
  RoundTrip trip;
  trip.input = &input;
  lua_pushcfunction(L, RunRoundTrip);
  lua_pushlightuserdata(L, &trip);
  const int status = lua_pcall(L, 1, 0, 0);
  const std::string lua_error = status == LUA_OK ? "" : lua_tostring(L, -1);
  lua_close(L);

  bool may_refuse = false;
  const json expected = Expected(input, 0, may_refuse);
  if (status != LUA_OK) {
    if (!may_refuse) kiln::fuzz::Fail("PushJson raised: " + lua_error);
    return 0;
  }
  if (!trip.output) {
    if (trip.output.error().empty()) kiln::fuzz::Fail("an empty error");
    if (!may_refuse) kiln::fuzz::Fail("LuaToJson refused what PushJson made: " + trip.output.error());
    return 0;
  }
  if (!kiln::fuzz::SameJson(trip.output.value(), expected)) {
    kiln::fuzz::Fail("round trip changed the value: " + kiln::fuzz::Show(expected) + " came back as " +
                     kiln::fuzz::Show(trip.output.value()));
  }
  return 0;
}

// Lua values <-> JSON, for plugin step arguments and results and step outputs.
//
// Lua -> JSON: nil -> null; booleans; integers and finite floats; strings; a table whose
// keys are exactly 1..n -> array; a table with string keys -> object; an empty table -> {}.
// Anything else (functions, userdata, NaN, mixed or non-string keys, nesting deeper than
// kMaxDepth, a cycle, more than kMaxJsonBytes in all) is an error naming where it is
// ("args.tags[2]: a function").
// No metamethod is ever called, so a hostile __index or __tostring cannot run here.
#pragma once

#include <string>

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace kiln {

inline constexpr int kMaxJsonDepth = 64;
/// About the largest JSON one conversion may make (strings, keys, and 8 bytes a value).
inline constexpr std::size_t kMaxJsonBytes = 16 * 1024 * 1024;

Result<nlohmann::json> LuaToJson(lua_State* L, int index, const std::string& path);
/// Pushes `value` as a Lua value (null -> nil; an unsigned integer beyond Lua's largest
/// integer -> a float, as Lua reads such a literal). Raises a Lua error when it runs out of
/// memory or when arrays and objects nest deeper than kMaxJsonDepth.
void PushJson(lua_State* L, const nlohmann::json& value);

}  // namespace kiln

#include "pipeline/lua_json.hpp"

#include <cmath>

namespace kiln {

namespace {

// What is left of kMaxJsonBytes for one conversion. A table referenced twice is converted
// twice, so without a bound `t = {t, t}` taken 60 times (a few KB in Lua) would expand to
// 2^60 nodes here, in C++, where neither the memory cap nor the instruction hook reaches.
struct Budget {
  std::size_t left = kMaxJsonBytes;
  bool spend(std::size_t bytes) {
    if (bytes > left) return false;
    left -= bytes;
    return true;
  }
};

Result<nlohmann::json> TooLarge(const std::string& path) {
  return MakeError((path.empty() ? std::string("value") : path) + ": too large to pass on (over " +
                   std::to_string(kMaxJsonBytes / (1024 * 1024)) +
                   " MiB as JSON; a table used in several places counts each time)");
}

Result<nlohmann::json> Convert(lua_State* L, int index, const std::string& path, int depth, Budget& budget);

Result<nlohmann::json> ConvertTable(lua_State* L, int index, const std::string& path, int depth, Budget& budget) {
  if (depth > kMaxJsonDepth) return MakeError(path + ": nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (or a cycle)");
  if (!lua_checkstack(L, 4)) return MakeError(path + ": too deep");
  // First pass: is it a sequence 1..n, an object of string keys, or neither?
  lua_Integer count = 0;
  lua_Integer max_index = 0;
  bool all_integer = true;
  bool all_string = true;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    ++count;
    if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1)) {
      lua_Integer key = lua_tointeger(L, -1);
      if (key < 1) all_integer = false;
      if (key > max_index) max_index = key;
      all_string = false;
    } else if (lua_type(L, -1) == LUA_TSTRING) {
      all_integer = false;
    } else {
      // The key's type is read before the pop: after it, -1 is the table itself.
      const std::string key_type = lua_type(L, -1) == LUA_TNUMBER ? "non-integer number" : luaL_typename(L, -1);
      lua_pop(L, 1);
      return MakeError(path + ": keys must be strings or 1..n, found a " + key_type + " key");
    }
  }
  if (count == 0) return nlohmann::json::object();
  if (all_integer && max_index == count) {
    nlohmann::json array = nlohmann::json::array();
    for (lua_Integer i = 1; i <= count; ++i) {
      lua_rawgeti(L, index, i);
      auto item = Convert(L, lua_gettop(L), path + "[" + std::to_string(i) + "]", depth + 1, budget);
      lua_pop(L, 1);
      if (!item) return item;
      array.push_back(std::move(item.value()));
    }
    return array;
  }
  if (!all_string) return MakeError(path + ": a table mixing list items and named fields");
  nlohmann::json object = nlohmann::json::object();
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    std::size_t length = 0;
    const char* key_data = lua_tolstring(L, -2, &length);  // a string key: no conversion happens
    std::string key(key_data, length);
    if (!budget.spend(length + 8)) {
      lua_pop(L, 2);
      return TooLarge(path);
    }
    auto item = Convert(L, lua_gettop(L), path.empty() ? key : path + "." + key, depth + 1, budget);
    lua_pop(L, 1);
    if (!item) {
      lua_pop(L, 1);
      return item;
    }
    object[key] = std::move(item.value());
  }
  return object;
}

Result<nlohmann::json> Convert(lua_State* L, int index, const std::string& path, int depth, Budget& budget) {
  if (!budget.spend(8)) return TooLarge(path);
  switch (lua_type(L, index)) {
    case LUA_TNIL:
    case LUA_TNONE:
      return nlohmann::json();
    case LUA_TBOOLEAN:
      return nlohmann::json(lua_toboolean(L, index) != 0);
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) return nlohmann::json(static_cast<std::int64_t>(lua_tointeger(L, index)));
      if (!std::isfinite(lua_tonumber(L, index))) return MakeError(path + ": not a finite number");
      return nlohmann::json(lua_tonumber(L, index));
    case LUA_TSTRING: {
      std::size_t length = 0;
      const char* data = lua_tolstring(L, index, &length);
      if (!budget.spend(length)) return TooLarge(path);
      return nlohmann::json(std::string(data, length));
    }
    case LUA_TTABLE:
      return ConvertTable(L, index, path, depth, budget);
    default:
      return MakeError((path.empty() ? std::string("value") : path) + ": a " + luaL_typename(L, index) +
                       " cannot be passed on");
  }
}

}  // namespace

Result<nlohmann::json> LuaToJson(lua_State* L, int index, const std::string& path) {
  Budget budget;
  return Convert(L, lua_absindex(L, index), path, 0, budget);
}

namespace {

void PushJsonAt(lua_State* L, const nlohmann::json& value, int depth) {
  // The bound LuaToJson has, for the same reason: a plugin's outputs may echo a document
  // from a repository, and without it a deep one recurses until the worker's stack overflows.
  if (value.is_structured() && depth > kMaxJsonDepth) {
    luaL_error(L, "a value nested deeper than %d levels", kMaxJsonDepth);
  }
  luaL_checkstack(L, 3, "nested too deep");
  switch (value.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      lua_pushnil(L);
      return;
    case nlohmann::json::value_t::boolean:
      lua_pushboolean(L, value.get<bool>());
      return;
    case nlohmann::json::value_t::number_integer:
      lua_pushinteger(L, value.get<std::int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned: {
      // Past Lua's largest integer a cast would wrap to a negative number; Lua itself reads
      // such an integer literal as a float, and so does this.
      const std::uint64_t number = value.get<std::uint64_t>();
      if (number > static_cast<std::uint64_t>(LUA_MAXINTEGER)) {
        lua_pushnumber(L, static_cast<lua_Number>(number));
      } else {
        lua_pushinteger(L, static_cast<lua_Integer>(number));
      }
      return;
    }
    case nlohmann::json::value_t::number_float:
      lua_pushnumber(L, value.get<double>());
      return;
    case nlohmann::json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      lua_pushlstring(L, text.data(), text.size());
      return;
    }
    case nlohmann::json::value_t::binary:
      lua_pushnil(L);
      return;
    case nlohmann::json::value_t::array: {
      lua_createtable(L, static_cast<int>(value.size()), 0);
      lua_Integer i = 1;
      for (const auto& item : value) {
        PushJsonAt(L, item, depth + 1);
        lua_rawseti(L, -2, i++);
      }
      return;
    }
    case nlohmann::json::value_t::object: {
      lua_createtable(L, 0, static_cast<int>(value.size()));
      for (const auto& [key, item] : value.items()) {
        lua_pushlstring(L, key.data(), key.size());
        PushJsonAt(L, item, depth + 1);
        lua_rawset(L, -3);
      }
      return;
    }
  }
}

}  // namespace

void PushJson(lua_State* L, const nlohmann::json& value) { PushJsonAt(L, value, 0); }

}  // namespace kiln

// Lua <-> JSON conversion: the cases the fuzz targets found (tests/fuzz), kept here so the
// normal suite holds them.
#include <string>

#include <gtest/gtest.h>
#include <lua.hpp>

#include "pipeline/lua_json.hpp"

namespace kiln {
namespace {

// A bare Lua state, closed at the end of the test.
class LuaState {
 public:
  LuaState() : L_(luaL_newstate()) {}
  ~LuaState() { lua_close(L_); }
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;
  lua_State* get() const { return L_; }

  // Evaluates `return <expression>` and leaves the value on the stack.
  void Eval(const std::string& expression) {
    const std::string chunk = "return " + expression;
    ASSERT_EQ(luaL_loadstring(L_, chunk.c_str()), LUA_OK) << lua_tostring(L_, -1);
    ASSERT_EQ(lua_pcall(L_, 0, 1, 0), LUA_OK) << lua_tostring(L_, -1);
  }

 private:
  lua_State* L_;
};

struct Push {
  const nlohmann::json* value;
};

int PushThenConvert(lua_State* L) {
  auto* push = static_cast<Push*>(lua_touserdata(L, 1));
  PushJson(L, *push->value);
  auto back = LuaToJson(L, -1, "value");
  lua_pushstring(L, back ? back->dump().c_str() : back.error().c_str());
  return 1;
}

// PushJson then LuaToJson, under pcall as the runtime calls them: the JSON that comes back,
// or the error (Lua's or the conversion's).
std::string RoundTrip(const nlohmann::json& value) {
  LuaState lua;
  Push push{&value};
  lua_pushcfunction(lua.get(), PushThenConvert);
  lua_pushlightuserdata(lua.get(), &push);
  const int status = lua_pcall(lua.get(), 1, 1, 0);
  return std::string(status == LUA_OK ? "" : "raised: ") + lua_tostring(lua.get(), -1);
}

TEST(LuaJson, AnUnsignedPastLuasLargestIntegerBecomesAFloatNotANegativeNumber) {
  // Found by json_to_lua_fuzzer: the cast to lua_Integer wrapped 18446744073709551615 to -1.
  EXPECT_EQ(RoundTrip(nlohmann::json::parse(R"({"bytes":18446744073709551615})")), R"({"bytes":1.8446744073709552e+19})");
  EXPECT_EQ(RoundTrip(nlohmann::json::parse(R"({"bytes":9223372036854775807})")), R"({"bytes":9223372036854775807})");
  EXPECT_EQ(RoundTrip(nlohmann::json::parse(R"({"bytes":9223372036854775808})")), R"({"bytes":9.223372036854776e+18})");
}

TEST(LuaJson, ADeeplyNestedValueIsRefusedInsteadOfOverflowingTheStack) {
  // Found by json_to_lua_fuzzer: 300,000 nested arrays recursed until the stack overflowed.
  const std::string deep = std::string(300'000, '[') + std::string(300'000, ']');
  const std::string result = RoundTrip(nlohmann::json::parse(deep));
  EXPECT_NE(result.find("raised: "), std::string::npos) << result.substr(0, 200);
  EXPECT_NE(result.find("nested deeper than 64 levels"), std::string::npos) << result.substr(0, 200);
  // At the limit it still converts.
  std::string at_limit = std::string(kMaxJsonDepth + 1, '[') + "1" + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_EQ(RoundTrip(nlohmann::json::parse(at_limit)), at_limit);
}

TEST(LuaJson, ABadKeyIsNamedByItsOwnType) {
  // The key's type used to be read after it was popped, naming the table's type instead.
  LuaState lua;
  for (const auto& [expression, type] : {std::pair{"{ [1.5] = true }", "a non-integer number key"},
                                         std::pair{"{ [true] = 1 }", "a boolean key"},
                                         std::pair{"{ [{}] = 1 }", "a table key"}}) {
    lua.Eval(expression);
    auto converted = LuaToJson(lua.get(), -1, "outputs");
    lua_pop(lua.get(), 1);
    ASSERT_FALSE(converted.ok()) << expression;
    EXPECT_EQ(converted.error(), std::string("outputs: keys must be strings or 1..n, found ") + type) << expression;
  }
}

}  // namespace
}  // namespace kiln

// The pattern guard's estimate against the matcher's real work (pipeline/pattern_guard.hpp).
// The fuzzing counterpart of tests/pipeline/pattern_guard_property_test.cpp: libFuzzer
// looks for a pattern and subject on which Lua's matcher does more than the estimate says.
//
// An input is: one byte (bits 0-1: find, match, gmatch, gsub; bit 2: find's plain), then
// subject '\0' pattern '\0' replacement (gsub's). Subject and pattern are cut at 64 bytes,
// the replacement at 256. Promises checked: the instrumented copy of the matcher
// (tests/support/lua_matcher.hpp), given the estimate as its step budget, never passes it;
// and it returns what the real string library returns (so its count is the real work).
// An estimate over kWalked is not walked (it would be slow, not wrong).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <lua.hpp>

#include "fuzz_checks.hpp"
#include "pipeline/pattern_guard.hpp"
#include "support/lua_matcher.hpp"

namespace {

using kiln::PatternCall;
namespace t = kiln::testing;

constexpr double kWalked = 2e6;

std::string Next(std::string_view& rest, std::size_t most) {
  const std::size_t end = rest.find('\0');
  std::string piece(rest.substr(0, std::min(end, most)));
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return piece;
}

// The real function's values (or error), rendered as lua_matcher.hpp renders them.
std::string Real(lua_State* L, PatternCall f, const std::string& s, const std::string& p, bool plain,
                 const std::string& r) {
  static const char* const kNames[] = {"find", "match", "gmatch", "gsub"};
  lua_settop(L, 0);
  lua_getglobal(L, "string");
  lua_getfield(L, 1, kNames[static_cast<int>(f)]);
  lua_pushlstring(L, s.data(), s.size());
  lua_pushlstring(L, p.data(), p.size());
  int args = 2;
  if (f == PatternCall::find) {
    lua_pushinteger(L, 1);
    lua_pushboolean(L, plain);
    args = 4;
  } else if (f == PatternCall::gsub) {
    lua_pushlstring(L, r.data(), r.size());
    args = 3;
  }
  std::string out;
  auto render = [&](int from) {
    for (int i = from; i <= lua_gettop(L); ++i) {
      if (lua_isinteger(L, i)) out += "i:" + std::to_string(lua_tointeger(L, i)) + "\n";
      else if (lua_isnil(L, i)) out += "nil\n";
      else {
        std::size_t n = 0;
        const char* text = lua_tolstring(L, i, &n);
        out += "s:" + std::string(text, n) + "\n";
      }
    }
  };
  if (lua_pcall(L, args, LUA_MULTRET, 0) != LUA_OK) return std::string("error: ") + lua_tostring(L, -1);
  if (f != PatternCall::gmatch) {
    render(2);
    return out;
  }
  while (true) {
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    if (lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) return std::string("error: ") + lua_tostring(L, -1);
    if (lua_gettop(L) == 2 || lua_isnil(L, 3)) break;
    render(3);
  }
  return out + "end\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static lua_State* L = [] {
    lua_State* state = luaL_newstate();
    luaL_openlibs(state);
    return state;
  }();
  const auto f = static_cast<PatternCall>(data[0] & 3);
  const bool plain = f == PatternCall::find && (data[0] & 4) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string subject = Next(rest, 64);
  const std::string pattern = Next(rest, 64);
  const std::string replacement = f == PatternCall::gsub ? Next(rest, 256) : std::string();

  const double estimate = kiln::WorstCasePatternSteps({f, pattern, subject.size(), plain, replacement.size()});
  if (estimate > kWalked) return 0;
  const auto budget = static_cast<std::uint64_t>(estimate);
  std::string copy;
  try {
    t::CountedMatch counted;
    switch (f) {
      case PatternCall::find: counted = t::CountedFind(subject, pattern, plain, budget); break;
      case PatternCall::match: counted = t::CountedMatchCall(subject, pattern, budget); break;
      case PatternCall::gmatch: counted = t::CountedGmatch(subject, pattern, budget); break;
      case PatternCall::gsub: counted = t::CountedGsub(subject, pattern, replacement, budget); break;
    }
    for (const auto& value : counted.values) copy += value + "\n";
  } catch (const t::StepBudgetExceeded&) {
    kiln::fuzz::Fail("the matcher did more than the estimate of " + std::to_string(estimate) + " steps: pattern '" +
                     pattern + "', subject of " + std::to_string(subject.size()) + " bytes");
  } catch (const t::MatcherError& e) {
    copy = std::string("error: ") + e.what();
  }
  const std::string real = Real(L, f, subject, pattern, plain, replacement);
  if (copy != real) kiln::fuzz::Fail("the copy of the matcher is not the real one: '" + copy + "' vs '" + real + "'");
  return 0;
}

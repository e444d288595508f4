// The pattern guard's estimate (pipeline/pattern_guard.hpp) must be an upper bound of the
// work Lua's matcher does, or a pathological call runs directly in C where nothing can stop
// it. This checks it on generated patterns and subjects: each case runs in an instrumented
// copy of Lua 5.4.4's matcher (tests/support/lua_matcher.hpp) with the estimate as its step
// budget, and in the real string library of the Lua the engine links; the copy must return
// what the real one returns (so its count is the real matcher's work) and must never pass
// the budget.
#include <lua.hpp>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/lua_matcher.hpp"
#include "pipeline/pattern_guard.hpp"

namespace kiln::testing {
namespace {

struct Case {
  PatternCall function = PatternCall::find;
  std::string subject;
  std::string pattern;
  bool plain = false;
  std::string replacement;

  std::string describe() const {
    static const char* const kNames[] = {"find", "match", "gmatch", "gsub"};
    std::ostringstream out;
    out << "string." << kNames[static_cast<int>(function)] << "(\"" << subject << "\", \"" << pattern << "\"";
    if (plain) out << ", 1, true";
    if (function == PatternCall::gsub) out << ", \"" << replacement << "\"";
    out << ")";
    return out.str();
  }
};

Case Call(PatternCall function, std::string subject, std::string pattern, bool plain = false,
          std::string replacement = "") {
  return Case{function, std::move(subject), std::move(pattern), plain, std::move(replacement)};
}

// What the real function returns (or its error), rendered as lua_matcher.hpp renders.
std::vector<std::string> RunReal(lua_State* L, const Case& c, std::string* error) {
  static const char* const kNames[] = {"find", "match", "gmatch", "gsub"};
  lua_settop(L, 0);
  lua_getglobal(L, "string");
  lua_getfield(L, 1, kNames[static_cast<int>(c.function)]);
  lua_pushlstring(L, c.subject.data(), c.subject.size());
  lua_pushlstring(L, c.pattern.data(), c.pattern.size());
  int args = 2;
  if (c.function == PatternCall::find) {
    lua_pushinteger(L, 1);
    lua_pushboolean(L, c.plain);
    args = 4;
  } else if (c.function == PatternCall::gsub) {
    lua_pushlstring(L, c.replacement.data(), c.replacement.size());
    args = 3;
  }
  std::vector<std::string> values;
  auto render = [&](int from) {
    for (int i = from; i <= lua_gettop(L); ++i) {
      if (lua_isinteger(L, i)) values.push_back("i:" + std::to_string(lua_tointeger(L, i)));
      else if (lua_isnil(L, i)) values.push_back("nil");
      else {
        std::size_t n = 0;
        const char* s = lua_tolstring(L, i, &n);
        values.push_back("s:" + std::string(s, n));
      }
    }
  };
  if (lua_pcall(L, args, LUA_MULTRET, 0) != LUA_OK) {
    *error = lua_tostring(L, -1);
    return values;
  }
  if (c.function != PatternCall::gmatch) {
    render(2);
    return values;
  }
  const int iterator = 2;
  while (true) {
    lua_settop(L, iterator);
    lua_pushvalue(L, iterator);
    if (lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
      *error = lua_tostring(L, -1);
      return values;
    }
    if (lua_gettop(L) == iterator || lua_isnil(L, iterator + 1)) break;
    render(iterator + 1);
  }
  values.push_back("end");
  return values;
}

CountedMatch RunCopy(const Case& c, std::uint64_t budget) {
  switch (c.function) {
    case PatternCall::find: return CountedFind(c.subject, c.pattern, c.plain, budget);
    case PatternCall::match: return CountedMatchCall(c.subject, c.pattern, budget);
    case PatternCall::gmatch: return CountedGmatch(c.subject, c.pattern, budget);
    case PatternCall::gsub: return CountedGsub(c.subject, c.pattern, c.replacement, budget);
  }
  return {};
}

double Estimate(const Case& c) {
  return WorstCasePatternSteps({c.function, c.pattern, c.subject.size(), c.plain, c.replacement.size()});
}

// Checks one case; returns the count (0 when it was not run: estimate too large to walk).
std::uint64_t Check(lua_State* L, const Case& c) {
  const double estimate = Estimate(c);
  if (estimate > 2e7) return 0;
  const auto budget = static_cast<std::uint64_t>(estimate);
  CountedMatch copy;
  std::string copy_error;
  try {
    copy = RunCopy(c, budget);
  } catch (const StepBudgetExceeded&) {
    ADD_FAILURE() << c.describe() << ": the matcher did more than the estimate of " << estimate << " steps";
    return 0;
  } catch (const MatcherError& e) {
    copy_error = e.what();
  }
  std::string real_error;
  const std::vector<std::string> real = RunReal(L, c, &real_error);
  EXPECT_EQ(copy_error, real_error) << c.describe() << ": the copy is not the real matcher";
  if (copy_error.empty() && real_error.empty()) {
    EXPECT_EQ(copy.values, real) << c.describe() << ": the copy is not the real matcher";
  }
  return std::max<std::uint64_t>(copy.steps, 1);
}

struct LuaState {
  LuaState() : L(luaL_newstate()) { luaL_openlibs(L); }
  ~LuaState() { lua_close(L); }
  lua_State* L;
};

class CaseGenerator {
 public:
  explicit CaseGenerator(std::uint32_t seed) : random_(seed) {}

  Case next() {
    Case c;
    c.function = static_cast<PatternCall>(pick(4));
    c.subject = subject();
    c.pattern = pattern();
    c.plain = c.function == PatternCall::find && pick(8) == 0;
    if (c.function == PatternCall::gsub) c.replacement = pick_of({"", "x", "%0", "<%1>", "%%", "%2", "%x", "abcdefgh"});
    return c;
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  std::string pick_of(std::initializer_list<const char*> options) {
    return *(options.begin() + pick(static_cast<int>(options.size())));
  }

  std::string subject() {
    const int length = pick(16);
    if (pick(3) == 0) return std::string(static_cast<std::size_t>(length), pick(2) ? 'a' : '(');  // worst cases
    std::string s;
    for (int i = 0; i < length; ++i) s += "aab(),1 ^$%"[pick(11)];
    return s;
  }

  std::string pattern() {
    std::string p;
    if (pick(4) == 0) p += '^';
    const int items = pick(9);
    for (int i = 0; i < items; ++i) {
      switch (pick(10)) {
        case 0: p += pick_of({"(", ")", "()", "(", ")"}); break;
        case 1: p += pick_of({"%b()", "%baa", "%b(", "%b"}); break;
        case 2: p += pick_of({"%f[a]", "%f[%w]", "%f[^a(]", "%f", "%fa"}); break;
        case 3: p += pick_of({"%1", "%2", "%0"}); break;
        default:
          p += pick_of({"a", "a", "b", ".", "%a", "%d", "[ab]", "[^a]", "[a-c(]", "[%a,]", "[]a]", "%%", "$", "^", "(",
                        "[a", "%"});
          p += pick_of({"", "", "*", "+", "-", "?", "?"});
      }
    }
    if (pick(5) == 0) p += '$';
    return p;
  }

  std::mt19937 random_;
};

TEST(PatternGuardProperty, TheEstimateIsNeverBelowTheMatchersStepsOnGeneratedCases) {
  LuaState lua;
  CaseGenerator generator(20261204);
  int run = 0;
  std::uint64_t most = 0;
  for (int i = 0; i < 20000 && !HasFailure(); ++i) {
    const Case c = generator.next();
    const std::uint64_t steps = Check(lua.L, c);
    run += steps > 0 ? 1 : 0;
    most = std::max(most, steps);
  }
  EXPECT_GT(run, 15000) << "most cases are walked, not skipped for their estimate";
  EXPECT_GT(most, 10000u) << "some cases are expensive";
}

TEST(PatternGuardProperty, OptionalItemsAreCountedAsTheBranchesTheyAre) {
  // The case of issue 20: ("a?"):rep(n) .. "b" over ("a"):rep(n) takes about 2^n steps.
  LuaState lua;
  for (int n = 1; n <= 14; ++n) {
    const std::string optional_as = [n] {
      std::string p;
      for (int i = 0; i < n; ++i) p += "a?";
      return p + "b";
    }();
    for (auto function : {PatternCall::find, PatternCall::match, PatternCall::gmatch, PatternCall::gsub}) {
      Check(lua.L, Call(function, std::string(static_cast<std::size_t>(n), 'a'), optional_as));
    }
  }
  std::string p;
  for (int i = 0; i < 24; ++i) p += "a?";
  EXPECT_GT(WorstCasePatternSteps({PatternCall::find, p + "b", 24}), kDirectPatternSteps)
      << "n = 24 ran 2 s in C: it must be probed, not run directly";
}

TEST(PatternGuardProperty, ALeadingCaretIsAPlainByteInGmatch) {
  LuaState lua;
  Check(lua.L, Call(PatternCall::gmatch, std::string(12, '^'), "^.-.-.-x"));
  Check(lua.L, Call(PatternCall::gmatch, "^" + std::string(11, 'a'), "^a-a-a-a-x"));
}

TEST(PatternGuardProperty, LongSetsAndReplacementsCostWhatTheyRead) {
  LuaState lua;
  Check(lua.L, Call(PatternCall::find, std::string(15, 'b'), "[" + std::string(200, 'a') + "b]*x"));
  Check(lua.L, Call(PatternCall::gsub, std::string(15, 'a'), "", false, std::string(300, 'x') + "%%"));
  Check(lua.L, Call(PatternCall::find, std::string(15, 'a'), std::string(10, 'a') + "b", false));
  Check(lua.L, Call(PatternCall::find, std::string(15, 'a'), std::string(10, 'a') + "b", true));
}

}  // namespace
}  // namespace kiln::testing

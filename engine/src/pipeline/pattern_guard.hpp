// Bounds Lua's pattern matcher, which the sandbox's count hook cannot reach.
//
// string.find, match, gmatch and gsub run in C: one call with a pathological pattern
// (("a"):rep(3e4):find(".-.-.-x")) backtracks for hours without executing a single Lua
// instruction, so neither the instruction budget nor the script time limit nor a timeout
// or cancel could stop it, and the worker thread was lost with it.
//
// The guard replaces the four functions. Each call first gets a worst-case count of the
// matcher's steps from the subject length and the pattern: every item as lstrlib.c's
// match() treats it (a variable-length item *, +, - tries the rest of the pattern at up to
// every position, '?' twice; %b, back-references and [sets] cost what they read), one
// start position when anchored (never for gmatch, where '^' is a plain byte), and gsub's
// replacement string once per match. The count is an upper bound of what the matcher does,
// for every pattern (tests/pipeline/pattern_guard_property_test.cpp checks it against an
// instrumented copy of the matcher). A subject or pattern given as a number is counted as
// the string Lua turns it into. A call under kDirectPatternSteps runs at once, as before.
// A call above it is first run in a forked copy of the process (the Lua state copied on
// write; gsub with a function or table replacement gets "" instead, so no Lua function and
// no step runs there), which the parent kills once the script's time limit is used up or
// the job is cancelled; only a call that finished there runs for real. So a legitimate
// expensive call costs a fork and runs twice; a pathological one ends in an error naming
// the function, instead of a lost worker thread.
#pragma once

#include <cstddef>
#include <string_view>

#include <lua.hpp>

namespace kiln {

/// Below this many worst-case steps a pattern call runs without a probe (about a second
/// of C on a slow machine, at most).
inline constexpr double kDirectPatternSteps = 5e8;

enum class PatternCall { find, match, gmatch, gsub };

/// One call of a pattern function, as far as its cost goes.
struct PatternCallShape {
  PatternCall function = PatternCall::find;
  std::string_view pattern;
  std::size_t subject_length = 0;
  bool plain = false;                   // string.find's fourth argument
  std::size_t replacement_length = 0;   // gsub with a string (or number) replacement
};

/// An upper bound of the matcher's steps for `call` (the units of
/// tests/support/lua_matcher.hpp: entries into match(), pattern bytes read, singlematch
/// calls, subject bytes read by %b and back-references). Saturates at 1e30.
double WorstCasePatternSteps(const PatternCallShape& call);

/// Replaces string.find/match/gmatch/gsub of the state (the table strings index too) with
/// guarded versions. The state must belong to a LuaSandbox.
void InstallPatternGuard(lua_State* L);

}  // namespace kiln

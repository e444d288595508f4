// Bounds Lua's pattern matcher, which the sandbox's count hook cannot reach.
//
// string.find, match, gmatch and gsub run in C: one call with a pathological pattern
// (("a"):rep(3e4):find(".-.-.-x")) backtracks for hours without executing a single Lua
// instruction, so neither the instruction budget nor the script time limit nor a timeout
// or cancel could stop it, and the worker thread was lost with it.
//
// The guard replaces the four functions. Each call first gets a worst-case estimate of the
// matcher's steps from the subject length and the pattern (its variable-length items: *,
// +, -, %b, back-references; one start position when anchored). A call under
// kDirectPatternSteps runs at once, as before. A call above it is first run in a forked
// copy of the process (the Lua state copied on write; gsub with "" as the replacement, so
// no Lua function and no step runs there), which the parent kills once the script's time
// limit is used up or the job is cancelled; only a call that finished there runs for real.
// So a legitimate expensive call costs a fork and runs twice; a pathological one ends in
// an error naming the function, instead of a lost worker thread.
#pragma once

#include <cstddef>
#include <string_view>

#include <lua.hpp>

namespace kiln {

/// Below this many worst-case steps a pattern call runs without a probe (about a second
/// of C on a slow machine, at most).
inline constexpr double kDirectPatternSteps = 5e8;

/// The worst-case number of matcher steps for `pattern` over `subject_length` bytes
/// (`plain`: string.find's plain search). Saturates at 1e30.
double WorstCasePatternSteps(std::string_view pattern, std::size_t subject_length, bool plain);

/// Replaces string.find/match/gmatch/gsub of the state (the table strings index too) with
/// guarded versions. The state must belong to a LuaSandbox.
void InstallPatternGuard(lua_State* L);

}  // namespace kiln

#include "pipeline/pattern_guard.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "pipeline/lua_sandbox.hpp"

namespace kiln {

namespace {

enum class PatternFunction { find, match, gmatch, gsub };

const char* NameOf(PatternFunction f) {
  switch (f) {
    case PatternFunction::find: return "string.find";
    case PatternFunction::match: return "string.match";
    case PatternFunction::gmatch: return "string.gmatch";
    case PatternFunction::gsub: return "string.gsub";
  }
  return "string";
}

// Where a [set] that starts at `i` ends (one past its ']'), as Lua's matcher reads it: the
// first character after '[' or '[^' is part of the set even when it is ']'.
std::size_t SetEnd(std::string_view p, std::size_t i) {
  std::size_t j = i + 1;
  if (j < p.size() && p[j] == '^') ++j;
  do {
    if (j >= p.size()) return p.size();
    if (p[j++] == '%' && j < p.size()) ++j;
  } while (j < p.size() && p[j] != ']');
  return j + 1;
}

}  // namespace

double WorstCasePatternSteps(std::string_view p, std::size_t n, bool plain) {
  const double length = static_cast<double>(n) + 1;
  if (plain) return length * static_cast<double>(p.size() + 1);
  const bool anchored = !p.empty() && p[0] == '^';
  std::size_t i = anchored ? 1 : 0;
  int variable = 0;  // items that can match a variable length: each multiplies by n
  double items = 1;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '(' || c == ')') {
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    if (c == '%') {
      if (i + 1 >= p.size()) break;  // malformed: Lua says so
      const char d = p[i + 1];
      if (d == 'b') {  // %bxy scans to the balancing y
        ++variable;
        ++items;
        i += 4;
        continue;
      }
      if (d == 'f') {  // %f[set]: a frontier, one step
        ++items;
        i = i + 2 < p.size() && p[i + 2] == '[' ? SetEnd(p, i + 2) : i + 2;
        continue;
      }
      if (d >= '0' && d <= '9') {  // a back-reference compares up to n bytes
        ++variable;
        ++items;
        i += 2;
        continue;
      }
      end = i + 2;
    } else if (c == '[') {
      end = SetEnd(p, i);
    }
    ++items;
    if (end < p.size() && (p[end] == '*' || p[end] == '+' || p[end] == '-')) {
      ++variable;
      ++end;
    } else if (end < p.size() && p[end] == '?') {
      ++end;
    }
    i = end;
  }
  const double steps = items * std::pow(length, variable) * (anchored ? 1.0 : length);
  return std::min(steps, 1e30);
}

namespace {

enum class ProbeOutcome { finished, too_slow, stopped, not_run };

// Runs the original function on the call's arguments in a forked copy of this process and
// waits for it at most `limit`. The child only runs the C matcher on its copy of the state
// and exits; whatever it does never reaches the parent.
ProbeOutcome Probe(lua_State* L, PatternFunction f, std::chrono::milliseconds limit, const CancellationToken* token) {
  const int args = lua_gettop(L);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return ProbeOutcome::not_run;
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    try {
      lua_pushvalue(L, lua_upvalueindex(1));
      for (int i = 1; i <= args; ++i) lua_pushvalue(L, i);
      if (f == PatternFunction::gsub && args >= 3) {
        lua_pushliteral(L, "");  // the matches cost the same; no Lua runs here
        lua_replace(L, -(args - 1));  // over the third argument
      }
      if (f == PatternFunction::gmatch) {
        if (lua_pcall(L, args, 1, 0) == LUA_OK) {
          const int iterator = lua_gettop(L);
          while (true) {
            lua_pushvalue(L, iterator);
            if (lua_pcall(L, 0, 1, 0) != LUA_OK || lua_isnil(L, -1)) break;
            lua_pop(L, 1);
          }
        }
      } else {
        lua_pcall(L, args, LUA_MULTRET, 0);
      }
    } catch (...) {
    }
    ::_exit(0);
  }
  const auto started = std::chrono::steady_clock::now();
  auto pause = std::chrono::microseconds(200);
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return ProbeOutcome::finished;
    const bool stopped = token != nullptr && token->stopped();
    if (stopped || std::chrono::steady_clock::now() - started >= limit) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return stopped ? ProbeOutcome::stopped : ProbeOutcome::too_slow;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10'000));
  }
}

template <PatternFunction F>
int Guarded(lua_State* L) {
  std::size_t subject_length = 0;
  std::size_t pattern_length = 0;
  // Bad arguments are left to the original function to report.
  if (lua_type(L, 1) == LUA_TSTRING && lua_type(L, 2) == LUA_TSTRING) {
    lua_tolstring(L, 1, &subject_length);
    const char* pattern = lua_tolstring(L, 2, &pattern_length);
    const bool plain = F == PatternFunction::find && lua_toboolean(L, 4);
    const double steps = WorstCasePatternSteps(std::string_view(pattern, pattern_length), subject_length, plain);
    if (steps > kDirectPatternSteps) {
      LuaSandbox& sandbox = LuaSandbox::From(L);
      switch (Probe(L, F, sandbox.script_time_left(), sandbox.watched())) {
        case ProbeOutcome::finished:
        case ProbeOutcome::not_run:  // no fork possible: run it and rely on the estimate's rarity
          break;
        case ProbeOutcome::stopped:
          return luaL_error(L, "%s", sandbox.watched()->stop_reason() == StopReason::timed_out ? "timed out" : "cancelled");
        case ProbeOutcome::too_slow:
          return luaL_error(L,
                            "%s: the pattern is too complex for a subject of %d bytes: it did not finish within the "
                            "script's time limit (%d ms of script time); simplify the pattern or match smaller pieces",
                            NameOf(F), static_cast<int>(subject_length),
                            static_cast<int>(sandbox.limits().script_time.count()));
      }
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

void Wrap(lua_State* L, int string_table, const char* name, lua_CFunction guarded) {
  lua_getfield(L, string_table, name);
  lua_pushcclosure(L, guarded, 1);
  lua_setfield(L, string_table, name);
}

}  // namespace

void InstallPatternGuard(lua_State* L) {
  lua_getglobal(L, LUA_STRLIBNAME);
  const int string_table = lua_gettop(L);
  Wrap(L, string_table, "find", &Guarded<PatternFunction::find>);
  Wrap(L, string_table, "match", &Guarded<PatternFunction::match>);
  Wrap(L, string_table, "gmatch", &Guarded<PatternFunction::gmatch>);
  Wrap(L, string_table, "gsub", &Guarded<PatternFunction::gsub>);
  lua_pop(L, 1);
}

}  // namespace kiln

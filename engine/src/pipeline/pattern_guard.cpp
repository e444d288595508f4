#include "pipeline/pattern_guard.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/lua_sandbox.hpp"

namespace kiln {

namespace {

const char* NameOf(PatternCall f) {
  switch (f) {
    case PatternCall::find: return "string.find";
    case PatternCall::match: return "string.match";
    case PatternCall::gmatch: return "string.gmatch";
    case PatternCall::gsub: return "string.gsub";
  }
  return "string";
}

// Where a [set] that starts at `i` ends (one past its ']'), as Lua's classend reads it: the
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

// lstrlib.c's SPECIALS: string.find without one of these is a plain search (lmemfind).
bool HasSpecials(std::string_view p) { return p.find_first_of("^$*+?.([%-") != std::string_view::npos; }

// One pattern item as match() sees it: how many ways on it tries (each a call into the rest
// of the pattern) and what one visit costs before those calls.
struct ItemCost {
  double branches = 1;
  double cost = 1;
};

// The items of `p` (without its anchor), in order. `length` is the subject length + 1.
// Costs are in the units the property test counts (tests/support/lua_matcher.hpp): one per
// entry into match(), per pattern byte classend or matchbracketclass reads, per singlematch
// call, per subject byte matchbalance or a back-reference reads, per capture_to_close loop.
std::vector<ItemCost> Items(std::string_view p, double length) {
  std::vector<ItemCost> items;
  std::size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '(') {  // start_capture, then match() on the rest
      i += i + 1 < p.size() && p[i + 1] == ')' ? 2 : 1;
      items.push_back({1, 1});
      continue;
    }
    if (c == ')') {  // end_capture: capture_to_close looks through up to 32 levels
      ++i;
      items.push_back({1, 1 + 32});
      continue;
    }
    if (c == '$' && i + 1 == p.size()) {
      ++i;
      items.push_back({1, 1});
      continue;
    }
    if (c == '%' && i + 1 < p.size()) {
      const char d = p[i + 1];
      if (d == 'b') {  // matchbalance scans up to the end of the subject
        i += 4;
        items.push_back({1, 2 + length});
        continue;
      }
      if (d == 'f') {  // classend over the set, then matchbracketclass twice
        const std::size_t end = i + 2 < p.size() && p[i + 2] == '[' ? SetEnd(p, i + 2) : i + 2;
        const double set = static_cast<double>(end - i);
        items.push_back({1, 1 + 3 * set});
        i = end;
        continue;
      }
      if (d >= '0' && d <= '9') {  // a back-reference compares up to the subject's length
        i += 2;
        items.push_back({1, 1 + length});
        continue;
      }
    }
    // A single-character class (a byte, '.', %x or a [set]) with an optional suffix.
    std::size_t end = c == '%' ? i + 2 : c == '[' ? SetEnd(p, i) : i + 1;
    end = std::min(end, p.size());
    const double width = static_cast<double>(end - i);
    const double one = 1 + width;  // singlematch, reading the class once
    const char suffix = end < p.size() ? p[end] : '\0';
    if (suffix == '*' || suffix == '+' || suffix == '-') {
      // max_expand/min_expand: up to `length` singlematch calls and `length` tries of the rest.
      items.push_back({length, 1 + width + one * (length + 1)});
      ++end;
    } else if (suffix == '?') {  // with the byte, then without it
      items.push_back({2, 1 + width + one});
      ++end;
    } else {
      items.push_back({1, 1 + width + one});
    }
    i = end;
  }
  return items;
}

}  // namespace

double WorstCasePatternSteps(const PatternCallShape& call) {
  const std::string_view p = call.pattern;
  const double length = static_cast<double>(call.subject_length) + 1;
  if (call.function == PatternCall::find && (call.plain || !HasSpecials(p))) {
    // lmemfind: memchr over the subject, and a compare of the pattern at each candidate.
    return length * static_cast<double>(p.size() + 1);
  }
  // gmatch has no anchor: a leading '^' is a plain byte there.
  const bool anchored = call.function != PatternCall::gmatch && !p.empty() && p[0] == '^';
  // Start positions: find and match try each once; gsub and gmatch may try one twice (an
  // empty match there, then the next byte).
  double starts = anchored ? 1 : call.function == PatternCall::gsub || call.function == PatternCall::gmatch
                                     ? 2 * length
                                     : length;
  // Per start: each item is visited once per way the items before it were tried, and the
  // end of the pattern once per way through all of them.
  double visits = 1;
  double per_start = 0;
  for (const ItemCost& item : Items(anchored ? p.substr(1) : p, length)) {
    per_start += visits * item.cost;
    visits = std::min(visits * item.branches, 1e30);
  }
  per_start += visits;
  // gsub adds its replacement string once per match (add_s reads it byte by byte).
  const double replacement = call.function == PatternCall::gsub ? static_cast<double>(call.replacement_length) : 0;
  return std::min(starts * (per_start + replacement), 1e30);
}

namespace {

enum class ProbeOutcome { finished, too_slow, stopped, not_run };

// Runs the original function on the call's arguments in a forked copy of this process and
// waits for it at most `limit`. The child only runs the C matcher on its copy of the state
// and exits; whatever it does never reaches the parent.
ProbeOutcome Probe(lua_State* L, PatternCall f, std::chrono::milliseconds limit, const CancellationToken* token) {
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
      if (f == PatternCall::gsub && args >= 3 && (lua_type(L, 3) == LUA_TFUNCTION || lua_type(L, 3) == LUA_TTABLE)) {
        // The matches cost the same; no Lua runs here. A string replacement stays: add_s
        // reads it once per match, and that is part of the cost being measured.
        lua_pushliteral(L, "");
        lua_replace(L, -(args - 1));  // over the third argument
      }
      if (f == PatternCall::gmatch) {
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

// The string the original function will read at `index` (a number is converted in place,
// as luaL_checklstring would), or nothing when it is neither: the original reports that.
std::optional<std::string_view> StringArgument(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TSTRING && lua_type(L, index) != LUA_TNUMBER) return std::nullopt;
  std::size_t length = 0;
  const char* text = lua_tolstring(L, index, &length);
  return std::string_view(text, length);
}

template <PatternCall F>
int Guarded(lua_State* L) {
  const auto subject = StringArgument(L, 1);
  const auto pattern = StringArgument(L, 2);
  if (subject && pattern) {
    PatternCallShape call{F, *pattern, subject->size()};
    call.plain = F == PatternCall::find && lua_toboolean(L, 4);
    if (F == PatternCall::gsub) {
      if (auto replacement = StringArgument(L, 3)) call.replacement_length = replacement->size();
    }
    if (WorstCasePatternSteps(call) > kDirectPatternSteps) {
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
                            NameOf(F), static_cast<int>(subject->size()),
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
  Wrap(L, string_table, "find", &Guarded<PatternCall::find>);
  Wrap(L, string_table, "match", &Guarded<PatternCall::match>);
  Wrap(L, string_table, "gmatch", &Guarded<PatternCall::gmatch>);
  Wrap(L, string_table, "gsub", &Guarded<PatternCall::gsub>);
  lua_pop(L, 1);
}

}  // namespace kiln

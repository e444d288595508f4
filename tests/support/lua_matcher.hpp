// An instrumented copy of Lua 5.4.4's pattern matcher (lstrlib.c: match and its helpers,
// str_find_aux, gmatch_aux, str_gsub with a string replacement), for the pattern guard's
// property test. The engine links the same Lua (liblua5.4-c++ 5.4.4), whose matcher is
// static and cannot be hooked: the count hook never fires inside it. So the copy is the
// algorithm line for line, with a counter bumped at each unit of work, and the property test
// checks on every case that it returns what the real string.find/match/gmatch/gsub returns
// (results and error messages), which is what makes its count the real matcher's work.
//
// Units: an entry into match() (its `init` label), a pattern byte read by classend or
// matchbracketclass, a singlematch call, a subject byte read by matchbalance, memcmp (a
// back-reference or lmemfind) or memchr, a loop of capture_to_close, a replacement byte
// read by add_s. Everything else match() does is constant per entry.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::testing {

/// A Lua error of the matcher ("malformed pattern (missing ']')", ...), with Lua's text.
struct MatcherError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Thrown when the count passes the budget the caller gave.
struct StepBudgetExceeded : std::runtime_error {
  StepBudgetExceeded() : std::runtime_error("step budget exceeded") {}
};

struct CountedMatch {
  /// What the real function returns, one rendered value each: "i:3" (an integer), "s:ab" (a
  /// string), "nil". For gmatch, every iteration's values in turn, then "end".
  std::vector<std::string> values;
  std::uint64_t steps = 0;
};

/// string.find(subject, pattern, 1, plain)
CountedMatch CountedFind(const std::string& subject, const std::string& pattern, bool plain, std::uint64_t budget);
/// string.match(subject, pattern)
CountedMatch CountedMatchCall(const std::string& subject, const std::string& pattern, std::uint64_t budget);
/// for ... in string.gmatch(subject, pattern) do end
CountedMatch CountedGmatch(const std::string& subject, const std::string& pattern, std::uint64_t budget);
/// string.gsub(subject, pattern, replacement)
CountedMatch CountedGsub(const std::string& subject, const std::string& pattern, const std::string& replacement,
                         std::uint64_t budget);

}  // namespace kiln::testing

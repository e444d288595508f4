// Transcribed from lua/lua tag v5.4.4, lstrlib.c lines 352-980 (the "PATTERN MATCHING"
// section). Changes: C++ (exceptions for luaL_error), results rendered as strings instead of
// pushed, and Count() at each unit of work (see lua_matcher.hpp). Control flow, including
// the gotos, is kept as it is there.
#include "support/lua_matcher.hpp"

#include <cctype>
#include <cstddef>
#include <cstring>

namespace kiln::testing {

namespace {

constexpr int kMaxCaptures = 32;  // LUA_MAXCAPTURES
constexpr int kMaxCCalls = 200;   // MAXCCALLS
constexpr std::ptrdiff_t kCapUnfinished = -1;
constexpr std::ptrdiff_t kCapPosition = -2;
constexpr char kEsc = '%';
constexpr const char* kSpecials = "^$*+?.([%-";

unsigned char uchar(char c) { return static_cast<unsigned char>(c); }

struct MatchState {
  const char* src_init;
  const char* src_end;
  const char* p_end;
  int matchdepth;
  unsigned char level;
  struct {
    const char* init;
    std::ptrdiff_t len;
  } capture[kMaxCaptures];
  std::uint64_t steps = 0;
  std::uint64_t budget = 0;
};

void Count(MatchState* ms, std::uint64_t n = 1) {
  ms->steps += n;
  if (ms->steps > ms->budget) throw StepBudgetExceeded();
}

[[noreturn]] void Error(const std::string& message) { throw MatcherError(message); }

const char* match(MatchState* ms, const char* s, const char* p);

int check_capture(MatchState* ms, int l) {
  l -= '1';
  if (l < 0 || l >= ms->level || ms->capture[l].len == kCapUnfinished)
    Error("invalid capture index %" + std::to_string(l + 1));
  return l;
}

int capture_to_close(MatchState* ms) {
  int level = ms->level;
  for (level--; level >= 0; level--) {
    Count(ms);
    if (ms->capture[level].len == kCapUnfinished) return level;
  }
  Error("invalid pattern capture");
}

const char* classend(MatchState* ms, const char* p) {
  Count(ms);
  switch (*p++) {
    case kEsc: {
      if (p == ms->p_end) Error("malformed pattern (ends with '%')");
      return p + 1;
    }
    case '[': {
      if (*p == '^') p++;
      do { /* look for a ']' */
        Count(ms);
        if (p == ms->p_end) Error("malformed pattern (missing ']')");
        if (*(p++) == kEsc && p < ms->p_end) p++; /* skip escapes (e.g. '%]') */
      } while (*p != ']');
      return p + 1;
    }
    default: {
      return p;
    }
  }
}

int match_class(int c, int cl) {
  int res;
  switch (std::tolower(cl)) {
    case 'a': res = std::isalpha(c); break;
    case 'c': res = std::iscntrl(c); break;
    case 'd': res = std::isdigit(c); break;
    case 'g': res = std::isgraph(c); break;
    case 'l': res = std::islower(c); break;
    case 'p': res = std::ispunct(c); break;
    case 's': res = std::isspace(c); break;
    case 'u': res = std::isupper(c); break;
    case 'w': res = std::isalnum(c); break;
    case 'x': res = std::isxdigit(c); break;
    case 'z': res = (c == 0); break; /* deprecated option */
    default: return (cl == c);
  }
  return (std::islower(cl) ? res : !res);
}

int matchbracketclass(MatchState* ms, int c, const char* p, const char* ec) {
  int sig = 1;
  if (*(p + 1) == '^') {
    sig = 0;
    p++; /* skip the '^' */
  }
  while (++p < ec) {
    Count(ms);
    if (*p == kEsc) {
      p++;
      if (match_class(c, uchar(*p))) return sig;
    } else if ((*(p + 1) == '-') && (p + 2 < ec)) {
      p += 2;
      if (uchar(*(p - 2)) <= c && c <= uchar(*p)) return sig;
    } else if (uchar(*p) == c)
      return sig;
  }
  return !sig;
}

int singlematch(MatchState* ms, const char* s, const char* p, const char* ep) {
  Count(ms);
  if (s >= ms->src_end)
    return 0;
  else {
    int c = uchar(*s);
    switch (*p) {
      case '.': return 1; /* matches any char */
      case kEsc: return match_class(c, uchar(*(p + 1)));
      case '[': return matchbracketclass(ms, c, p, ep - 1);
      default: return (uchar(*p) == c);
    }
  }
}

const char* matchbalance(MatchState* ms, const char* s, const char* p) {
  if (p >= ms->p_end - 1) Error("malformed pattern (missing arguments to '%b')");
  Count(ms);
  if (*s != *p)
    return nullptr;
  else {
    int b = *p;
    int e = *(p + 1);
    int cont = 1;
    while (++s < ms->src_end) {
      Count(ms);
      if (*s == e) {
        if (--cont == 0) return s + 1;
      } else if (*s == b)
        cont++;
    }
  }
  return nullptr; /* string ends out of balance */
}

const char* max_expand(MatchState* ms, const char* s, const char* p, const char* ep) {
  std::ptrdiff_t i = 0; /* counts maximum expand for item */
  while (singlematch(ms, s + i, p, ep)) i++;
  /* keeps trying to match with the maximum repetitions */
  while (i >= 0) {
    const char* res = match(ms, (s + i), ep + 1);
    if (res) return res;
    i--; /* else didn't match; reduce 1 repetition to try again */
  }
  return nullptr;
}

const char* min_expand(MatchState* ms, const char* s, const char* p, const char* ep) {
  for (;;) {
    const char* res = match(ms, s, ep + 1);
    if (res != nullptr)
      return res;
    else if (singlematch(ms, s, p, ep))
      s++; /* try with one more repetition */
    else
      return nullptr;
  }
}

const char* start_capture(MatchState* ms, const char* s, const char* p, std::ptrdiff_t what) {
  const char* res;
  int level = ms->level;
  if (level >= kMaxCaptures) Error("too many captures");
  ms->capture[level].init = s;
  ms->capture[level].len = what;
  ms->level = static_cast<unsigned char>(level + 1);
  if ((res = match(ms, s, p)) == nullptr) /* match failed? */
    ms->level--;                          /* undo capture */
  return res;
}

const char* end_capture(MatchState* ms, const char* s, const char* p) {
  int l = capture_to_close(ms);
  const char* res;
  ms->capture[l].len = s - ms->capture[l].init; /* close capture */
  if ((res = match(ms, s, p)) == nullptr)       /* match failed? */
    ms->capture[l].len = kCapUnfinished;        /* undo capture */
  return res;
}

const char* match_capture(MatchState* ms, const char* s, int l) {
  std::size_t len;
  l = check_capture(ms, l);
  len = static_cast<std::size_t>(ms->capture[l].len);
  if (static_cast<std::size_t>(ms->src_end - s) >= len) {
    Count(ms, len);  // memcmp reads up to len bytes
    if (std::memcmp(ms->capture[l].init, s, len) == 0) return s + len;
  }
  return nullptr;
}

const char* match(MatchState* ms, const char* s, const char* p) {
  if (ms->matchdepth-- == 0) Error("pattern too complex");
init: /* using goto's to optimize tail recursion */
  Count(ms);
  if (p != ms->p_end) { /* end of pattern? */
    switch (*p) {
      case '(': {                /* start capture */
        if (*(p + 1) == ')') /* position capture? */
          s = start_capture(ms, s, p + 2, kCapPosition);
        else
          s = start_capture(ms, s, p + 1, kCapUnfinished);
        break;
      }
      case ')': { /* end capture */
        s = end_capture(ms, s, p + 1);
        break;
      }
      case '$': {
        if ((p + 1) != ms->p_end) /* is the '$' the last char in pattern? */
          goto dflt;              /* no; go to default */
        s = (s == ms->src_end) ? s : nullptr; /* check end of string */
        break;
      }
      case kEsc: { /* escaped sequences not in the format class[*+?-]? */
        switch (*(p + 1)) {
          case 'b': { /* balanced string? */
            s = matchbalance(ms, s, p + 2);
            if (s != nullptr) {
              p += 4;
              goto init; /* return match(ms, s, p + 4); */
            } /* else fail (s == NULL) */
            break;
          }
          case 'f': { /* frontier? */
            const char* ep;
            char previous;
            p += 2;
            if (*p != '[') Error("missing '[' after '%f' in pattern");
            ep = classend(ms, p); /* points to what is next */
            previous = (s == ms->src_init) ? '\0' : *(s - 1);
            if (!matchbracketclass(ms, uchar(previous), p, ep - 1) && matchbracketclass(ms, uchar(*s), p, ep - 1)) {
              p = ep;
              goto init; /* return match(ms, s, ep); */
            }
            s = nullptr; /* match failed */
            break;
          }
          case '0': case '1': case '2': case '3': case '4':
          case '5': case '6': case '7': case '8': case '9': { /* capture results (%0-%9)? */
            s = match_capture(ms, s, uchar(*(p + 1)));
            if (s != nullptr) {
              p += 2;
              goto init; /* return match(ms, s, p + 2) */
            }
            break;
          }
          default: goto dflt;
        }
        break;
      }
      default:
      dflt : { /* pattern class plus optional suffix */
        const char* ep = classend(ms, p); /* points to optional suffix */
        /* does not match at least once? */
        if (!singlematch(ms, s, p, ep)) {
          if (*ep == '*' || *ep == '?' || *ep == '-') { /* accept empty? */
            p = ep + 1;
            goto init; /* return match(ms, s, ep + 1); */
          } else       /* '+' or no suffix */
            s = nullptr; /* fail */
        } else {         /* matched once */
          switch (*ep) { /* handle optional suffix */
            case '?': {  /* optional */
              const char* res;
              if ((res = match(ms, s + 1, ep + 1)) != nullptr)
                s = res;
              else {
                p = ep + 1;
                goto init; /* else return match(ms, s, ep + 1); */
              }
              break;
            }
            case '+': /* 1 or more repetitions */
              s++;    /* 1 match already done */
              [[fallthrough]];
            case '*': /* 0 or more repetitions */
              s = max_expand(ms, s, p, ep);
              break;
            case '-': /* 0 or more repetitions (minimum) */
              s = min_expand(ms, s, p, ep);
              break;
            default: /* no suffix */
              s++;
              p = ep;
              goto init; /* return match(ms, s + 1, ep); */
          }
        }
        break;
      }
    }
  }
  ms->matchdepth++;
  return s;
}

const char* lmemfind(MatchState* ms, const char* s1, std::size_t l1, const char* s2, std::size_t l2) {
  if (l2 == 0)
    return s1; /* empty strings are everywhere */
  else if (l2 > l1)
    return nullptr; /* avoids a negative 'l1' */
  else {
    const char* init; /* to search for a '*s2' inside 's1' */
    l2--;             /* 1st char will be checked by 'memchr' */
    l1 = l1 - l2;     /* 's2' cannot be found after that */
    while (l1 > 0 && (init = static_cast<const char*>(std::memchr(s1, *s2, l1))) != nullptr) {
      Count(ms, static_cast<std::uint64_t>(init - s1 + 1));  // bytes memchr read
      init++;                                                  /* 1st char is already checked */
      Count(ms, l2);                                           // bytes memcmp may read
      if (std::memcmp(init, s2 + 1, l2) == 0)
        return init - 1;
      else { /* correct 'l1' and 's1' to try again */
        l1 -= init - s1;
        s1 = init;
      }
    }
    Count(ms, l1);  // the last memchr, which found nothing
    return nullptr; /* not found */
  }
}

// get_onecapture + push_onecapture, rendered.
std::string OneCapture(MatchState* ms, int i, const char* s, const char* e) {
  if (i >= ms->level) {
    if (i != 0) Error("invalid capture index %" + std::to_string(i + 1));
    return "s:" + std::string(s, static_cast<std::size_t>(e - s));
  }
  std::ptrdiff_t capl = ms->capture[i].len;
  if (capl == kCapUnfinished) Error("unfinished capture");
  if (capl == kCapPosition) return "i:" + std::to_string((ms->capture[i].init - ms->src_init) + 1);
  return "s:" + std::string(ms->capture[i].init, static_cast<std::size_t>(capl));
}

void PushCaptures(MatchState* ms, const char* s, const char* e, std::vector<std::string>& out) {
  int nlevels = (ms->level == 0 && s) ? 1 : ms->level;
  for (int i = 0; i < nlevels; i++) out.push_back(OneCapture(ms, i, s, e));
}

bool NoSpecials(const std::string& p) {
  // nospecials: strpbrk on each '\0'-separated piece, i.e. no special byte anywhere.
  for (char c : p) {
    if (c != '\0' && std::strchr(kSpecials, c) != nullptr) return false;
  }
  return true;
}

void PrepState(MatchState* ms, const std::string& s, const char* p, std::size_t lp, std::uint64_t budget) {
  ms->matchdepth = kMaxCCalls;
  ms->src_init = s.c_str();
  ms->src_end = s.c_str() + s.size();
  ms->p_end = p + lp;
  ms->level = 0;
  ms->budget = budget;
}

CountedMatch FindAux(const std::string& subject, const std::string& pattern, bool find, bool plain,
                     std::uint64_t budget) {
  CountedMatch out;
  MatchState ms{};
  const char* s = subject.c_str();
  std::size_t ls = subject.size();
  const char* p = pattern.c_str();
  std::size_t lp = pattern.size();
  PrepState(&ms, subject, p, lp, budget);
  if (find && (plain || NoSpecials(pattern))) {
    const char* s2 = lmemfind(&ms, s, ls, p, lp);
    out.steps = ms.steps;
    if (s2) {
      out.values = {"i:" + std::to_string((s2 - s) + 1), "i:" + std::to_string((s2 - s) + static_cast<long>(lp))};
      return out;
    }
  } else {
    const char* s1 = s;
    int anchor = (*p == '^');
    if (anchor) {
      p++;
      lp--; /* skip anchor character */
    }
    PrepState(&ms, subject, p, lp, budget);
    do {
      const char* res;
      ms.level = 0;
      if ((res = match(&ms, s1, p)) != nullptr) {
        out.steps = ms.steps;
        if (find) {
          out.values = {"i:" + std::to_string((s1 - s) + 1), "i:" + std::to_string(res - s)};
          PushCaptures(&ms, nullptr, nullptr, out.values);
        } else {
          PushCaptures(&ms, s1, res, out.values);
        }
        return out;
      }
    } while (s1++ < ms.src_end && !anchor);
    out.steps = ms.steps;
  }
  out.values = {"nil"};
  return out;
}

}  // namespace

CountedMatch CountedFind(const std::string& subject, const std::string& pattern, bool plain, std::uint64_t budget) {
  return FindAux(subject, pattern, true, plain, budget);
}

CountedMatch CountedMatchCall(const std::string& subject, const std::string& pattern, std::uint64_t budget) {
  return FindAux(subject, pattern, false, false, budget);
}

CountedMatch CountedGmatch(const std::string& subject, const std::string& pattern, std::uint64_t budget) {
  CountedMatch out;
  MatchState ms{};
  PrepState(&ms, subject, pattern.c_str(), pattern.size(), budget);
  const char* next = subject.c_str();  // gm->src
  const char* lastmatch = nullptr;
  while (true) {  // one gmatch_aux call per iteration of the for loop
    bool found = false;
    for (const char* src = next; src <= ms.src_end; src++) {
      const char* e;
      ms.level = 0;
      if ((e = match(&ms, src, pattern.c_str())) != nullptr && e != lastmatch) {
        next = lastmatch = e;
        PushCaptures(&ms, src, e, out.values);
        found = true;
        break;
      }
    }
    if (!found) break;
  }
  out.values.push_back("end");
  out.steps = ms.steps;
  return out;
}

CountedMatch CountedGsub(const std::string& subject, const std::string& pattern, const std::string& replacement,
                         std::uint64_t budget) {
  CountedMatch out;
  MatchState ms{};
  const char* src = subject.c_str();
  const char* p = pattern.c_str();
  std::size_t lp = pattern.size();
  const char* lastmatch = nullptr;
  long max_s = static_cast<long>(subject.size()) + 1;
  int anchor = (*p == '^');
  long n = 0;
  std::string b;
  if (anchor) {
    p++;
    lp--;
  }
  PrepState(&ms, subject, p, lp, budget);
  while (n < max_s) {
    const char* e;
    ms.level = 0;
    if ((e = match(&ms, src, p)) != nullptr && e != lastmatch) { /* match? */
      n++;
      // add_value with a string replacement: add_s.
      const char* news = replacement.c_str();
      std::size_t l = replacement.size();
      const char* q;
      while ((q = static_cast<const char*>(std::memchr(news, kEsc, l))) != nullptr) {
        Count(&ms, static_cast<std::uint64_t>(q - news + 1));
        b.append(news, static_cast<std::size_t>(q - news));
        q++; /* skip ESC */
        if (*q == kEsc)
          b.push_back(*q);
        else if (*q == '0')
          b.append(src, static_cast<std::size_t>(e - src));
        else if (std::isdigit(uchar(*q))) {
          std::string cap = OneCapture(&ms, *q - '1', src, e);
          b.append(cap.substr(2));
        } else
          Error("invalid use of '%' in replacement string");
        l -= static_cast<std::size_t>(q + 1 - news);
        news = q + 1;
      }
      Count(&ms, l);
      b.append(news, l);
      src = lastmatch = e;
    } else if (src < ms.src_end) /* otherwise, skip one character */
      b.push_back(*src++);
    else
      break; /* end of subject */
    if (anchor) break;
  }
  b.append(src, static_cast<std::size_t>(ms.src_end - src));
  out.values = {"s:" + b, "i:" + std::to_string(n)};
  out.steps = ms.steps;
  return out;
}

}  // namespace kiln::testing

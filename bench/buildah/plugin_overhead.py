#!/usr/bin/env python3
"""The plugin's own time around its `buildah bud`, from strace logs of the bench driver.

    plugin_overhead.py TRACE...

Each TRACE is `strace -q -ttt -e trace=clone,clone3,wait4` of one run of
buildah_bench_driver, without -f: only the driver is traced, so the buildah processes it
starts run at full speed. A child's wall time is from the clone that made it to the
SIGCHLD that reports its exit; the longest child is the `buildah bud` (the others are
`buildah inspect` and `buildah images`, tens of milliseconds). The driver's wall time is
from its execve to its exit. Their ratio is "the plugin against buildah bud by hand with
the same flags", both measured in the same run, so the noise between runs does not enter.
The driver's own start-up (loading, a temp dir) counts as the plugin's: an upper bound.
"""
import re
import statistics
import sys

STAMP = re.compile(r"^(\d+\.\d+)\s+(.*)$")
CLONE = re.compile(r"^clone3?\(.*\)\s+=\s+(\d+)$")
CHILD_EXIT = re.compile(r"^--- SIGCHLD \{.*si_pid=(\d+),")


def measure(path):
    first = last = None
    born = {}
    died = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        m = STAMP.match(line.strip())
        if not m:
            continue
        when, rest = float(m[1]), m[2]
        if first is None:
            first = when
        last = when
        if c := CLONE.match(rest):
            born[int(c[1])] = when
        elif e := CHILD_EXIT.match(rest):
            died[int(e[1])] = when
    lives = [died[p] - born[p] for p in born if p in died]
    if first is None or not lives:
        raise SystemExit(f"{path}: no child process in the trace")
    return last - first, max(lives), len(lives)


def main():
    rows = [measure(p) for p in sys.argv[1:]]
    print("| run | plugin (driver) s | its buildah bud s | plugin's own s | processes | plugin ÷ bud |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for i, (total, bud, children) in enumerate(rows, 1):
        print(f"| {i} | {total:.3f} | {bud:.3f} | {total - bud:.3f} | {children} | {total / bud:.3f}× |")
    ratios = [t / b for t, b, _ in rows]
    own = [t - b for t, b, _ in rows]
    print(f"| median | | | {statistics.median(own):.3f} | | **{statistics.median(ratios):.3f}×** "
          f"({min(ratios):.3f}–{max(ratios):.3f}) |")


if __name__ == "__main__":
    main()

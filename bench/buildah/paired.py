#!/usr/bin/env python3
"""Times commands side by side, interleaved round by round (the machine's load changes less
within a round than across a hyperfine series), and prints medians and the per-round ratio
of each command to the first.

  paired.py RUNS NAME COMMAND [PREPARE] -- NAME COMMAND [PREPARE] -- ...

PREPARE (optional, not timed) runs before each timed run of its command. Commands run
through /bin/bash; a failing command stops the benchmark.
"""
import statistics
import subprocess
import sys
import time


def parse(argv):
    runs = int(argv[0])
    groups, current = [], []
    for arg in argv[1:]:
        if arg == "--":
            groups.append(current)
            current = []
        else:
            current.append(arg)
    if current:
        groups.append(current)
    return runs, [(g[0], g[1], g[2] if len(g) > 2 else None) for g in groups]


def run(command):
    subprocess.run(["/bin/bash", "-c", command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    runs, commands = parse(sys.argv[1:])
    times = {name: [] for name, _, _ in commands}
    for _ in range(runs):
        for name, command, prepare in commands:
            if prepare:
                run(prepare)
            start = time.monotonic()
            run(command)
            times[name].append(time.monotonic() - start)
    base = commands[0][0]
    print(f"| command | median [s] | min–max [s] | ratio to '{base}' (median of rounds, min–max) |")
    print("|:---|---:|---:|---:|")
    for name, _, _ in commands:
        t = times[name]
        ratios = [a / b for a, b in zip(t, times[base])]
        print(f"| {name} | {statistics.median(t):.3f} | {min(t):.3f}–{max(t):.3f} | "
              f"{statistics.median(ratios):.3f}× ({min(ratios):.3f}–{max(ratios):.3f}) |")
    print(f"({runs} rounds; load average now {open('/proc/loadavg').read().split()[0:3]})")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The worker's cost of a 1M-line log (issue 18), for side-by-side comparisons of two builds:

  python3 bench/logs/worker_cpu.py BUILD_DIR [RUNS]

On the stack of tests/browser/stack.py (nats-server, kiln worker, kiln gateway on loopback,
logs.max_bytes 128MiB), per run: the same awk writing 1,000,000 lines of 80 bytes to a file,
then a job printing them (pipeline "loud"): the step's duration_ms, the worker process's CPU
time across the job (utime + stime of /proc/<pid>/stat, all its threads), and the wall time
from submit to the final state. Prints each run and the medians. Compare two builds by
running it on each, one after the other, on a quiet machine.
"""
import os, statistics, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "browser"))
from stack import Stack  # noqa: E402

GEN = "awk 'BEGIN{for(i=1;i<=1000000;i++) printf \"%07d %072d\\n\", i, i}'"


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


build = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
steps, cpus, walls, files = [], [], [], []
with Stack(build, max_log_bytes="128MiB") as stack:
    stack.submit("quick", wait=True)  # the worker warm
    pid = stack.procs["worker"].pid
    out = os.path.join(stack.tmp, "file.txt")
    for r in range(runs):
        t = time.time()
        subprocess.run(["sh", "-c", f"{GEN} > {out}"], check=True)
        files.append(time.time() - t)
        c0, t0 = cpu_seconds(pid), time.time()
        job = stack.submit("loud", wait=True)
        walls.append(time.time() - t0)
        cpus.append(cpu_seconds(pid) - c0)
        steps.append(stack.state(job)["steps"][0]["duration_ms"] / 1000)
        print(f"run {r}: step {steps[-1]:.2f} s, worker CPU {cpus[-1]:.2f} s, job {walls[-1]:.2f} s, "
              f"file {files[-1]:.2f} s, step/file {steps[-1] / files[-1]:.2f}", flush=True)
med = statistics.median
print(f"median: step {med(steps):.2f} s ({min(steps):.2f}-{max(steps):.2f}), worker CPU {med(cpus):.2f} s "
      f"({min(cpus):.2f}-{max(cpus):.2f}), job {med(walls):.2f} s, file {med(files):.2f} s, "
      f"step/file {med([s / f for s, f in zip(steps, files)]):.2f}")

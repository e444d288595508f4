#!/usr/bin/env python3
"""The gateway's build page under load, in headless Debian chromium (tests/browser's
playwright-core), against the real stack of tests/browser/stack.py:

  python3 bench/gateway/page.py BUILD_DIR [RUNS]

Per run: a job that prints 1,000,000 lines of 80 bytes (logs.max_bytes 128MiB: nothing cut),
then the page on it (bench/gateway/page_bench.mjs), opened as a new document (a link in a new
tab): navigation to the first log rows painted at the tail, to line 1,000,000 shown (the page
asks for the log's tail first), to the whole log held; 120 random scroll jumps (longest
frame); a search for line 42 from Enter to the line shown, at once (the page holds the tail
only) and once the whole log is held. The gateway's RSS with 200 open
SSE streams (GET /builds/<id>/events of a running, sleeping job, bearer token, raw sockets).
Event latency: a job of 100 short steps with the page open on it; each step.started event's
`time` (the worker's clock) to Date.now() in the page (same machine). Prints medians and
min-max over RUNS (default 3).
"""
import json, os, socket, statistics, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "browser"))
from stack import Stack  # noqa: E402

build = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def node(stack, mode, job):
    env = dict(os.environ, KILN_URL=stack.url, KILN_TOKEN=stack.token, JOB=job, MODE=mode)
    r = subprocess.run(["node", os.path.join(here, "page_bench.mjs")], env=env, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"page_bench {mode}: {r.stdout}{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_streams(stack, job, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", stack.port), 5)
        s.sendall(f"GET /builds/{job}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                  f"Authorization: Bearer {stack.token}\r\n\r\n".encode())
        socks.append(s)
    ok = 0
    for s in socks:
        s.settimeout(10)
        head = s.recv(65536)
        ok += head.startswith(b"HTTP/1.1 200")
    return socks, ok


figures = {}
def add(k, v):
    figures.setdefault(k, []).append(v)

with Stack(build, max_log_bytes="128MiB", gateway_extra="max_connections_per_address: 512") as stack:
    for r in range(runs):
        loud = stack.submit("loud", wait=True)
        st = stack.state(loud)
        log = node(stack, "log", loud)
        print(f"run {r}: log {json.dumps(log)} (state {st['status']}, {st.get('log', {}).get('lines')} lines)", flush=True)
        add("1M log: navigation to first rows at the tail, ms", log["first_rows_ms"])
        add("1M log: navigation to line 1,000,000 shown, ms", log["last_line_ms"])
        add("1M log: navigation to whole log held, ms", log["complete_ms"])
        add("1M log: page JS heap, MiB", log["js_heap_mb"])
        add("1M log: page's own time in its log handler, ms", log["page_ingest_ms"])
        add("1M log: times the server dropped the log stream (resumed)", log["stream_reconnects"])
        add("1M log: random scroll jumps, median frame ms", log["scroll"]["median_frame_ms"])
        add("1M log: random scroll jumps, longest frame ms", log["scroll"]["max_frame_ms"])
        add("1M log: search line 42 at once (tail shown, rest streaming), Enter to shown, ms", log["search_early_ms"])
        add("1M log: search line 42 with the whole log held, Enter to shown, ms", log["search_ms"])

        sleeper = stack.submit("sleep")
        stack.wait_status(sleeper, ["running"])
        time.sleep(1)
        pid = stack.procs["gateway"].pid
        before = rss_mib(pid)
        socks, ok = open_streams(stack, sleeper, 200)
        time.sleep(2)
        after = rss_mib(pid)
        for s in socks:
            s.close()
        stack.api("POST", f"/builds/{sleeper}/cancel")
        print(f"run {r}: gateway RSS {before:.1f} MiB -> {after:.1f} MiB with {ok} of 200 event streams open", flush=True)
        add("gateway RSS idle, MiB", before)
        add("gateway RSS with 200 SSE streams, MiB", after)
        add("gateway RSS per SSE stream, KiB", (after - before) * 1024 / 200)

        steps = stack.submit("steps100")
        lat = node(stack, "latency", steps)
        print(f"run {r}: event latency {json.dumps(lat)}", flush=True)
        add("step.started NATS->page latency p50, ms", lat["p50_ms"])
        add("step.started NATS->page latency p99, ms", lat["p99_ms"])

print()
w = max(len(k) for k in figures)
print(f"{'figure':<{w}}  {'median':>9}  {'min-max':>20}   (runs: {runs})")
for k, v in figures.items():
    print(f"{k:<{w}}  {statistics.median(v):9.1f}  {min(v):9.1f}-{max(v):<9.1f}")
print("load average:", open("/proc/loadavg").read().split()[:3])

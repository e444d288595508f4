#!/usr/bin/env bash
# The job sandbox's cost per process (issue 17): /bin/true run plainly, under a bare bwrap
# (the floor of any bwrap sandbox) and in the sandbox, interleaved in one process, RUNS times each, in SETS separate runs; medians and spreads.
# Goal: the sandbox adds at most 5 ms per process. Writes docs/benchmarks/sandbox.md unless
# SANDBOX_DOC= is empty.
# Usage: bench/sandbox/run.sh BUILD_DIR [RUNS] [SETS]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "$1" && pwd)
runs=${2:-200}
sets=${3:-5}
doc=${SANDBOX_DOC-docs/benchmarks/sandbox.md}
cmake --build "$build" --target kiln_bench_sandbox >/dev/null
work=$(mktemp -d /tmp/kiln-bench-sandbox-XXXXXX)
chmod 711 "$work"
trap 'rm -rf "$work"' EXIT
for set in $(seq 1 "$sets"); do
  "$build/bin/kiln_bench_sandbox" "$work/$set" "$runs" >"$work/set-$set.json"
done
python3 - "$work" "$sets" "$runs" "$doc" <<'PY'
import json, statistics, sys, os, platform, subprocess
work, sets, runs, doc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = []
for s in range(1, sets + 1):
    data = json.load(open(f"{work}/set-{s}.json"))
    med = {k: statistics.median([x for x in v if x >= 0]) for k, v in data.items()}
    fails = {k: sum(1 for x in v if x < 0) for k, v in data.items()}
    rows.append((s, med, fails))
def spread(key):
    values = [m[key] for _, m, _ in rows]
    return statistics.median(values), min(values), max(values)
added = [m["sandboxed"] - m["plain"] for _, m, _ in rows]
added_egress = [m["sandboxed_egress"] - m["plain"] for _, m, _ in rows]
lines = []
lines.append(f"{sets} runs of {runs} interleaved `/bin/true` each (egress: every 4th), on {os.cpu_count()} cores, "
             f"{platform.release()}; bubblewrap {subprocess.run(['bwrap','--version'],capture_output=True,text=True).stdout.split()[-1]}; "
             f"load average at the end {os.getloadavg()[0]:.1f}.")
lines.append("")
lines.append("| run | plain (ms) | bare bwrap (ms) | added | sandboxed (ms) | added | sandboxed + egress (ms) | added | failures |")
lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for s, m, f in rows:
    lines.append(f"| {s} | {m['plain']:.2f} | {m['bare_bwrap']:.2f} | {m['bare_bwrap']-m['plain']:.2f} | "
                 f"{m['sandboxed']:.2f} | {m['sandboxed']-m['plain']:.2f} | "
                 f"{m['sandboxed_egress']:.2f} | {m['sandboxed_egress']-m['plain']:.2f} | {sum(f.values())} |")
added_bare = [m["bare_bwrap"] - m["plain"] for _, m, _ in rows]
beyond_bare = [m["sandboxed"] - m["bare_bwrap"] for _, m, _ in rows]
lines.append("")
lines.append(f"Added per process, median of the runs' medians: **{statistics.median(added):.2f} ms** "
             f"(runs: {min(added):.2f}–{max(added):.2f}; goal ≤ 5 ms), of which a bare `bwrap --ro-bind / / /bin/true` "
             f"costs {statistics.median(added_bare):.2f} ms ({min(added_bare):.2f}–{max(added_bare):.2f}) and kiln's "
             f"sandbox beyond it {statistics.median(beyond_bare):.2f} ms ({min(beyond_bare):.2f}–{max(beyond_bare):.2f}); with egress (slirp4netns started and "
             f"attached): {statistics.median(added_egress):.2f} ms ({min(added_egress):.2f}–{max(added_egress):.2f}).")
text = "\n".join(lines)
print(text)
if doc:
    begin, end = "<!-- sandbox-bench:begin -->", "<!-- sandbox-bench:end -->"
    page = open(doc).read() if os.path.exists(doc) else ""
    if begin in page:
        head, rest = page.split(begin, 1)
        tail = rest.split(end, 1)[1]
        page = head + begin + "\n" + text + "\n" + end + tail
    else:
        page = page + begin + "\n" + text + "\n" + end + "\n"
    open(doc, "w").write(page)
PY

#!/usr/bin/env bash
# kiln end to end against the raw tools, side by side in one run (issue 9).
#
#   bench/e2e/run.sh BUILD_DIR [RUNS]          (RUNS: default 5; CONCURRENT_RUNS: default RUNS)
#
# Makes the sample repository (bench/e2e/make_sample.sh: an NX workspace of 12 TypeScript
# projects, a complete lockfile, a Dockerfile FROM a local busybox base image), serves it
# with `git daemon`, starts nats-server, and measures:
#   cold   kiln: `kiln submit --wait` (over NATS, until job.succeeded) with every cache empty,
#          against plain_build.sh (git clone, npm ci, npx nx run-many, buildah bud) with its
#          npm cache empty; both buildah stores hold only the base image.
#   warm   the next commit (one library changed), right after the cold build of each side.
#   8 at once   8 sample repositories, each given a new commit, submitted together, on one
#          worker and on two worker processes (pool WORKER_POOL each, default 2): time until
#          the last job.succeeded. Each repository has been built once before (untimed).
# Cold and warm alternate which side goes first. Prints a table (median, min–max), kiln's
# and the plain script's time per phase, writes the table to E2E_RESULTS (default
# WORK/results.md) and into docs/benchmarks/e2e.md between its markers (E2E_DOC: another
# file, or empty for none). WORK (a temp dir) is removed at the end unless KEEP=1.
# E2E_SANDBOX=false runs kiln's jobs without the job sandbox.
# E2E_BASELINE=unsandboxed measures what the job sandbox costs: the baseline side is kiln
# itself with `sandbox.enabled: false` (own caches and store) instead of the plain script,
# cold and warm only; the figures go into docs/benchmarks/sandbox.md.
set -euo pipefail
build=$(cd "${1:?usage: bench/e2e/run.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-5}
concurrent_runs=${CONCURRENT_RUNS:-$runs}
pool=${WORKER_POOL:-2}
baseline=${E2E_BASELINE:-plain}
case "$baseline" in
  plain) baseline_label="plain script" ;;
  unsandboxed) baseline_label="kiln, sandbox off"; concurrent_runs=0 ;;
  *) echo "E2E_BASELINE must be plain or unsandboxed, not '$baseline'" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
kiln=$build/bin/kiln
sample=$here/make_sample.sh
[ -x "$kiln" ] || { echo "no $kiln: build the targets kiln git nx cache buildah first" >&2; exit 2; }
for plugin in git nx cache buildah; do
  ls "$build"/lib/kiln/plugins/*"$plugin"* >/dev/null 2>&1 || { echo "plugin $plugin is not built in $build" >&2; exit 2; }
done

work=$(mktemp -d /tmp/kiln-bench-e2e-XXXXXX)
chmod 711 "$work"  # the job sandbox's uid enters it to reach the workspaces
results=${E2E_RESULTS:-$work/results.md}
pids=()
workers=()
# A killed worker leaves its cache restores mounted (overlays) until a worker sweeps them.
detach_mounts() {
  local d
  for d in "$@"; do
    awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
      xargs -r -n1 umount -l 2>/dev/null || true
  done
}
cleanup() {
  stop_workers
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  detach_mounts "$work"
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"; fi
}
# CPU seconds a worker and every process it waited for used (utime+stime+cutime+cstime), read
# just before it stops: against the sandbox-off baseline each worker serves one build, so this
# is the build's CPU time, which the machine's load disturbs far less than its wall time.
cpu_label=""
worker_cpu() {  # PID
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null
}
stop_workers() {
  if [ -n "$cpu_label" ] && [ "${#workers[@]}" -eq 1 ]; then
    record "cpu-$cpu_label" "$(worker_cpu "${workers[0]}")"
  fi
  cpu_label=""
  for p in "${workers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${workers[@]}"; do wait "$p" 2>/dev/null || true; done
  workers=()
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---- the servers -------------------------------------------------------------------------
nats_port=$(free_port)
nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" -l "$work/nats.log" & pids+=($!)
for _ in $(seq 100); do grep -q "Server is ready" "$work/nats.log" 2>/dev/null && break; sleep 0.05; done
git_port=$(free_port)
mkdir -p "$work/git"
git daemon --reuseaddr --export-all --base-path="$work/git" --listen=127.0.0.1 --port="$git_port" \
  --pid-file="$work/git-daemon.pid" "$work/git" 2>"$work/git-daemon.log" & pids+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$git_port") 2>/dev/null && break; sleep 0.05; done
url_of() { echo "git://127.0.0.1:$git_port/$1"; }

# ---- the sample: commit A, and B (one library changed) kept off the branch until needed ----
"$sample" repo "$work/git/shop" >/dev/null
commit_a=$(git -C "$work/git/shop" rev-parse HEAD)
"$sample" change "$work/git/shop" warm
commit_b=$(git -C "$work/git/shop" rev-parse HEAD)
git -C "$work/git/shop" update-ref refs/heads/main "$commit_a"
# (B stays in the object store; git daemon serves it once main points at it)

# ---- kiln: a config per worker, caches shared by the workers of this machine -------------
kiln_root=$work/kiln
write_config() {  # FILE [ROOT] [SANDBOX]
  local kiln_root=${2:-$kiln_root}
  cat >"$1" <<YAML
nats: { url: "nats://127.0.0.1:$nats_port" }
worker: { pool_size: $pool }
build:
  code_cache_path: $kiln_root/code
  build_cache_path: $kiln_root/deps
  workspace_path: $kiln_root/work
buildah:
  root: $kiln_root/images/root
  runroot: $kiln_root/images/runroot
  storage_driver: vfs
  isolation: chroot
logging: { level: warn, format: text }
sandbox: { enabled: ${3:-${E2E_SANDBOX:-true}} }
YAML
}
write_config "$work/kiln.yaml"
kiln_store=(--root "$kiln_root/images/root" --runroot "$kiln_root/images/runroot" --storage-driver vfs)
# The unsandboxed baseline: a kiln of its own (caches, store), never serving at the same time.
off_root=$work/kiln-off
write_config "$work/kiln-off.yaml" "$off_root" false
off_store=(--root "$off_root/images/root" --runroot "$off_root/images/runroot" --storage-driver vfs)
# buildah makes the directories above its store 0700; the job sandbox's uid must pass through
# them to the workspaces beside it (docs/security.md, "Deploying").
mkdir -p "$kiln_root" "$off_root"
chmod 711 "$kiln_root" "$off_root"
plain_root=$work/plain
plain_store=(--root "$plain_root/images/root" --runroot "$plain_root/images/runroot" --storage-driver vfs)

start_workers() {  # N [CONFIG]
  local i
  for i in $(seq 1 "$1"); do
    "$kiln" worker --config "${2:-$work/kiln.yaml}" >>"$work/worker-$i.log" 2>&1 & workers+=($!)
  done
  sleep 1  # connected and consuming: a job submitted earlier would only wait in the stream
  local p
  for p in "${workers[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "a kiln worker did not start:" >&2; tail -n 5 "$work"/worker-*.log >&2; exit 1; }
  done
}

reset_store() {  # BUILDAH_ARGS...: only the base image left
  buildah "$@" rm -a >/dev/null 2>&1 || true
  local ids
  ids=$(buildah "$@" images -a --noheading --format '{{.ID}} {{.Name}}:{{.Tag}}' 2>/dev/null |
        awk -v base="${SAMPLE_BASE_IMAGE:-localhost/acme/busybox:1.35}" '$2 != base { print $1 }' | sort -u)
  [ -z "$ids" ] || buildah "$@" rmi -f $ids >/dev/null 2>&1 || true
  "$sample" base-image "$@"
}

wipe() { detach_mounts "$@"; chmod -R u+rwX "$@" 2>/dev/null || true; rm -rf "$@"; }

reset_kiln() {  # every cache empty, only the base image in the store
  stop_workers
  wipe "$kiln_root/code" "$kiln_root/deps" "$kiln_root/work"
  reset_store "${kiln_store[@]}"
  if [ "$baseline" = unsandboxed ]; then
    wipe "$off_root/code" "$off_root/deps" "$off_root/work"
    reset_store "${off_store[@]}"
  fi
}

reset_plain() {
  wipe "$plain_root/npm-cache" "$plain_root"/ws-*
  reset_store "${plain_store[@]}"
}

kiln_build() {  # NAME REPO COMMIT BEFORE [CONFIG] -> seconds on stdout; events in $work/events-NAME.jsonl
  local start before=()
  [ -n "$4" ] && before=(--before "$4")
  start=$(now)
  "$kiln" submit --config "${5:-$work/kiln.yaml}" --repo "$(url_of "$2")" --commit "$3" --branch main "${before[@]}" \
    --wait --json >"$work/events-$1.jsonl" 2>"$work/submit-$1.err" ||
    { echo "kiln job $1 failed:" >&2; tail -n 20 "$work/events-$1.jsonl" "$work/submit-$1.err" >&2; exit 1; }
  elapsed "$start"
}

plain_counter=0
plain_build() {  # NAME REPO COMMIT -> seconds; phases in $work/plain-NAME.times
  local start dir
  plain_counter=$((plain_counter + 1))
  dir=$plain_root/ws-$plain_counter
  start=$(now)
  PLAIN_TIMES="$work/plain-$1.times" npm_config_cache="$plain_root/npm-cache" \
    "$here/plain_build.sh" "$(url_of "$2")" "$3" "$dir" "localhost/plain/$2:${3:0:12}" "${plain_store[@]}" \
    >"$work/plain-$1.log" 2>&1 || { echo "plain build $1 failed:" >&2; tail -n 30 "$work/plain-$1.log" >&2; exit 1; }
  elapsed "$start"
  wipe "$dir"
}

# The baseline side of a build: the plain script, or kiln without the sandbox.
baseline_build() {  # NAME REPO COMMIT BEFORE -> seconds
  if [ "$baseline" = plain ]; then
    plain_build "$1" "$2" "$3"
  else
    kiln_build "off-$1" "$2" "$3" "$4" "$work/kiln-off.yaml"
  fi
}
# Against the unsandboxed kiln, only the side about to build has a worker serving, so each
# job meets the worker it is meant for (both take jobs from the same stream).
serving_side=""
serve_side() {  # kiln | baseline
  [ "$baseline" = unsandboxed ] || { [ -n "$serving_side" ] || start_workers 1; serving_side=kiln; return; }
  [ "$serving_side" = "$1" ] && return
  stop_workers
  if [ "$1" = kiln ]; then start_workers 1; else start_workers 1 "$work/kiln-off.yaml"; fi
  serving_side=$1
}

# step durations of a kiln job, from its step.finished events: "step seconds" lines
kiln_steps() {
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    d = e.get("data", e) if isinstance(e.get("data"), dict) else e
    if e.get("type") == "step.finished":
        print(f'{d.get("step")} {d.get("duration_ms", 0) / 1000:.3f}')
PY
}

declare -A samples
record() { samples[$1]+="$2 "; }

machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
versions="kiln $("$kiln" --version 2>/dev/null | awk '{print $NF}'), nats-server $(nats-server --version | awk '{print $2}'), git $(git --version | awk '{print $3}'), node $(node --version), npm $(npm --version 2>/dev/null), NX 21.6.11, TypeScript 5.9.3, buildah $(buildah --version | awk '{print $3}') (vfs, chroot)"
log "machine: $machine"
log "versions: $versions"
log "work dir: $work; $runs runs cold+warm, $concurrent_runs runs of 8 at once; worker pool $pool"

# ---- cold and warm -------------------------------------------------------------------------
cold_and_warm() {
for run in $(seq 1 "$runs"); do
  reset_kiln
  reset_plain
  git -C "$work/git/shop" update-ref refs/heads/main "$commit_a"
  serving_side=""
  sides=(kiln plain)
  [ $((run % 2)) -eq 0 ] && sides=(plain kiln)
  for side in "${sides[@]}"; do
    serve_side "${side/plain/baseline}"
    [ "$baseline" = unsandboxed ] && cpu_label="cold-$side"
    if [ "$side" = kiln ]; then t=$(kiln_build "cold-$run" shop "$commit_a" ""); else t=$(baseline_build "cold-$run" shop "$commit_a" ""); fi
    record "cold-$side" "$t"; log "run $run cold $side: $t s"
  done
  git -C "$work/git/shop" update-ref refs/heads/main "$commit_b"
  for side in "${sides[@]}"; do
    serve_side "${side/plain/baseline}"
    [ "$baseline" = unsandboxed ] && cpu_label="warm-$side"
    if [ "$side" = kiln ]; then t=$(kiln_build "warm-$run" shop "$commit_b" "$commit_a"); else t=$(baseline_build "warm-$run" shop "$commit_b" "$commit_a"); fi
    record "warm-$side" "$t"; log "run $run warm $side: $t s"
  done
done
stop_workers
}

# ---- 8 at once: one worker against two ------------------------------------------------------
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
eight_at_once() {
if [ "$concurrent_runs" -gt 0 ]; then
  reset_kiln
  for i in $(seq 1 8); do "$sample" repo "$work/git/shop-$i" >/dev/null; done
  start_workers 1
  log "8 at once: building each of the 8 repositories once (untimed)"
  kiln_build "prewarm-1" shop-1 "$(git -C "$work/git/shop-1" rev-parse HEAD)" "" >/dev/null
  prewarm=()
  for i in $(seq 2 8); do
    kiln_build "prewarm-$i" "shop-$i" "$(git -C "$work/git/shop-$i" rev-parse HEAD)" "" >/dev/null & prewarm+=($!)
  done
  for p in "${prewarm[@]}"; do wait "$p"; done
  stop_workers
  round=0
  for run in $(seq 1 "$concurrent_runs"); do
    counts=(1 2)
    [ $((run % 2)) -eq 0 ] && counts=(2 1)
    for n in "${counts[@]}"; do
      round=$((round + 1))
      declare -a befores=() heads=()
      for i in $(seq 1 8); do
        befores[$i]=$(git -C "$work/git/shop-$i" rev-parse HEAD)
        "$sample" change "$work/git/shop-$i" "round$round" >/dev/null
        heads[$i]=$(git -C "$work/git/shop-$i" rev-parse HEAD)
      done
      start_workers "$n"
      read -r busy0 total0 < <(cpu_busy)
      start=$(now)
      jobs_=()
      for i in $(seq 1 8); do
        kiln_build "par-$round-$i" "shop-$i" "${heads[$i]}" "${befores[$i]}" >/dev/null & jobs_+=($!)
      done
      for p in "${jobs_[@]}"; do wait "$p"; done
      t=$(elapsed "$start")
      read -r busy1 total1 < <(cpu_busy)
      stop_workers
      busy=$(awk -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) 'BEGIN { printf "%.0f", 100 * b / t }')
      record "par-$n" "$t"; record "cpu-$n" "$busy"
      log "run $run, 8 at once on $n worker(s): $t s (cores busy $busy %, all users)"
    done
  done
fi
}

# 8 at once first: the longest part, and the one most likely to fail on a busy machine.
eight_at_once
cold_and_warm

# ---- the table ---------------------------------------------------------------------------------
python3 - "$results" "$machine" "$versions" "$runs" "$concurrent_runs" "$pool" "$work" "$baseline" "$baseline_label" \
  "${samples[cold-kiln]:-}" "${samples[cold-plain]:-}" "${samples[warm-kiln]:-}" "${samples[warm-plain]:-}" \
  "${samples[par-1]:-}" "${samples[par-2]:-}" "${samples[cpu-1]:-}" "${samples[cpu-2]:-}" \
  "${samples[cpu-cold-kiln]:-}" "${samples[cpu-cold-plain]:-}" "${samples[cpu-warm-kiln]:-}" "${samples[cpu-warm-plain]:-}" <<'PY'
import glob, os, statistics, sys
out, machine, versions, runs, cruns, pool, work, baseline, label = sys.argv[1:10]
cold_k, cold_p, warm_k, warm_p, par1, par2, cpu1, cpu2, ccold_k, ccold_p, cwarm_k, cwarm_p = (
    [float(x) for x in a.split()] for a in sys.argv[10:22])
sandbox_cost = baseline == "unsandboxed"
cold_goal, warm_goal = ("≤ 1.05×", "≤ 1.05×") if sandbox_cost else ("≤ 1.05×", "≤ 0.35×")
def fmt(xs): return f"{statistics.median(xs):.1f} s ({min(xs):.1f}–{max(xs):.1f})" if xs else "–"
def ratio(a, b): return f"{statistics.median(a) / statistics.median(b):.2f}×" if a and b else "–"
def paired(a, b):  # the ratio of each run's pair, as min–max: the noise of one side against the other
    r = [x / y for x, y in zip(a, b)]
    return f"{min(r):.2f}–{max(r):.2f}" if r else "–"
lines = [
    f"machine: {machine}; load average at the end: {os.getloadavg()[0]:.1f}",
    f"versions: {versions}",
    "",
    f"| build | kiln{', sandbox on' if sandbox_cost else ''} | {label} | kiln ÷ {label} (per-run pairs) | goal |",
    "| --- | ---: | ---: | ---: | --- |",
    f"| cold ({runs} runs) | {fmt(cold_k)} | {fmt(cold_p)} | **{ratio(cold_k, cold_p)}** ({paired(cold_k, cold_p)}) | {cold_goal} |",
    f"| warm: next commit, one library changed ({runs} runs) | {fmt(warm_k)} | {fmt(warm_p)} | **{ratio(warm_k, warm_p)}** ({paired(warm_k, warm_p)}) | {warm_goal} |",
]
if ccold_k and ccold_p and cwarm_k and cwarm_p:
    lines += [
        "",
        "CPU time of each build (the worker and every process it waited for; load disturbs it far less than wall time):",
        "",
        f"| build | kiln, sandbox on | {label} | on ÷ off (per-run pairs) |",
        "| --- | ---: | ---: | ---: |",
        f"| cold | {fmt(ccold_k)} | {fmt(ccold_p)} | **{ratio(ccold_k, ccold_p)}** ({paired(ccold_k, ccold_p)}) |",
        f"| warm | {fmt(cwarm_k)} | {fmt(cwarm_p)} | **{ratio(cwarm_k, cwarm_p)}** ({paired(cwarm_k, cwarm_p)}) |",
    ]
if par1 and par2:
    tp1, tp2 = 8 / statistics.median(par1), 8 / statistics.median(par2)
    lines += [
        "",
        f"| 8 builds at once ({cruns} runs, pool {pool} per worker) | wall time | builds per minute | cores busy (all users) |",
        "| --- | ---: | ---: | ---: |",
        f"| one worker | {fmt(par1)} | {60 * tp1:.2f} | {statistics.median(cpu1):.0f} % |",
        f"| two workers (separate processes) | {fmt(par2)} | {60 * tp2:.2f} | {statistics.median(cpu2):.0f} % |",
        f"| two ÷ one (throughput) | | **{tp2 / tp1:.2f}×** | goal ≥ 1.8× where the cores allow |",
    ]
def phases(pattern, reader):
    acc = {}
    for path in sorted(glob.glob(os.path.join(work, pattern))):
        for name, secs in reader(path): acc.setdefault(name, []).append(secs)
    return acc
def read_times(path):
    for line in open(path):
        name, secs = line.rsplit(" ", 1)
        yield name, float(secs)
def read_events(path):
    import datetime, json
    stamp = lambda e: datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
    last_step_end = None
    for line in open(path):
        try: e = json.loads(line)
        except ValueError: continue
        if e.get("type") == "step.finished":
            last_step_end = stamp(e)
            yield e.get("step"), e.get("duration_ms", 0) / 1000
        elif e.get("type") == "job.succeeded" and last_step_end is not None:
            # kiln's own time between the last step and the result (workspace clean-up, publishing)
            yield "last step → job.succeeded", stamp(e) - last_step_end
for kind in ("cold", "warm"):
    k = phases(f"events-{kind}-*.jsonl", read_events)
    p = phases(f"events-off-{kind}-*.jsonl", read_events) if sandbox_cost else phases(f"plain-{kind}-*.times", read_times)
    if not k and not p: continue
    lines += ["", f"{kind}: median seconds per phase", "",
              f"| kiln step | s | {'kiln step, sandbox off' if sandbox_cost else 'plain phase'} | s |", "| --- | ---: | --- | ---: |"]
    kk, pp = list(k.items()), list(p.items())
    for i in range(max(len(kk), len(pp))):
        a = f"{kk[i][0]} | {statistics.median(kk[i][1]):.1f}" if i < len(kk) else " | "
        b = f"{pp[i][0]} | {statistics.median(pp[i][1]):.1f}" if i < len(pp) else " | "
        lines.append(f"| {a} | {b} |")
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
PY
echo "results written to $results"

# The figures also go into the docs, between the markers of docs/benchmarks/e2e.md (E2E_DOC
# names another file; E2E_DOC= leaves the docs alone). What the figures mean is written by hand.
if [ "$baseline" = unsandboxed ]; then
  doc=${E2E_DOC-$here/../../docs/benchmarks/sandbox.md}; marker=e2e-sandbox-results
  invocation="E2E_BASELINE=unsandboxed bench/e2e/run.sh BUILD $runs"
else
  doc=${E2E_DOC-$here/../../docs/benchmarks/e2e.md}; marker=e2e-results
  invocation="CONCURRENT_RUNS=$concurrent_runs WORKER_POOL=$pool bench/e2e/run.sh BUILD $runs"
fi
if [ -n "$doc" ] && grep -q "<!-- $marker:begin -->" "$doc" 2>/dev/null; then
  python3 - "$doc" "$results" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$marker" "$invocation" \
    "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import re, sys
doc, results, when, marker, invocation, commit = sys.argv[1:7]
block = (f"<!-- {marker}:begin -->\n"
         f"Measured {when} on commit {commit} by `{invocation}` (written by the script):\n\n"
         + open(results).read() + f"<!-- {marker}:end -->")
text = open(doc).read()
text = re.sub(rf"<!-- {marker}:begin -->.*?<!-- {marker}:end -->", lambda _: block, text, flags=re.S)
open(doc, "w").write(text)
PY
  echo "figures written to $doc"
fi

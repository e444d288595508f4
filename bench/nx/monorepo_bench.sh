#!/usr/bin/env bash
# Issue 23: warm vs cold builds of real-style NX monorepos through the worker.
#
#   bench/nx/monorepo_bench.sh BUILD_DIR [RUNS]     (RUNS: default 3)
#
# For each fixture, tests/fixtures/nx-yarn4 (yarn 4.15.0 by packageManager, node-modules
# linker) and tests/fixtures/nx-pnpm (pnpm 9.15.9): served by `git daemon`, built by the
# default pipeline on a `kiln worker` over NATS (`kiln submit --wait`, job sandbox on).
# Each run uses a repository of its own (so its caches start empty: a repository's cache
# scope is its URL): the cold build of commit A, then the warm build of commit B (libs/shared
# changed, --before A). Measures wall time per job and whether the second job downloaded the
# package manager (nx build's package_manager_downloaded). Prints a table: median and
# min–max of cold, warm and warm/cold per pair, and the load average before and after.
# WORK (a temp dir) is removed at the end unless KEEP=1.
set -euo pipefail
build=$(cd "${1:?usage: bench/nx/monorepo_bench.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../../tests/fixtures" && pwd)
kiln=$build/bin/kiln
[ -x "$kiln" ] || { echo "no $kiln: build the targets kiln git nx cache first" >&2; exit 2; }

work=$(mktemp -d /tmp/kiln-bench-monorepo-XXXXXX)
chmod 711 "$work"  # the job sandbox's uid enters it to reach the workspaces
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  awk -v d="$work" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

nats_port=$(free_port)
nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" -l "$work/nats.log" & pids+=($!)
for _ in $(seq 100); do grep -q "Server is ready" "$work/nats.log" 2>/dev/null && break; sleep 0.05; done
git_port=$(free_port)
mkdir -p "$work/git"
git daemon --reuseaddr --export-all --base-path="$work/git" --listen=127.0.0.1 --port="$git_port" \
  "$work/git" 2>"$work/git-daemon.log" & pids+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$git_port") 2>/dev/null && break; sleep 0.05; done

cat >"$work/kiln.yaml" <<YAML
nats: { url: "nats://127.0.0.1:$nats_port" }
worker: { pool_size: 1, max_retries: 0, timeout: 900 }
build: { code_cache_path: $work/kiln/code, build_cache_path: $work/kiln/deps, workspace_path: $work/kiln/work }
logging: { level: warn, format: text }
YAML
"$kiln" worker --config "$work/kiln.yaml" >>"$work/worker.log" 2>&1 & pids+=($!)
sleep 1

# A repository NAME holding FIXTURE; prints commit A, then makes commit B (kept on branch b).
make_repo() {  # NAME FIXTURE
  local dir=$work/src/$1
  mkdir -p "$dir" && cp -a "$fixtures/$2/." "$dir/"
  git -C "$dir" init -q -b main
  git -C "$dir" add -A && git -C "$dir" -c user.email=b@kiln -c user.name=bench commit -qm A
  git init -q --bare "$work/git/$1.git"
  git -C "$dir" push -q "$work/git/$1.git" main
  git -C "$dir" rev-parse HEAD
}
change_library() {  # NAME -> commit B, pushed
  local dir=$work/src/$1
  echo "module.exports.greet = (who) => \`hi \${who}\`;" >"$dir/libs/shared/src/index.js"
  git -C "$dir" -c user.email=b@kiln -c user.name=bench commit -qam B
  git -C "$dir" push -q "$work/git/$1.git" main
  git -C "$dir" rev-parse HEAD
}
submit() {  # EVENTS NAME COMMIT [BEFORE] [--env ...] -> seconds
  local events=$1 name=$2 commit=$3 before=$4 start
  shift 4
  start=$(now)
  "$kiln" submit --config "$work/kiln.yaml" --repo "git://127.0.0.1:$git_port/$name.git" --commit "$commit" \
    --branch main ${before:+--before "$before"} "$@" --wait --json >"$events" 2>"$events.err" ||
    { echo "job of $name failed:" >&2; tail -n 5 "$events" "$events.err" >&2; exit 1; }
  awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}
downloaded() {  # EVENTS -> true|false
  python3 -c 'import json,sys
for line in open(sys.argv[1]):
    if not line.startswith("{"): continue  # kiln submit prints the job id first
    e = json.loads(line)
    if e.get("type") == "step.finished" and e.get("step") == "nx build":
        print(str(e["outputs"].get("package_manager_downloaded")).lower())' "$1"
}

echo "load before: $(load)"
results=$work/results.tsv
for run in $(seq 1 "$runs"); do
  for fixture in nx-yarn4 nx-pnpm; do
    env=()
    # This machine's registry mirror serves no signatures, which Corepack checks pnpm's against.
    [ "$fixture" = nx-pnpm ] && env=(--env COREPACK_INTEGRITY_KEYS=0)
    name=$fixture-$run
    a=$(make_repo "$name" "$fixture")
    cold=$(submit "$work/$name-cold.jsonl" "$name" "$a" "" "${env[@]}")
    b=$(change_library "$name")
    warm=$(submit "$work/$name-warm.jsonl" "$name" "$b" "$a" "${env[@]}")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$fixture" "$run" "$cold" "$warm" "$(downloaded "$work/$name-cold.jsonl")" \
      "$(downloaded "$work/$name-warm.jsonl")" >>"$results"
    log "$fixture run $run: cold $cold s, warm $warm s (load $(load))"
  done
done
echo "load after: $(load)"
python3 - "$results" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print("| fixture | runs | cold s (median, min–max) | warm s | warm/cold per pair | 1st job downloaded PM | 2nd job downloaded PM |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for fixture in sorted({r[0] for r in rows}):
    mine = [r for r in rows if r[0] == fixture]
    cold = [float(r[2]) for r in mine]; warm = [float(r[3]) for r in mine]
    ratio = [w / c for c, w in zip(cold, warm)]
    span = lambda xs, f: f"{f(statistics.median(xs))} ({f(min(xs))}–{f(max(xs))})"
    s = lambda x: f"{x:.1f}"; r = lambda x: f"{x:.2f}×"
    print(f"| {fixture} | {len(mine)} | {span(cold, s)} | {span(warm, s)} | {span(ratio, r)} | "
          f"{','.join(sorted({m[4] for m in mine}))} | {','.join(sorted({m[5] for m in mine}))} |")
PY

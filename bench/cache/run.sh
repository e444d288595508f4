#!/usr/bin/env bash
# Save and restore of a 200 MB, 20,000-file tree: kiln's keyed cache against `cp -a` and
# `tar` of the same tree, interleaved in one run.
#
#   bench/cache/run.sh BUILD_DIR [WORK_DIR]
#
# BUILD_DIR holds bin/kiln-cache-tool (target kiln-cache-tool). WORK_DIR (default: a temp
# dir under /var/tmp, on disk rather than tmpfs) gets the tree, the caches and the copies,
# and is removed at the end. Env: FILES (20000), BYTES (200000000), RUNS (5), THREADS
# (kiln's copy threads; default min(4, cores)).
#
# Method: every run of every command writes into a fresh directory and nothing is
# deleted until the end: on ext4 mounted with `discard`, deleting 20,000 files makes the
# next few seconds of file creation several times slower, which billed whichever command
# ran after a delete (hyperfine's --prepare "rm -rf" did exactly that). Commands run
# interleaved (round 1: a b c, round 2: a b c, ...) so that load drifting on a shared
# machine hits all of them alike. Page cache warm: the tree was just written.
# Disk: about 1.3 GB per run (RUNS=7: 9 GB); removing it at the end takes minutes there.
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR [WORK_DIR]}
tool=$(realpath "$build/bin/kiln-cache-tool")
[ -x "$tool" ] || { echo "no $tool: build the kiln-cache-tool target" >&2; exit 2; }
work=${2:-$(mktemp -d /var/tmp/kiln-cache-bench.XXXXXX)}
files=${FILES:-20000}
bytes=${BYTES:-200000000}
runs=${RUNS:-5}
[ -n "${THREADS:-}" ] && export KILN_CACHE_THREADS=$THREADS
trap 'rm -rf "$work"' EXIT

ws=$work/ws
mkdir -p "$ws"
echo "making $files files, $bytes bytes in $ws/deps ..."
python3 - "$ws/deps" "$files" "$bytes" <<'PY'
import os, random, sys
root, files, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(7)
# Sizes skewed like a dependency cache: most files small, a few large.
weights = [random.paretovariate(1.2) for _ in range(files)]
scale = total / sum(weights)
chunk = os.urandom(1 << 20)
for i, w in enumerate(weights):
    d = os.path.join(root, "pkg%03d" % (i % 400), "sub%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    n = int(w * scale)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        while n > 0:
            f.write(chunk[: min(n, len(chunk))]); n -= len(chunk)
PY
sync
echo "tree: $(du -sb "$ws/deps" | awk '{printf "%.1f MB", $1/1e6}'), $(find "$ws/deps" -type f | wc -l) files"
echo "machine: $(nproc) cores, $(uname -r), $(df -T "$work" | awk 'NR==2{print $2}') ($(findmnt -no OPTIONS -T "$work"))"
echo "kiln copy threads: ${KILN_CACHE_THREADS:-auto}"

declare -A times
# time_ms NAME COMMAND...: runs it, appends the wall time in ms to times[NAME].
time_ms() {
  local name=$1; shift
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null
  end=$(date +%s%N)
  times[$name]+="$(( (end - start) / 1000000 )) "
}

# Saves: each into a fresh target.
for ((r = 1; r <= runs; r++)); do
  mkdir -p "$work/save-cp-$r" "$work/save-tar-$r"
  time_ms "save: cp -a" cp -a "$ws/deps" "$work/save-cp-$r/deps"
  time_ms "save: tar -cf" tar -cf "$work/save-tar-$r/deps.tar" -C "$ws" deps
  time_ms "save: kiln save" "$tool" save "$work/save-kiln-$r" "$ws" bench-key deps
done
# Restores from the first run's copies, each into a fresh directory.
for ((r = 1; r <= runs; r++)); do
  mkdir -p "$work/restore-cp-$r" "$work/restore-tar-$r" "$work/restore-kiln-$r"
  time_ms "restore: cp -a" cp -a "$work/save-cp-1/deps" "$work/restore-cp-$r/deps"
  time_ms "restore: tar -xf" tar -xf "$work/save-tar-1/deps.tar" -C "$work/restore-tar-$r"
  time_ms "restore: kiln restore" "$tool" restore "$work/save-kiln-1" "$work/restore-kiln-$r" bench-key deps
done
# Spot check: the restored trees are the same.
diff -r "$ws/deps" "$work/restore-kiln-1/deps" >/dev/null && echo "kiln restore: tree identical to the source"

echo
printf "| %-24s | %10s | %10s | %s |\n" "command" "median ms" "min ms" "all runs (ms)"
printf "|%s|%s|%s|%s|\n" "--------------------------" "-----------:" "-----------:" "---"
for name in "save: cp -a" "save: tar -cf" "save: kiln save" "restore: cp -a" "restore: tar -xf" "restore: kiln restore"; do
  sorted=$(tr ' ' '\n' <<<"${times[$name]}" | grep . | sort -n)
  median=$(awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}' <<<"$sorted")
  min=$(head -1 <<<"$sorted")
  printf "| %-24s | %10s | %10s | %s |\n" "$name" "$median" "$min" "${times[$name]}"
done

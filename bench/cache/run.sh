#!/usr/bin/env bash
# Save and restore of a 200 MB, 20,000-file tree: kiln's keyed cache against `cp -a` and
# `tar` of the same tree, side by side in one hyperfine run per direction.
#
#   bench/cache/run.sh BUILD_DIR [WORK_DIR]
#
# BUILD_DIR holds bin/kiln-cache-tool (target kiln-cache-tool). WORK_DIR (default: a temp
# dir under /var/tmp, i.e. a disk, not tmpfs) gets the tree, the caches and the restores;
# it is removed at the end. Page cache warm (hyperfine warm-up); each run starts after
# the previous output is deleted and `sync`ed, so deletions do not bill the next run. Env: FILES (20000), BYTES (200000000), RUNS (7),
# THREADS (kiln copy threads, default auto).
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR [WORK_DIR]}
tool=$build/bin/kiln-cache-tool
[ -x "$tool" ] || { echo "no $tool: build the kiln-cache-tool target" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed (Debian package hyperfine)" >&2; exit 2; }
work=${2:-$(mktemp -d /var/tmp/kiln-cache-bench.XXXXXX)}
files=${FILES:-20000}
bytes=${BYTES:-200000000}
runs=${RUNS:-7}
[ -n "${THREADS:-}" ] && export KILN_CACHE_THREADS=$THREADS
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

ws=$work/ws
mkdir -p "$ws" "$work/cp" "$work/tar" "$work/kiln" "$work/out"
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
du -sb "$ws/deps" | awk '{printf "tree: %.1f MB\n", $1/1e6}'
echo "files: $(find "$ws/deps" -type f | wc -l)"
echo "kiln copy threads: ${KILN_CACHE_THREADS:-auto ($(nproc) cores)}"

echo
echo "== save (tree -> cache) =="
hyperfine --warmup 1 --runs "$runs" --export-markdown "$work/save.md" \
  -n 'cp -a' --prepare "rm -rf $work/cp/deps; sync" "cp -a $ws/deps $work/cp/deps" \
  -n 'tar -cf' --prepare "rm -f $work/tar/deps.tar; sync" "tar -cf $work/tar/deps.tar -C $ws deps" \
  -n 'kiln save' --prepare "rm -rf $work/kiln/keyed; sync" \
     "$tool save $work/kiln $ws bench-key deps"
cat "$work/save.md"

# Fill the three caches once for the restores.
rm -rf "$work/cp/deps" "$work/tar/deps.tar" "$work/kiln/keyed"
cp -a "$ws/deps" "$work/cp/deps"
tar -cf "$work/tar/deps.tar" -C "$ws" deps
"$tool" save "$work/kiln" "$ws" bench-key deps >/dev/null

echo
echo "== restore (cache -> workspace) =="
hyperfine --warmup 1 --runs "$runs" --export-markdown "$work/restore.md" \
  -n 'cp -a' --prepare "rm -rf $work/out/deps; sync" "cp -a $work/cp/deps $work/out/deps" \
  -n 'tar -xf' --prepare "rm -rf $work/out/deps; sync" "tar -xf $work/tar/deps.tar -C $work/out" \
  -n 'kiln restore' --prepare "rm -rf $work/out/deps; sync" "$tool restore $work/kiln $work/out bench-key deps" \
  -n 'kiln restore, 1 thread' --prepare "rm -rf $work/out/deps; sync" \
     "env KILN_CACHE_THREADS=1 $tool restore $work/kiln $work/out bench-key deps"
cat "$work/restore.md"

#!/usr/bin/env bash
# NX plugin benchmarks (issue 4, Measure):
#   1. the second build of an unchanged commit against the first (NX's cache kept in the
#      build cache between jobs: each job gets a fresh copy of the workspace);
#   2. the plugin against the same `npx nx run-many` run by hand, both on a warm cache.
#
# Usage: bench/nx/nx_bench.sh BUILD_DIR [RUNS] [WORK_MS]
#   BUILD_DIR  a kiln build tree with the NX plugin tests built (nx_plugin_tests) and the
#              fixture's node_modules installed (the tests install it on first run).
#   RUNS       repetitions per measurement (default 10).
#   WORK_MS    extra time each project's build takes (the fixture's build is a file copy;
#              this stands in for a compiler; default 0).
# Needs hyperfine, node, npm. Builds nothing; writes only under a temp dir.
set -euo pipefail

BUILD_DIR=$(cd "${1:?usage: $0 BUILD_DIR [RUNS]}" && pwd)
RUNS=${2:-10}
WORK_MS=${3:-0}
STEP_ENV="KILN_FIXTURE_WORK_MS=$WORK_MS"
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=$(cd "$HERE/../.." && pwd)
FIXTURE="$SOURCE_DIR/tests/fixtures/nx-workspace"
DRIVER="$BUILD_DIR/bin/nx_bench_driver"
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }
[ -x "$DRIVER" ] || { echo "no $DRIVER: cmake --build $BUILD_DIR --target nx_bench_driver" >&2; exit 2; }

MODULES=$(ls -d "$BUILD_DIR"/nx-fixture-modules/*/node_modules 2>/dev/null | head -1 || true)
if [ -z "$MODULES" ]; then
  echo "no installed fixture modules under $BUILD_DIR/nx-fixture-modules: run nx_plugin_tests once" >&2
  exit 2
fi

WORK=$(mktemp -d /tmp/kiln-nx-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
new_clone() {  # a fresh "clone" of the fixture, as a job's git.sync would leave it
  rm -rf "$1"
  cp -a "$FIXTURE" "$1"
  cp -al "$MODULES" "$1/node_modules"
}

CLONE="cp -a $FIXTURE $WORK/clone && cp -al $MODULES $WORK/clone/node_modules"
NX_ENV="NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_ISOLATE_PLUGINS=false"

echo "== 1. first build (cold NX cache) vs second build of the same commit (warm cache), through the plugin"
# Every run gets a fresh clone, as a job does; only the build cache differs: emptied before
# each cold run, kept (filled once, by an untimed build) for the warm runs.
new_clone "$WORK/seed"
"$DRIVER" build "$WORK/seed" "$WORK/warm" "$STEP_ENV" >/dev/null
hyperfine --runs "$RUNS" --export-markdown "$WORK/cache.md" \
  --prepare "rm -rf $WORK/clone $WORK/cold && $CLONE" \
  -n "first build (cold cache)" "$DRIVER build $WORK/clone $WORK/cold $STEP_ENV" \
  --prepare "rm -rf $WORK/clone && $CLONE" \
  -n "second build (warm cache)" "$DRIVER build $WORK/clone $WORK/warm $STEP_ENV"

echo
echo "== 2. the plugin vs the same NX command by hand (warm caches, one clone)"
new_clone "$WORK/hand"
"$DRIVER" build "$WORK/hand" "$WORK/plugin" "$STEP_ENV" >/dev/null
HAND="cd $WORK/hand && $STEP_ENV $NX_ENV NX_CACHE_DIRECTORY=$WORK/by-hand/cache NX_WORKSPACE_DATA_DIRECTORY=$WORK/by-hand/data"
bash -c "$HAND npx nx run-many --targets=build --outputStyle=stream" >/dev/null
hyperfine --runs "$RUNS" --warmup 1 --export-markdown "$WORK/overhead.md" \
  -n "plugin: nx.build" "$DRIVER build $WORK/hand $WORK/plugin $STEP_ENV" \
  -n "by hand: npx nx run-many" "$HAND npx nx run-many --targets=build --outputStyle=stream" \
  -n "by hand: node_modules/.bin/nx run-many" "$HAND node_modules/.bin/nx run-many --targets=build --outputStyle=stream"

echo
echo "work per project: ${WORK_MS} ms; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(node --version), nx $(node -p "require('$MODULES/nx/package.json').version")"
cat "$WORK/cache.md"
echo
cat "$WORK/overhead.md"

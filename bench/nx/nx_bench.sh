#!/usr/bin/env bash
# NX plugin benchmarks (issue 4, Measure):
#   1. the second build of an unchanged commit against the first (NX's cache kept in the
#      build cache between jobs: each job gets a fresh copy of the workspace);
#   2. the plugin against the same `npx nx run-many` run by hand, both on a warm cache.
#
# Usage: bench/nx/nx_bench.sh BUILD_DIR [RUNS]
#   BUILD_DIR  a kiln build tree with the NX plugin tests built (nx_plugin_tests) and the
#              fixture's node_modules installed (the tests install it on first run).
#   RUNS       repetitions per measurement (default 10).
# Needs hyperfine, node, npm. Builds nothing; writes only under a temp dir.
set -euo pipefail

BUILD_DIR=$(cd "${1:?usage: $0 BUILD_DIR [RUNS]}" && pwd)
RUNS=${2:-10}
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

echo "== 1. first build (cold NX cache) vs second build of the same commit (warm cache), through the plugin"
# Each run: a new clone; --prepare empties the build cache for the cold case only.
hyperfine --runs "$RUNS" --export-markdown "$WORK/cache.md" \
  --prepare "rm -rf $WORK/cold-cache; cp -a $FIXTURE $WORK/dummy 2>/dev/null; rm -rf $WORK/dummy; rm -rf $WORK/clone; cp -a $FIXTURE $WORK/clone; cp -al $MODULES $WORK/clone/node_modules" \
  -n "first build (cold cache)" "$DRIVER build $WORK/clone $WORK/cold-cache" \
  --prepare "rm -rf $WORK/clone; cp -a $FIXTURE $WORK/clone; cp -al $MODULES $WORK/clone/node_modules; [ -d $WORK/warm-cache ] || $DRIVER build $WORK/clone $WORK/warm-cache >/dev/null" \
  -n "second build (warm cache)" "$DRIVER build $WORK/clone $WORK/warm-cache"

echo
echo "== 2. plugin vs the same nx command by hand (warm cache, same clone)"
new_clone "$WORK/hand"
HAND_CACHE="$WORK/hand-cache"
"$DRIVER" build "$WORK/hand" "$WORK/plugin-cache" >/dev/null
(cd "$WORK/hand" && NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_ISOLATE_PLUGINS=false \
   NX_CACHE_DIRECTORY=$HAND_CACHE/cache NX_WORKSPACE_DATA_DIRECTORY=$HAND_CACHE/data \
   npx nx run-many --targets=build --outputStyle=stream >/dev/null)
hyperfine --runs "$RUNS" --warmup 1 --export-markdown "$WORK/overhead.md" \
  -n "plugin: nx.build" "$DRIVER build $WORK/hand $WORK/plugin-cache" \
  -n "by hand: npx nx run-many" "cd $WORK/hand && NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_ISOLATE_PLUGINS=false NX_CACHE_DIRECTORY=$HAND_CACHE/cache NX_WORKSPACE_DATA_DIRECTORY=$HAND_CACHE/data npx nx run-many --targets=build --outputStyle=stream"

echo
cat "$WORK/cache.md"
echo
cat "$WORK/overhead.md"

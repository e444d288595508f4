#!/bin/sh
# A chaos run by hand: tests/chaos/run.sh [JOBS] [SEED] [CHAOS_SECONDS] [BUILD_DIR]
#   JOBS           how many jobs (default 300)
#   SEED           the random seed (default: from the clock); a failed run prints its seed
#   CHAOS_SECONDS  how long workers and NATS nodes are killed (default 180)
#   BUILD_DIR      a configured build tree (default: build)
# Builds kiln and the chaos test, runs it, prints the counts (tests/chaos/chaos_test.cpp).
set -eu
jobs=${1:-300}
seed=${2:-$(date +%s)}
seconds=${3:-180}
build=${4:-build}
cd "$(dirname "$0")/../.."
cmake --build "$build" -j2 --target kiln chaos_tests
# The jobs settle after the chaos: allow a minute per 200 jobs, at least 90 s.
settle=$(( jobs * 60 / 200 )); [ "$settle" -lt 90 ] && settle=90
KILN_CHAOS_JOBS=$jobs KILN_CHAOS_SEED=$seed KILN_CHAOS_SECONDS=$seconds KILN_CHAOS_SETTLE_SECONDS=$settle \
  "$build/bin/chaos_tests" --gtest_color=no

#!/usr/bin/env bash
# The baseline of bench/e2e/run.sh: the sample's build done with the raw tools, as a plain CI
# script would: a fresh clone, `npm ci`, `npx nx run-many -t build`, `buildah bud`.
#
#   plain_build.sh URL COMMIT DIR TAG BUILDAH_GLOBAL_ARGS...
#
# DIR must not exist. The caches are the tools' own: npm's (npm_config_cache, set by the
# caller) and buildah's layers in its store; NX's cache is inside the fresh clone, as in CI.
# With PLAIN_TIMES=FILE, each phase's seconds are appended to FILE ("phase seconds").
set -euo pipefail
url=$1 commit=$2 dir=$3 tag=$4
shift 4
export CI=true NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

phase_start=$(date +%s.%N)
phase_done() {  # NAME: the seconds since the previous phase ended
  local now
  now=$(date +%s.%N)
  [ -n "${PLAIN_TIMES:-}" ] && awk -v n="$now" -v s="$phase_start" -v p="$1" 'BEGIN { printf "%s %.3f\n", p, n - s }' >>"$PLAIN_TIMES"
  phase_start=$now
}

git clone -q "$url" "$dir"
git -C "$dir" -c advice.detachedHead=false checkout -q "$commit"
phase_done "git clone"
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
phase_done "npm ci"
npx nx run-many -t build --outputStyle=stream
phase_done "nx build"
buildah "$@" bud --isolation chroot --layers -t "$tag" .
phase_done "buildah bud"

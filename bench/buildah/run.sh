#!/usr/bin/env bash
# Benchmark of the buildah plugin (issue 6, "Measure"):
#   1. buildah.build through the plugin against `buildah bud` by hand on the same context,
#      each from a cold layer cache (goal: <= 1.02x);
#   2. a rebuild of the unchanged context with layers against the first build (goal: <= 0.2x).
# Real buildah, chroot isolation, a temp store per storage driver; needs root, hyperfine,
# strace, busybox-static (and kernel overlayfs for the overlay driver).
#
#   bench/buildah/run.sh BUILD_DIR [RUNS] [DRIVERS]      DRIVERS default: "vfs overlay"
#
# BUILD_DIR is a configured build tree; the driver (not in the default target) is brought
# up to date first, so the figures are those of the code checked out.
set -euo pipefail

build_dir=${1:?usage: run.sh BUILD_DIR [RUNS] [DRIVERS]}
runs=${2:-5}
drivers=${3:-vfs overlay}
driver_bin="$build_dir/bin/buildah_bench_driver"
cmake --build "$build_dir" --target buildah_bench_driver >/dev/null
[ -x "$driver_bin" ] || { echo "missing $driver_bin (build target buildah_bench_driver)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }
command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/kiln-buildah-bench-XXXXXX)
stores=()
cleanup() {
  for store in "${stores[@]}"; do
    for d in $drivers; do
      buildah --root "$store/root" --runroot "$store/runroot" --storage-driver "$d" rm -a >/dev/null 2>&1 || true
      buildah --root "$store/root" --runroot "$store/runroot" --storage-driver "$d" rmi -a -f >/dev/null 2>&1 || true
    done
  done
  chmod -R u+rwX "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The base image: Debian's busybox-static FROM scratch, kept as an oci-archive so every cold
# run starts from the same store (the base only, no cached layers).
mkdir -p "$work/base/rootfs/bin" "$work/base/rootfs/tmp"
cp /bin/busybox "$work/base/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$work/base/rootfs/bin/$applet"
done
printf 'FROM scratch\nCOPY rootfs/ /\n' > "$work/base/Containerfile"

# The application context: a little shell work, a COPY of some files, and a RUN step that
# stands in for a compile (some seconds of CPU).
ctx="$work/context"
mkdir -p "$ctx/src"
for i in $(seq 1 50); do head -c 4096 /dev/urandom | base64 > "$ctx/src/file$i.txt"; done
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM localhost/bench/busybox:latest
RUN mkdir -p /app && for i in $(seq 1 2000); do echo "line $i"; done > /app/numbers
COPY src/ /app/src/
RUN for i in $(seq 1 40); do head -c 4000000 /dev/zero | sha256sum; done > /app/checksums
DOCKERFILE

created=2026-11-22T10:15:02Z
labels="--label org.opencontainers.image.created=$created --label org.opencontainers.image.revision=9fceb02d0ae598e95dc970b74767f19372d61af8 --label org.opencontainers.image.source=https://example.invalid/acme/shop.git"
tags="-t localhost/acme/shop:9fceb02d0ae5 -t localhost/acme/shop:main"

for d in $drivers; do
  store="$work/store-$d"
  stores+=("$store")
  B="buildah --root $store/root --runroot $store/runroot --storage-driver $d"
  export STORAGE_DRIVER=$d
  $B bud --isolation chroot -q -t localhost/bench/busybox:latest "$work/base" >/dev/null
  $B push -q localhost/bench/busybox:latest "oci-archive:$work/base-$d.tar:localhost/bench/busybox:latest" >/dev/null
  cold="$B rmi -a -f >/dev/null 2>&1; $B pull -q oci-archive:$work/base-$d.tar >/dev/null"

  echo "== [$d] plugin vs buildah bud by hand (cold layer cache, $runs runs each)"
  hyperfine --runs "$runs" --prepare "$cold" --export-markdown "$work/by-hand-$d.md" \
    -n "bud by hand, plain" "$B bud --isolation chroot --layers -t localhost/bench/app:hand $ctx" \
    -n "bud by hand, the plugin's flags" "$B bud --isolation chroot --layers --pull=never $labels $tags $ctx" \
    -n "plugin, network none" "$driver_bin $store $ctx none $created" \
    -n "plugin, network host" "$driver_bin $store $ctx host $created"
  cat "$work/by-hand-$d.md"

  # The same comparison without the noise between runs: in each run of the plugin, its own
  # time (the driver's wall time) against the wall time of the buildah bud it ran.
  echo "== [$d] the plugin's own time around its buildah bud (cold, $runs runs, strace of the driver alone)"
  traces=()
  for i in $(seq "$runs"); do
    eval "$cold"
    strace -q -ttt -e trace=clone,clone3,wait4 -o "$work/trace-$d-$i" \
      "$driver_bin" "$store" "$ctx" none "$created" >/dev/null
    traces+=("$work/trace-$d-$i")
  done
  python3 "$(dirname "$0")/plugin_overhead.py" "${traces[@]}"

  echo "== [$d] first build vs rebuild of the unchanged context (plugin, layers on, $runs runs each)"
  hyperfine --runs "$runs" --export-markdown "$work/rebuild-$d.md" \
    -n "first build (cold)" --prepare "$cold" "$driver_bin $store $ctx none $created" \
    -n "rebuild, created fixed" --prepare "$driver_bin $store $ctx none $created >/dev/null" "$driver_bin $store $ctx none $created" \
    -n "rebuild, created = build time" --prepare "$driver_bin $store $ctx none >/dev/null" "$driver_bin $store $ctx none"
  cat "$work/rebuild-$d.md"
done

#!/usr/bin/env bash
# Benchmark of the buildah plugin (issue 6, "Measure"):
#   1. buildah.build through the plugin against `buildah bud` by hand on the same context,
#      each from a cold layer cache (goal: <= 1.02x);
#   2. a rebuild of the unchanged context with layers against the first build (goal: <= 0.2x).
# Real buildah, vfs storage, chroot isolation, a temp store; needs root, hyperfine, busybox-static.
#
#   bench/buildah/run.sh BUILD_DIR [RUNS]
#
# BUILD_DIR must hold bin/buildah_bench_driver:
#   cmake --build BUILD_DIR -j2 --target buildah_bench_driver
set -euo pipefail

build_dir=${1:?usage: run.sh BUILD_DIR [RUNS]}
runs=${2:-5}
driver="$build_dir/bin/buildah_bench_driver"
[ -x "$driver" ] || { echo "missing $driver (build target buildah_bench_driver)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/kiln-buildah-bench-XXXXXX)
store="$work/store"
B="buildah --root $store/root --runroot $store/runroot --storage-driver vfs"
cleanup() {
  $B rm -a >/dev/null 2>&1 || true
  $B rmi -a -f >/dev/null 2>&1 || true
  chmod -R u+rwX "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The base image: Debian's busybox-static FROM scratch, kept as an oci-archive so every cold
# run starts from the same store (base only, no cached layers).
mkdir -p "$work/base/rootfs/bin" "$work/base/rootfs/tmp"
cp /bin/busybox "$work/base/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$work/base/rootfs/bin/$applet"
done
printf 'FROM scratch\nCOPY rootfs/ /\n' > "$work/base/Containerfile"
$B bud --isolation chroot -q -t localhost/bench/busybox:latest "$work/base" >/dev/null
$B push -q localhost/bench/busybox:latest "oci-archive:$work/base.tar:localhost/bench/busybox:latest" >/dev/null

# The application context: a RUN step that does a little work, and a COPY of some files.
ctx="$work/context"
mkdir -p "$ctx/src"
for i in $(seq 1 50); do head -c 4096 /dev/urandom | base64 > "$ctx/src/file$i.txt"; done
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM localhost/bench/busybox:latest
RUN mkdir -p /app && for i in $(seq 1 2000); do echo "line $i"; done > /app/numbers
COPY src/ /app/src/
# Stands in for a compile: some seconds of CPU in a RUN step, as real builds have.
RUN for i in $(seq 1 40); do head -c 4000000 /dev/zero | sha256sum; done > /app/checksums
DOCKERFILE

cold="$B rmi -a -f >/dev/null 2>&1; $B pull -q oci-archive:$work/base.tar >/dev/null"

echo "== plugin vs buildah bud by hand (cold layer cache, $runs runs each)"
hyperfine --runs "$runs" --prepare "$cold" --export-markdown "$work/by-hand.md" \
  -n "buildah bud by hand" "$B bud --isolation chroot --layers -t localhost/bench/app:hand $ctx" \
  -n "plugin buildah.build (network none)" "$driver $store $ctx none" \
  -n "plugin buildah.build (network host)" "$driver $store $ctx host"
cat "$work/by-hand.md"

created=2026-11-22T10:15:02Z
echo "== first build vs rebuild of the unchanged context (plugin, layers on, $runs runs each)"
hyperfine --runs "$runs" --export-markdown "$work/rebuild.md" \
  -n "first build (cold)" --prepare "$cold" "$driver $store $ctx none" \
  -n "rebuild, created = build time" --prepare "$driver $store $ctx none >/dev/null" "$driver $store $ctx none" \
  -n "rebuild, created fixed" --prepare "$driver $store $ctx none $created >/dev/null" "$driver $store $ctx none $created"
cat "$work/rebuild.md"

#!/usr/bin/env bash
# Benchmark of issue 22 (a real registry), side by side in one run:
#   1. labels: four `--label` options (buildah 1.28: four LABEL steps, each a vfs commit)
#      against the plugin's one LABEL step appended to a copy of the Dockerfile, on a warm
#      layer cache with `created` changing every build (as it did before point 5);
#   2. push: buildah.push through the plugin against `buildah push` by hand, to a local
#      docker-registry (plain HTTP, loopback), a fresh repository each run (every blob sent);
#   3. layer reuse: worker B, an empty store of its own, builds the image worker A built,
#      cold against with A's layers in the registry (buildah.layer_cache).
# Real buildah (chroot, vfs), real docker-registry; needs root and python3. Commands are
# timed round by round, interleaved (bench/buildah/paired.py).
#
#   bench/buildah/registry.sh BUILD_DIR [RUNS]
set -euo pipefail

build_dir=${1:?usage: $0 BUILD_DIR [RUNS]}
runs=${2:-5}
driver_bin="$build_dir/bin/buildah_bench_driver"
cmake --build "$build_dir" --target buildah_bench_driver >/dev/null
command -v docker-registry >/dev/null || { echo "docker-registry is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/kiln-registry-bench-XXXXXX)
registry_pid=
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  for store in "$work/store-a" "$work/store-b"; do
    buildah --root "$store/root" --runroot "$store/runroot" --storage-driver vfs rm -a >/dev/null 2>&1 || true
    buildah --root "$store/root" --runroot "$store/runroot" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true
  done
  chmod -R u+rwX "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
registry="127.0.0.1:$port"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $work/registry } }
http: { addr: $registry, secret: bench }
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

A="buildah --root $work/store-a/root --runroot $work/store-a/runroot --storage-driver vfs"
B="buildah --root $work/store-b/root --runroot $work/store-b/runroot --storage-driver vfs"
export STORAGE_DRIVER=vfs

# The base image (busybox-static FROM scratch) in the registry, so both workers pull one id.
mkdir -p "$work/base/rootfs/bin" "$work/base/rootfs/tmp"
cp /bin/busybox "$work/base/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$work/base/rootfs/bin/$applet"
done
printf 'FROM scratch\nCOPY rootfs/ /\n' > "$work/base/Containerfile"
$A bud --isolation chroot -q -t localhost/bench/busybox:latest "$work/base" >/dev/null
$A push -q --tls-verify=false localhost/bench/busybox:latest "docker://$registry/bench/busybox:latest"
$A pull -q --tls-verify=false "$registry/bench/busybox:latest" >/dev/null

# The application context of bench/buildah/run.sh.
ctx="$work/context"
mkdir -p "$ctx/src"
for i in $(seq 1 50); do head -c 4096 /dev/urandom | base64 > "$ctx/src/file$i.txt"; done
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $registry/bench/busybox:latest
RUN mkdir -p /app && for i in \$(seq 1 2000); do echo "line \$i"; done > /app/numbers
COPY src/ /app/src/
RUN for i in \$(seq 1 40); do head -c 4000000 /dev/zero | sha256sum; done > /app/checksums
DOCKERFILE

echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

paired="python3 $(dirname "$0")/paired.py $runs"

echo "== 1. labels: four --label steps vs one LABEL step (warm cache, created changes each build, $runs rounds)"
labelled="$work/Dockerfile.labelled"
fixed='--label org.opencontainers.image.revision=9fceb02d0ae598e95dc970b74767f19372d61af8 --label org.opencontainers.image.source=https://example.invalid/acme/shop.git --label io.kiln.build-key=0123'
$A bud --isolation chroot --layers --pull=never -q -t localhost/bench/app:warm "$ctx" >/dev/null
$paired \
  "four --label options (before)" \
  "$A bud --isolation chroot --layers --pull=never -q --label org.opencontainers.image.created=\$(date +%s%N) $fixed -t localhost/bench/app:l1 $ctx" -- \
  "one LABEL step (the plugin now)" \
  "{ cat $ctx/Dockerfile; echo \"LABEL org.opencontainers.image.created=\$(date +%s%N) org.opencontainers.image.revision=9fceb02d0ae598e95dc970b74767f19372d61af8 org.opencontainers.image.source=https://example.invalid/acme/shop.git io.kiln.build-key=0123\"; } > $labelled && $A bud --isolation chroot --layers --pull=never -q -f $labelled -t localhost/bench/app:l2 $ctx"

echo "== 2. push: the plugin vs buildah push by hand (a fresh repository each run, $runs rounds)"
$A bud --isolation chroot --layers --pull=never -q -t localhost/bench/app:push "$ctx" >/dev/null
echo "image size: $($A images --format '{{.Size}}' localhost/bench/app:push)"
$paired \
  "buildah push by hand" \
  "$A push -q --tls-verify=false --retry-delay 500ms localhost/bench/app:push docker://$registry/hand\$(date +%s%N)/app:1" -- \
  "buildah.push (plugin)" \
  "$driver_bin push $work/store-a localhost/bench/app:push $registry/plugin\$(date +%s%N)/app:1"

echo "== 3. layer reuse: worker B (empty store) cold vs with worker A's layers in the registry ($runs rounds)"
"$driver_bin" cached "$work/store-a" "$ctx" "$registry/kiln/cache" >/dev/null  # A fills the cache
empty_b="$B rmi -a -f >/dev/null 2>&1; $B pull -q --tls-verify=false $registry/bench/busybox:latest >/dev/null"
$paired \
  "worker B, cold, no layer cache" \
  "$B bud --isolation chroot --layers --pull=never -q -t localhost/bench/app:b $ctx" "$empty_b" -- \
  "worker B, layer cache from the registry (plugin)" \
  "$driver_bin cached $work/store-b $ctx $registry/kiln/cache" "$empty_b" -- \
  "worker A, warm store (plugin: its own earlier build, one buildah tag)" \
  "$driver_bin cached $work/store-a $ctx $registry/kiln/cache"
echo "registry space after the runs: $(du -sh "$work/registry" | cut -f1) ($(find "$work/registry" -path '*blobs*' -name data | wc -l) blobs)"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

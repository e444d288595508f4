#!/usr/bin/env bash
# kiln's main job, on this machine: installs what is missing, builds kiln, starts a local
# nats-server (JetStream, loopback, temp dir) and a worker, makes a sample repository
# (a Dockerfile FROM scratch), submits a build job over NATS and follows it live until the
# image is built; then prints the image's tags and how to run it.
# Usage: scripts/demo.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
build_dir="${1:-build}"

bash scripts/install-deps.sh
cmake -G Ninja -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target kiln git buildah nx cache
kiln="$root_dir/$build_dir/bin/kiln"

demo=$(mktemp -d /tmp/kiln-demo-XXXXXX)
cleanup() {
  [ -n "${worker_pid:-}" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null || true
  [ -n "${nats_pid:-}" ] && kill "$nats_pid" 2>/dev/null && wait "$nats_pid" 2>/dev/null || true
  echo "demo files kept in $demo (remove with: rm -rf $demo)"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats-server -a 127.0.0.1 -p "$port" -js -sd "$demo/nats" >"$demo/nats.log" 2>&1 &
nats_pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done

# A sample repository: a tiny static site and a Dockerfile that builds FROM scratch.
repo="$demo/shop"
mkdir -p "$repo/site"
echo "<h1>acme shop</h1>" >"$repo/site/index.html"
printf 'FROM scratch\nCOPY site /site\nLABEL org.example.demo=kiln\n' >"$repo/Dockerfile"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=demo -c user.email=demo@example.invalid commit -qm "first commit"
commit=$(git -C "$repo" rev-parse HEAD)

cat >"$demo/config.yaml" <<YAML
nats: { url: "nats://127.0.0.1:$port" }
worker: { pool_size: 2 }
build:
  code_cache_path: $demo/cache/repos
  build_cache_path: $demo/cache/deps
  workspace_path: $demo/work
  allow_file_urls: true
buildah:
  root: $demo/images/root
  runroot: $demo/images/runroot
logging: { level: warn, format: text }
YAML

"$kiln" worker --config "$demo/config.yaml" >"$demo/worker.log" 2>&1 &
worker_pid=$!
sleep 1

echo "== submitting a build of $repo @ ${commit:0:12} over NATS"
"$kiln" submit --config "$demo/config.yaml" --repo "file://$repo" --commit "$commit" --branch main --wait

echo
echo "== the image, in the worker's buildah store:"
store=(--root "$demo/images/root" --runroot "$demo/images/runroot" --storage-driver vfs)
buildah "${store[@]}" images
image=$(buildah "${store[@]}" images --format '{{.Name}}:{{.Tag}}' | grep ":${commit:0:12}" | head -1)
echo
echo "Look inside it (it is FROM scratch, so there is no shell to run):"
echo "  ctr=\$(buildah ${store[*]} from $image)"
echo "  ls \$(buildah ${store[*]} mount \$ctr)/site"
ctr=$(buildah "${store[@]}" from "$image")
echo "  -> $(ls "$(buildah "${store[@]}" mount "$ctr")/site")"
buildah "${store[@]}" rm "$ctr" >/dev/null

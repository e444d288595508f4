#!/usr/bin/env bash
# kiln's main job, on this machine: installs what is missing, builds kiln, makes the sample
# repository (bench/e2e/make_sample.sh: an NX workspace of 12 TypeScript projects and a
# Dockerfile FROM a local busybox image; the one the end-to-end benchmark builds), serves it
# with `git daemon`, starts a local nats-server (JetStream, loopback, temp dir) and a worker,
# submits the build job over NATS and follows it live: git sync, node_modules from the cache,
# NX build, image. Ends by printing the image's tags, and runs it once to show it works.
#
# Usage: scripts/demo.sh [BUILD_DIR]      (default: build)
#   KILN_DEMO_NO_SETUP=1   use BUILD_DIR as it is: no install-deps, no build (the ctest does)
#   KILN_DEMO_DIR=DIR      keep the demo's files in DIR (default: a new /tmp/kiln-demo-XXXXXX)
#   KILN_DEMO_CLEANUP=1    remove them at the end instead
#   KILN_DEMO_REGISTRY=local   also start Debian's docker-registry on loopback, push the image
#                          there with buildah.push (kiln run of a one-step pipeline), pull it
#                          back into a fresh store and compare the digests
#   KILN_DEMO_REGISTRY=HOST:PORT   the same to a plain-HTTP registry already running there
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
build_dir="${1:-build}"

if [ "${KILN_DEMO_NO_SETUP:-0}" != 1 ]; then
  bash scripts/install-deps.sh
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -G Ninja -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target kiln git buildah nx cache
fi
kiln="$(cd "$build_dir" && pwd)/bin/kiln"
[ -x "$kiln" ] || { echo "demo: no $kiln (build the targets kiln git buildah nx cache)" >&2; exit 2; }

demo=${KILN_DEMO_DIR:-$(mktemp -d /tmp/kiln-demo-XXXXXX)}
mkdir -p "$demo"
# The job sandbox runs a job's processes as an unprivileged uid: it must be able to enter the
# directories above the workspace and the build cache (not list them).
chmod 711 "$demo"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KILN_DEMO_CLEANUP:-0}" = 1 ]; then
    # What a worker that did not stop cleanly left mounted (cache restores) goes first.
    awk -v d="$demo" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
      xargs -r -n1 umount -l 2>/dev/null || true
    chmod -R u+rwX "$demo" 2>/dev/null || true
    rm -rf "$demo"
  else
    echo "demo files kept in $demo (remove with: chmod -R u+w $demo; rm -rf $demo)"
  fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

echo "== nats-server (JetStream) and git daemon on loopback, files in $demo"
nats_port=$(free_port)
nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$demo/nats" >"$demo/nats.log" 2>&1 & pids+=($!)
wait_port "$nats_port" || { echo "demo: nats-server did not start:" >&2; cat "$demo/nats.log" >&2; exit 1; }

echo "== the sample repository: an NX workspace of 12 projects and a Dockerfile"
repo="$demo/git/shop"
rm -rf "$repo"
bench/e2e/make_sample.sh repo "$repo"
commit=$(git -C "$repo" rev-parse HEAD)
git_port=$(free_port)
git daemon --reuseaddr --export-all --base-path="$demo/git" --listen=127.0.0.1 --port="$git_port" \
  "$demo/git" 2>"$demo/git-daemon.log" & pids+=($!)
wait_port "$git_port" || { echo "demo: git daemon did not start" >&2; exit 1; }
url="git://127.0.0.1:$git_port/shop"

cat >"$demo/config.yaml" <<YAML
nats: { url: "nats://127.0.0.1:$nats_port" }
worker: { pool_size: 2 }
build:
  code_cache_path: $demo/cache/repos
  build_cache_path: $demo/cache/deps
  workspace_path: $demo/work
buildah:
  tls_verify: $([ -n "${KILN_DEMO_REGISTRY:-}" ] && echo false || echo true)
  root: $demo/images/root
  runroot: $demo/images/runroot
  storage_driver: vfs
  isolation: chroot
logging: { level: warn, format: text }
YAML
store=(--root "$demo/images/root" --runroot "$demo/images/runroot" --storage-driver vfs)
echo "== the base image the Dockerfile starts FROM (busybox-static, made here: no registry needed)"
bench/e2e/make_sample.sh base-image "${store[@]}"

"$kiln" worker --config "$demo/config.yaml" >"$demo/worker.log" 2>&1 & pids+=($!)
sleep 1

echo "== submitting a build of $url @ ${commit:0:12} over NATS; following it live"
"$kiln" submit --config "$demo/config.yaml" --repo "$url" --commit "$commit" --branch main --wait ||
  { echo "demo: the job failed; the worker's log is $demo/worker.log" >&2; exit 1; }

echo
echo "== the image, in the worker's buildah store:"
tags=$(buildah "${store[@]}" images --format '{{.Name}}:{{.Tag}}' | grep -v "acme/busybox" | sort)
echo "$tags" | sed 's/^/  /'
image=$(echo "$tags" | grep ":${commit:0:12}" | head -1)
[ -n "$image" ] || { echo "demo: no image tagged ${commit:0:12}" >&2; exit 1; }

run_cmd="buildah ${store[*]} run --isolation chroot \$ctr -- httpd -f -p 127.0.0.1:8080 -h /srv/www"
echo
echo "Run it (busybox httpd serving the web front end; then open http://127.0.0.1:8080/):"
echo "  ctr=\$(buildah ${store[*]} from $image)"
echo "  $run_cmd"

# And run it once here, on a free port, to show that it serves what NX built.
web_port=$(free_port)
ctr=$(buildah "${store[@]}" from "$image")
# In a session of its own, so that its process group (buildah and the httpd under it) ends together.
setsid buildah "${store[@]}" run --isolation chroot "$ctr" -- httpd -f -p "127.0.0.1:$web_port" -h /srv/www \
  >"$demo/httpd.log" 2>&1 & httpd_pid=$!
page=""
if wait_port "$web_port"; then page=$(/bin/busybox wget -q -O - "http://127.0.0.1:$web_port/index.html" || true); fi
kill -- -"$httpd_pid" 2>/dev/null || true
wait "$httpd_pid" 2>/dev/null || true
buildah "${store[@]}" rm "$ctr" >/dev/null
echo
if [ -n "$page" ]; then
  echo "== ran it once on port $web_port: GET /index.html ->"
  echo "$page" | sed 's/^/  /'
else
  echo "demo: the image's httpd did not answer on port $web_port ($demo/httpd.log)" >&2
  exit 1
fi

# Optionally, the image to a registry and back.
if [ -n "${KILN_DEMO_REGISTRY:-}" ]; then
  registry=$KILN_DEMO_REGISTRY
  if [ "$registry" = local ]; then
    registry_port=$(free_port)
    registry="127.0.0.1:$registry_port"
    printf 'version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: %s } }\nhttp: { addr: %s }\n' \
      "$demo/registry" "$registry" >"$demo/registry.yml"
    docker-registry serve "$demo/registry.yml" >"$demo/registry.log" 2>&1 & pids+=($!)
    wait_port "$registry_port" || { echo "demo: docker-registry did not start ($demo/registry.log)" >&2; exit 1; }
  fi
  destination="$registry/demo/shop:${commit:0:12}"
  cat >"$demo/push.lua" <<LUA
-- The demo's push: the image the job built, to the demo's registry.
kiln.step("push", { retry = { attempts = 3, initial = "1s" } }, function()
  return buildah.push { image = "$image", destination = "$destination" }
end)
LUA
  echo
  echo "== pushing $image to $destination (buildah.push, kiln run)"
  "$kiln" run "$url" --pipeline "$demo/push.lua" --config "$demo/config.yaml" --commit "$commit" --branch main ||
    { echo "demo: the push failed" >&2; exit 1; }
  pulled=(--root "$demo/pulled/root" --runroot "$demo/pulled/runroot" --storage-driver vfs)
  buildah "${pulled[@]}" pull -q --tls-verify=false "$destination" >/dev/null
  pushed_digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$destination")
  pulled_digest=$(buildah "${pulled[@]}" inspect --type image --format '{{.FromImageDigest}}' "$destination")
  buildah "${pulled[@]}" rmi -a -f >/dev/null 2>&1 || true
  echo "  in the registry: $pushed_digest; pulled back into a fresh store: $pulled_digest"
  [ "$pushed_digest" = "$pulled_digest" ] || { echo "demo: the digests differ" >&2; exit 1; }
fi

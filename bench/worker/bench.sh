#!/usr/bin/env bash
# kiln worker vs a plain cnats consumer, side by side on one nats-server in one run.
#   bench/worker/bench.sh BUILD_DIR [N]
# BUILD_DIR holds bin/kiln and bin/kiln_bench_plain_consumer (bench/worker/CMakeLists.txt).
# Prints: idle worker RSS, then for each side throughput (a burst of N no-op jobs) and
# publish -> done latency p50/p99 (N/2 jobs paced 20 ms apart), pool 8, with the CPU per job
# that nats-server, the worker and the client used in each phase; then, when
# BUILD_DIR/bin/kiln_bench_server_cost exists, what each kind of NATS operation costs the server.
set -euo pipefail
build=$(cd "${1:?usage: bench.sh BUILD_DIR [N]}" && pwd)
n=${2:-2000}
kiln=$build/bin/kiln
consumer=$build/bin/kiln_bench_plain_consumer
[ -x "$consumer" ] || consumer=$build/bench/worker/kiln_bench_plain_consumer
work=$(mktemp -d /tmp/kiln-bench-worker-XXXXXX)
chmod 711 "$work"  # the job sandbox's uid enters it to reach the workspaces
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=nats://127.0.0.1:$port
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/store" -l "$work/nats.log" & pids+=($!)
for _ in $(seq 100); do grep -q "Server is ready" "$work/nats.log" 2>/dev/null && break; sleep 0.05; done

mkdir -p "$work/pipelines"
echo 'kiln.step("noop", function() return {} end)' > "$work/pipelines/noop.lua"
cat > "$work/config.yaml" <<YAML
nats: { url: "$url" }
worker: { pool_size: 8 }
build: { workspace_path: work/ws, code_cache_path: work/code, build_cache_path: work/deps }
pipelines: { dir: pipelines }
logging: { level: warn, format: text }
YAML

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), nats-server $(nats-server --version | awk '{print $2}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$consumer" "$url" "$n" 8 plain nats-server=${pids[0]}

"$kiln" worker --config "$work/config.yaml" > "$work/worker.log" 2>&1 & wpid=$!; pids+=($wpid)
sleep 2
echo "idle kiln worker (pool 8, plugins from $build/lib/kiln/plugins): RSS $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$wpid/status)"
[ -n "${PERF:-}" ] && { perf record -g -o "$PERF" -p $wpid & perfpid=$!; }
"$consumer" "$url" "$n" 8 kiln nats-server=${pids[0]} kiln-worker=$wpid
[ -n "${PERF:-}" ] && { kill -INT $perfpid; sleep 2; }
echo "kiln worker after the run: RSS $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$wpid/status), peak $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/$wpid/status)"

cost=$build/bin/kiln_bench_server_cost
[ -x "$cost" ] || cost=$build/bench/worker/kiln_bench_server_cost
if [ -x "$cost" ]; then
  kill "$wpid"; wait "$wpid" 2>/dev/null || true
  echo "nats-server CPU per operation (N each, 8 threads):"
  "$cost" "$url" "${pids[0]}" "$n" 8
fi

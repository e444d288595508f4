#!/usr/bin/env bash
# Webhook throughput: the gateway's HTTP server (Boost.Beast) against the cpp-httplib one it
# replaced, side by side in one run (kiln_bench_gateway_http alternates them each round).
# Usage: bench/gateway/bench.sh BUILD_DIR [ROUNDS] [CLIENTS] [REQUESTS_PER_CLIENT]
set -euo pipefail
build=${1:?build dir}
rounds=${2:-7}
clients=${3:-8}
per_client=${4:-2000}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bin/kiln_bench_gateway_http" "$rounds" "$clients" "$per_client" | tee /tmp/kiln-bench-gateway.txt
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - /tmp/kiln-bench-gateway.txt <<'PY'
import statistics, sys
rates = {}
rounds = {}
for line in open(sys.argv[1]):
    server, rnd, rate = line.split()
    rates.setdefault(server, []).append(float(rate))
    rounds.setdefault(int(rnd), {})[server] = float(rate)
for server, values in rates.items():
    print(f"{server}: median {statistics.median(values):.0f} req/s, min {min(values):.0f}, max {max(values):.0f} (n={len(values)})")
for base in ("httplib", "httplib-nodelay"):
    ratios = [r["beast"] / r[base] for r in rounds.values() if "beast" in r and base in r]
    print(f"beast/{base} per round: median {statistics.median(ratios):.2f}x, min {min(ratios):.2f}x, max {max(ratios):.2f}x")
PY

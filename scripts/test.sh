#!/usr/bin/env bash
# The test command: installs what is missing, builds everything with warnings as errors,
# and runs every test (real nats-server, git, buildah and NX on loopback, in temp dirs).
# Usage: scripts/test.sh [BUILD_DIR]      (default: build-ci)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build-ci}"

bash scripts/install-deps.sh
# -O1 without debug info: the tests' time goes to the real tools, and a clean build on two
# cores is the longest part of CI. Benchmarks build their own optimised tree.
cmake -G Ninja -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" -DKILN_WERROR=ON
cmake --build "$build_dir" -j"$(nproc)"
cd "$build_dir"
ctest --output-on-failure --timeout 900 -j2

#!/usr/bin/env bash
# The test command: installs what is missing, then (by default the parts "asan tsan fuzz")
#   1. asan: builds everything with AddressSanitizer + UndefinedBehaviorSanitizer and warnings as
#      errors, and runs every test on it (real nats-server, git, buildah and NX on loopback,
#      in temp dirs): the whole suite runs once, sanitized;
#   2. tsan: builds the engine and the worker tests with ThreadSanitizer and runs those (the
#      worker's pool, leases, drain: where the threads are);
#   3. fuzz: builds the libFuzzer targets (clang) and runs each over its corpus, 60 s in all;
#   plain (not a default part): the whole suite at -O1 without sanitizers, for a machine
#      too small for the sanitized build;
# and prints how long each part took. docs/sanitizers.md and docs/fuzzing.md say how to run
# each part by hand.
# Usage: scripts/test.sh [BUILD_DIR]      (default: build-ci; the TSan and fuzz trees are
#        BUILD_DIR-tsan and BUILD_DIR-fuzz). KILN_CI_PARTS="plain" (or any list) picks parts.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build-ci}"
# On two cores: ASan+UBSan build ~10 min, its suite ~12 min, TSan ~6 min, fuzz ~1 min
# (docs/sanitizers.md has the figures). The plain suite would add ~11 min: not in CI.
parts="${KILN_CI_PARTS:-asan tsan fuzz}"
jobs="$(nproc)"

timings=()
timed() {  # timed LABEL COMMAND...: runs it and keeps its wall time for the summary
  local label="$1" start=$SECONDS
  shift
  "$@"
  timings+=("$(printf '%-28s %4d s' "$label" $((SECONDS - start)))")
}
summary() {
  echo "== test.sh timings (wall):"
  printf '  %s\n' "${timings[@]}"
}
trap summary EXIT

timed "install-deps" bash scripts/install-deps.sh

# Sanitizer reports: stop at the first, with a stack; LSan's suppressions are for leaks in
# third-party libraries only, one commented entry each (tests/sanitizers/lsan.supp).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp}"

# Without debug info: the tests' time goes to the real tools, and a clean build on two cores
# is the longest part of CI. A unity build (8 files per compiler run) halves it: most of a
# file's compile time is generating the same json/fmt/Asio templates again, and a batch
# generates them once (docs/sanitizers.md has the figures). Developers' trees stay one file
# per run, so each file still has to include what it uses. Benchmarks build their own tree.
configure() {  # configure DIR OPTIMISATION SANITIZERS [EXTRA CMAKE ARGS...]
  local dir="$1" optimisation="$2" sanitize="$3"
  shift 3
  cmake -G Ninja -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$optimisation -DNDEBUG" -DKILN_WERROR=ON -DKILN_SANITIZE="$sanitize" "$@"
}

if [[ " $parts " == *" plain "* ]]; then
  # Without sanitizers, -O1: for a machine too small for the sanitized build.
  timed "configure" configure "$build_dir" -O1 ""
  timed "build (all)" cmake --build "$build_dir" -j"$jobs"
  timed "ctest (all)" ctest --test-dir "$build_dir" --output-on-failure --timeout 900 -j2
fi

if [[ " $parts " == *" asan "* ]]; then
  # -O0: with GCC 12, ASan+UBSan at -O1 compiles 2-3x slower than a plain -O1 build, at -O0
  # about 1.45x (docs/sanitizers.md has the figures); the sanitizers check as much at -O0.
  timed "asan+ubsan configure" configure "$build_dir" -O0 address,undefined
  timed "asan+ubsan build (all)" cmake --build "$build_dir" -j"$jobs"
  timed "asan+ubsan ctest (all)" ctest --test-dir "$build_dir" --output-on-failure --timeout 900 -j2
fi

if [[ " $parts " == *" tsan "* ]]; then
  # Only what the worker tests need: the engine, the kiln binary and the test plugins
  # (their pipelines are written by the tests; no phase plugin is involved).
  # TSan costs about 1.1x a plain build to compile; -O1 keeps its (slow) runs shorter.
  timed "tsan configure" configure "$build_dir-tsan" -O1 thread -DKILN_PLUGINS=
  timed "tsan build (worker tests)" cmake --build "$build_dir-tsan" -j"$jobs" --target worker_tests
  # Without address randomisation: TSan's fixed shadow layout fails ("unexpected memory
  # mapping") on kernels that randomise mmap with more bits than it expects.
  timed "tsan ctest (worker)" setarch "$(uname -m)" -R \
    ctest --test-dir "$build_dir-tsan" -L '^worker$' --output-on-failure --timeout 900 -j2
fi

if [[ " $parts " == *" fuzz "* ]]; then
  export KILN_FUZZ_BUILD="$build_dir-fuzz"
  timed "fuzz build + 60 s smoke" bash scripts/fuzz.sh smoke 60
fi

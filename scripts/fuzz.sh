#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, tree build-fuzz) and runs them.
#
#   scripts/fuzz.sh smoke [TOTAL_SECONDS]     every target in turn, TOTAL_SECONDS (60) shared
#                                             out; what CI runs. Fails on the first finding.
#   scripts/fuzz.sh run TARGET [SECONDS] [JOBS]
#                                             a long run of one target (default 3600 s, 1 job);
#                                             new inputs and findings go to fuzz-work/TARGET/.
#   scripts/fuzz.sh merge TARGET              adds what a long run found that covers new code
#                                             to the target's corpus in the repository
#                                             (tests/fuzz/corpus/TARGET), minimised.
#   scripts/fuzz.sh list                      the targets this checkout builds.
#
# A finding is a file fuzz-work/TARGET/crash-* (or timeout-*, oom-*); replay it with
#   build-fuzz/bin/TARGET_fuzzer FILE
# then fix the code, add a test to the normal suite, and copy the file into the corpus.
# Environment: KILN_FUZZ_BUILD (build dir, default build-fuzz), CLANG_VERSION (14).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${KILN_FUZZ_BUILD:-build-fuzz}"
clang_version="${CLANG_VERSION:-14}"
corpus_root=tests/fuzz/corpus
work_root=fuzz-work
# Per input: a case slower than this or larger than this is a finding (a hang, a blow-up).
limits=(-timeout=10 -rss_limit_mb=2048)

build() {
  local launcher=()
  command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -G Ninja -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" \
    -DCMAKE_C_COMPILER="clang-$clang_version" -DCMAKE_CXX_COMPILER="clang++-$clang_version" \
    -DKILN_FUZZ=ON -DKILN_BUILD_TESTS=OFF -DKILN_WERROR=ON -DKILN_SANITIZE=address,undefined \
    "${launcher[@]}" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target fuzzers
}

targets() {
  local binary
  for binary in "$build_dir"/bin/*_fuzzer; do
    [ -x "$binary" ] && basename "$binary" _fuzzer
  done
}

# Readable reports: symbolized stacks, and UBSan stops at its first report like ASan.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
command -v "llvm-symbolizer-$clang_version" >/dev/null 2>&1 &&
  export ASAN_SYMBOLIZER_PATH="$(command -v "llvm-symbolizer-$clang_version")"

smoke() {
  local total="${1:-60}"
  build
  local all=($(targets))
  local each=$((total / ${#all[@]}))
  ((each > 0)) || each=1
  local scratch
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' RETURN
  for target in "${all[@]}"; do
    echo "fuzz smoke: $target for ${each}s"
    mkdir -p "$scratch/$target"
    # New inputs go to the scratch dir (first), the repository's corpus is only read.
    "$build_dir/bin/${target}_fuzzer" "${limits[@]}" -max_total_time="$each" -print_final_stats=1 \
      -artifact_prefix="$scratch/$target-" "$scratch/$target" "$corpus_root/$target" 2>"$scratch/$target.log" || {
      echo "fuzz smoke: $target found a problem:" >&2
      grep -v '^INFO\|^#' "$scratch/$target.log" | head -60 >&2
      for artifact in "$scratch/$target"-*; do
        [ -e "$artifact" ] && { echo "--- input ($artifact), base64:" >&2; base64 "$artifact" | head -40 >&2; }
      done
      return 1
    }
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$scratch/$target.log" | tr '\n' ' '
    echo
  done
}

run() {
  local target="$1" seconds="${2:-3600}" jobs="${3:-1}"
  build
  local work="$work_root/$target"
  mkdir -p "$work/corpus"
  echo "fuzz: $target for ${seconds}s with $jobs job(s); new inputs in $work/corpus, findings in $work/"
  local parallel=()
  # With -jobs, libFuzzer runs each job in a child process logging to fuzz-N.log in $work.
  ((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")
  (cd "$work" && "../../$build_dir/bin/${target}_fuzzer" "${limits[@]}" -max_total_time="$seconds" \
    "${parallel[@]}" -print_final_stats=1 -artifact_prefix=./ corpus "../../$corpus_root/$target")
}

merge() {
  local target="$1"
  build
  "$build_dir/bin/${target}_fuzzer" "${limits[@]}" -merge=1 "$corpus_root/$target" "$work_root/$target/corpus"
}

case "${1:-}" in
  smoke) smoke "${2:-60}" ;;
  run) [ -n "${2:-}" ] || { echo "usage: $0 run TARGET [SECONDS] [JOBS]" >&2; exit 2; }; run "$2" "${3:-3600}" "${4:-1}" ;;
  merge) [ -n "${2:-}" ] || { echo "usage: $0 merge TARGET" >&2; exit 2; }; merge "$2" ;;
  list) build >/dev/null; targets ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

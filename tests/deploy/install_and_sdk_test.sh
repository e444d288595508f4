#!/usr/bin/env bash
# Issue 8, points 4 and 5: `cmake --install` gives the documented layout, and a plugin built
# OUT OF TREE against that installed SDK (examples/plugin-hello, find_package(kiln)) is
# listed by `kiln plugins` and called by a `kiln run` pipeline.
# Usage: install_and_sdk_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
build="$2"
work="$(mktemp -d "${TMPDIR:-/tmp}/kiln-sdk-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== cmake --install to $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "install"; }

echo "== the installed layout"
for f in bin/kiln lib/kiln/plugins/git.so lib/kiln/plugins/nx.so lib/kiln/plugins/cache.so \
         lib/kiln/plugins/buildah.so share/kiln/pipelines/default.lua share/kiln/pipelines/cache-gc.lua \
         include/kiln/plugin.hpp include/kiln/step_context.hpp include/kiln/step_result.hpp include/kiln/process.hpp \
         lib/cmake/kiln/kilnConfig.cmake lib/cmake/kiln/kilnConfigVersion.cmake lib/cmake/kiln/kilnTargets.cmake \
         lib/cmake/kiln/KilnPlugin.cmake lib/systemd/system/kiln-worker.service share/doc/kiln/examples/config.yaml; do
  [ -e "$prefix/$f" ] || fail "missing $f"
done
# The test plugins are never installed; the SDK dir holds only the SDK's headers.
[ ! -e "$prefix/lib/kiln/plugins/probe.so" ] || fail "a test plugin was installed"
[ -z "$(ls "$prefix/include/kiln" | grep -v -E '^(plugin|step_context|step_result|process)\.hpp$')" ] ||
  fail "unexpected headers in include/kiln: $(ls "$prefix/include/kiln")"
# KilnPlugin.cmake is the source tree's file, not a copy.
cmp -s "$src/cmake/KilnPlugin.cmake" "$prefix/lib/cmake/kiln/KilnPlugin.cmake" || fail "KilnPlugin.cmake differs"

echo "== the installed kiln finds its own plugins"
"$prefix/bin/kiln" plugins >"$work/plugins0.txt" 2>&1 || { cat "$work/plugins0.txt"; fail "kiln plugins"; }
grep -q "git" "$work/plugins0.txt" || { cat "$work/plugins0.txt"; fail "kiln plugins does not list git"; }

echo "== examples/plugin-hello, built out of tree against the installed SDK"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake "${generator[@]}" -S "$src/examples/plugin-hello" -B "$work/hello-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" >"$work/hello-configure.log" 2>&1 ||
  { cat "$work/hello-configure.log"; fail "configuring plugin-hello"; }
cmake --build "$work/hello-build" >"$work/hello-build.log" 2>&1 || { cat "$work/hello-build.log"; fail "building plugin-hello"; }
[ -f "$work/hello-build/plugins/hello.so" ] || fail "no hello.so"

mkdir -p "$work/run/repo" "$work/run/pipelines"
cat >"$work/run/config.yaml" <<YAML
plugins: { dirs: ["$work/hello-build/plugins"] }
build: { workspace_path: work, code_cache_path: cache/repos, build_cache_path: cache/deps }
logging: { level: warn, format: text }
hello: { style: loud }
YAML
"$prefix/bin/kiln" plugins --config "$work/run/config.yaml" >"$work/plugins.txt" 2>&1 ||
  { cat "$work/plugins.txt"; fail "kiln plugins with the hello dir"; }
cat "$work/plugins.txt"
grep -q "hello" "$work/plugins.txt" || fail "kiln plugins does not list hello"
grep -q "greet" "$work/plugins.txt" || fail "kiln plugins does not list hello's steps"

echo "== kiln run of a pipeline that calls hello's steps"
sha=9fceb02d0ae598e95dc970b74767f19372d61af8
set +e
"$prefix/bin/kiln" run --json --config "$work/run/config.yaml" --pipeline "$src/examples/plugin-hello/hello.lua" \
  --commit "$sha" "$work/run/repo" >"$work/run.jsonl" 2>"$work/run.err"
code=$?
set -e
[ "$code" -eq 0 ] || { cat "$work/run.jsonl" "$work/run.err"; fail "kiln run exited $code"; }
grep -q '"HELLO, KILN!"' "$work/run.jsonl" || { cat "$work/run.jsonl"; fail "no greeting in the events"; }
grep -q '"type":"job.succeeded"' "$work/run.jsonl" || { cat "$work/run.jsonl"; fail "job did not succeed"; }

echo "== a bad hello config is refused, naming the key"
printf 'plugins: { dirs: ["%s"] }\nhello: { style: whisper }\n' "$work/hello-build/plugins" >"$work/run/bad.yaml"
set +e
"$prefix/bin/kiln" run --config "$work/run/bad.yaml" --pipeline "$src/examples/plugin-hello/hello.lua" \
  --commit "$sha" "$work/run/repo" >"$work/bad.out" 2>&1
code=$?
set -e
[ "$code" -eq 2 ] || { cat "$work/bad.out"; fail "a bad hello.style gave exit $code, not 2"; }
grep -q "hello.style" "$work/bad.out" || { cat "$work/bad.out"; fail "the error does not name hello.style"; }

echo "== installing the plugin beside kiln's own makes it found without plugins.dirs"
cmake --install "$work/hello-build" --prefix "$prefix" >/dev/null
[ -f "$prefix/lib/kiln/plugins/hello.so" ] || fail "hello.so not installed to lib/kiln/plugins"
"$prefix/bin/kiln" plugins >"$work/plugins2.txt" 2>&1 || { cat "$work/plugins2.txt"; fail "kiln plugins"; }
grep -q "hello" "$work/plugins2.txt" || { cat "$work/plugins2.txt"; fail "installed hello not listed"; }
echo "PASS"

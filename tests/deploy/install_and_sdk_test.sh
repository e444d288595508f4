#!/usr/bin/env bash
# Issue 8, points 4 and 5: `cmake --install` gives the documented layout, and a plugin built
# OUT OF TREE against that installed SDK (examples/plugin-hello, find_package(kiln)) is
# listed by `kiln plugins` and called by a `kiln run` pipeline.
# Usage: install_and_sdk_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
build="$2"
work="$(mktemp -d "${TMPDIR:-/tmp}/kiln-sdk-test.XXXXXX")"
chmod 711 "$work"  # the job sandbox's uid enters it to reach the workspaces
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== cmake --install to $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "install"; }

echo "== the installed layout"
for f in bin/kiln lib/kiln/plugins/git.so lib/kiln/plugins/git.d/git_libgit2.so lib/kiln/plugins/nx.so \
         lib/kiln/plugins/cache.so lib/kiln/plugins/buildah.so share/kiln/pipelines/default.lua \
         share/kiln/pipelines/cache-gc.lua include/kiln/plugin.hpp include/kiln/deferred_plugin.hpp \
         lib/cmake/kiln/kilnConfig.cmake lib/cmake/kiln/kilnConfigVersion.cmake lib/cmake/kiln/kilnTargets.cmake \
         lib/cmake/kiln/KilnPlugin.cmake lib/systemd/system/kiln-worker.service share/doc/kiln/examples/config.yaml; do
  [ -e "$prefix/$f" ] || fail "missing $f"
done
# The test plugins are never installed; include/kiln holds exactly the SDK's headers.
[ ! -e "$prefix/lib/kiln/plugins/probe.so" ] || fail "a test plugin was installed"
[ ! -e "$prefix/lib/kiln/plugins/deferred.so" ] || fail "a test plugin was installed"
[ "$(ls "$src/engine/include/kiln")" = "$(ls "$prefix/include/kiln")" ] ||
  fail "include/kiln holds $(ls "$prefix/include/kiln"), not engine/include/kiln's headers"
# The imported target carries what the SDK's headers need (deferred_plugin.hpp refuses
# to compile without BOOST_DLL_USE_STD_FS).
grep -q "BOOST_DLL_USE_STD_FS" "$prefix/lib/cmake/kiln/kilnTargets.cmake" ||
  fail "kiln::plugin_sdk lacks the BOOST_DLL_USE_STD_FS definition"
# KilnPlugin.cmake is the source tree's file, not a copy.
cmp -s "$src/cmake/KilnPlugin.cmake" "$prefix/lib/cmake/kiln/KilnPlugin.cmake" || fail "KilnPlugin.cmake differs"

echo "== the installed kiln finds its own plugins"
"$prefix/bin/kiln" plugins >"$work/plugins0.txt" 2>&1 || { cat "$work/plugins0.txt"; fail "kiln plugins"; }
grep -q "git" "$work/plugins0.txt" || { cat "$work/plugins0.txt"; fail "kiln plugins does not list git"; }

echo "== the installed git plugin loads libgit2 from lib/kiln/plugins/git.d on its first step"
repo="$work/origin"
git init -q -b main "$repo"
git -C "$repo" -c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m first
head="$(git -C "$repo" rev-parse HEAD)"
cat >"$work/sync.lua" <<'LUA'
kiln.step("sync", function() return git.sync { url = job.repo.url, commit = job.commit } end)
return {}
LUA
cat >"$work/sync.yaml" <<YAML
build: { workspace_path: $work/sync/work, code_cache_path: $work/sync/repos, build_cache_path: $work/sync/deps }
logging: { level: warn, format: text }
YAML
# run_installed NAME EXPECTED WHAT: the installed kiln runs $work/NAME.lua on the sample
# repository; it must exit 0 and print EXPECTED (a grep pattern).
run_installed() {
  local name="$1" expected="$2" what="$3" code
  set +e
  "$prefix/bin/kiln" run --json --config "$work/sync.yaml" --pipeline "$work/$name.lua" --commit "$head" "$repo" \
    >"$work/$name.jsonl" 2>&1
  code=$?
  set -e
  [ "$code" -eq 0 ] && grep -q "$expected" "$work/$name.jsonl" ||
    { cat "$work/$name.jsonl"; fail "$what (exit $code)"; }
}
run_installed sync '"type":"job.succeeded"' "git.sync with the installed kiln"

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
echo "== a deferred plugin built out of tree: kiln_add_plugin_implementation from the installed SDK"
# tests/plugins' deferred front and implementation, as a third party would build them.
mkdir -p "$work/later"
cat >"$work/later/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(later LANGUAGES CXX)
find_package(kiln 0.1 REQUIRED)
kiln_add_plugin(later $src/tests/plugins/deferred_front.cpp)
target_compile_definitions(later PRIVATE DEFERRED_NAME="later" DEFERRED_IMPLEMENTATION="later.d/work.so")
kiln_add_plugin_implementation(later later_work $src/tests/plugins/deferred_implementation.cpp)
set_target_properties(later_work PROPERTIES OUTPUT_NAME work)
target_compile_definitions(later_work PRIVATE DEFERRED_NAME="later")
CMAKE
cmake "${generator[@]}" -S "$work/later" -B "$work/later-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" >"$work/later-configure.log" 2>&1 ||
  { cat "$work/later-configure.log"; fail "configuring the deferred plugin"; }
cmake --build "$work/later-build" --target later >"$work/later-build.log" 2>&1 ||
  { cat "$work/later-build.log"; fail "building the deferred plugin"; }
[ -f "$work/later-build/plugins/later.d/work.so" ] || fail "building later did not build later.d/work.so"
cmake --install "$work/later-build" --prefix "$prefix" >/dev/null
[ -f "$prefix/lib/kiln/plugins/later.d/work.so" ] || fail "later.d/work.so not installed beside later.so"
cat >"$work/later.lua" <<'LUA'
local r = kiln.step("hello", function() return later.hello { to = "you" } end)
kiln.log(r.greeting .. " " .. r.to)
return {}
LUA
run_installed later 'hello you' "the installed deferred plugin's step"
echo "PASS"

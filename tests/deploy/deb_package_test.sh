#!/usr/bin/env bash
# Issue 8, point 4: `cpack -G DEB` makes a .deb that depends on Debian's runtime libraries
# (dpkg-shlibdeps) and buildah, holds the installed layout under /usr, and whose kiln finds
# its plugins once unpacked.
# Usage: deb_package_test.sh BUILD_DIR
set -euo pipefail
build="$1"
work="$(mktemp -d "${TMPDIR:-/tmp}/kiln-deb-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "SKIP: no dpkg-deb"; exit 77; }

(cd "$build" && cpack -G DEB -B "$work/out") >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb="$(ls "$work"/out/kiln_*.deb 2>/dev/null | head -n 1)"
[ -n "$deb" ] || { cat "$work/cpack.log"; fail "no kiln_*.deb"; }
echo "== $(basename "$deb")"
dpkg-deb -I "$deb"

depends="$(dpkg-deb -f "$deb" Depends)"
for lib in libnats liblua5.4 libgit2 libyaml-cpp libstdc++6 buildah git; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
[ "$(dpkg-deb -f "$deb" Package)" = kiln ] || fail "package name"

dpkg-deb -c "$deb" >"$work/contents.txt"
for f in ./usr/bin/kiln ./usr/lib/kiln/plugins/git.so ./usr/lib/kiln/plugins/git.d/git_libgit2.so \
         ./usr/lib/kiln/plugins/buildah.so ./usr/lib/kiln/plugins/nx.so ./usr/include/kiln/deferred_plugin.hpp \
         ./usr/lib/kiln/plugins/cache.so ./usr/share/kiln/pipelines/default.lua ./usr/share/kiln/pipelines/cache-gc.lua \
         ./usr/include/kiln/plugin.hpp ./usr/lib/cmake/kiln/kilnConfig.cmake ./usr/lib/cmake/kiln/KilnPlugin.cmake \
         ./usr/lib/systemd/system/kiln-worker.service ./usr/share/doc/kiln/examples/config.yaml; do
  grep -q " $f\$" "$work/contents.txt" || { cat "$work/contents.txt"; fail "the package lacks $f"; }
done
! grep -q "probe.so" "$work/contents.txt" || fail "a test plugin is in the package"

echo "== the unpacked kiln finds its plugins relative to itself"
dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/bin/kiln" plugins >"$work/plugins.txt" 2>&1 || { cat "$work/plugins.txt"; fail "kiln plugins"; }
for p in git nx cache buildah; do
  grep -q "^$p " "$work/plugins.txt" || { cat "$work/plugins.txt"; fail "plugin $p not listed"; }
done
echo "PASS"

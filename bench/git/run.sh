#!/usr/bin/env bash
# Benchmarks the git plugin (both transports) against the git CLI, side by side in one run,
# on a generated repository (make_repo.sh: 5000 commits, 2000 files) served by git daemon
# on loopback:
#   cold clone    plugin mirror clone          vs  git clone --mirror
#   warm fetch    plugin fetch of 1 new commit  vs  git fetch (in a mirror clone)
#   checkout      plugin workspace checkout     vs  git worktree add --detach
# Usage: bench/git/run.sh BUILD_DIR [RUNS]   (needs hyperfine, jq; the binary
# BUILD_DIR/bin/kiln-git-bench, or KILN_GIT_BENCH=/path/to/it)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [RUNS]}
runs=${2:-7}
bin=${KILN_GIT_BENCH:-$build/bin/kiln-git-bench}
here=$(cd "$(dirname "$0")" && pwd)
[[ -x "$bin" ]] || { echo "no $bin (build target kiln-git-bench)" >&2; exit 2; }

work=$(mktemp -d /tmp/kiln-git-bench-XXXXXX)
daemon_pid=""
cleanup() { [[ -n "$daemon_pid" ]] && kill "$daemon_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "generating the repository..." >&2
head=$("$here/make_repo.sh" "$work/srv/bench.git" "${COMMITS:-5000}" "${FILES:-2000}")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
       shuf -i 20000-60000 -n 1)
git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --base-path="$work/srv" --export-all "$work/srv" \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
url="git://127.0.0.1:$port/bench.git"
mirror_rel="127.0.0.1_$port/bench.git"

hf() { hyperfine --style basic --runs "$runs" --warmup 1 "$@"; }

# 1. Cold clone.
hf --export-json "$work/cold.json" \
  --prepare "rm -rf $work/p1 $work/p2 $work/g" \
  -n "plugin libgit2" "$bin --root $work/p1 --op clone --transport libgit2 --url $url --commit $head" \
  -n "plugin cli" "$bin --root $work/p2 --op clone --transport cli --url $url --commit $head" \
  -n "git clone --mirror" "git clone --quiet --mirror $url $work/g"

# Snapshots at the current head for the warm fetch, then one new commit on the server.
"$bin" --root "$work/snap-p" --op clone --transport libgit2 --url "$url" --commit "$head" >/dev/null
git clone --quiet --mirror "$url" "$work/snap-g"
new=$("$here/make_repo.sh" --append "$work/srv/bench.git")

# 2. Warm fetch of one new commit.
hf --export-json "$work/warm.json" \
  --prepare "rm -rf $work/w1 $work/w2 $work/wg && mkdir -p $work/w1 $work/w2 && cp -a $work/snap-p/cache $work/w1/ && cp -a $work/snap-p/cache $work/w2/ && cp -a $work/snap-g $work/wg" \
  -n "plugin libgit2" "$bin --root $work/w1 --op fetch --transport libgit2 --url $url --commit $new" \
  -n "plugin cli" "$bin --root $work/w2 --op fetch --transport cli --url $url --commit $new" \
  -n "git fetch" "git -C $work/wg fetch --quiet"

# 3. Workspace checkout of the head from a mirror.
"$bin" --root "$work/snap-p" --op fetch --transport libgit2 --url "$url" --commit "$new" >/dev/null
git -C "$work/snap-g" fetch --quiet
hf --export-json "$work/checkout.json" \
  --prepare "rm -rf $work/snap-p/work/src $work/wt && git -C $work/snap-g worktree prune" \
  -n "plugin (libgit2)" "$bin --root $work/snap-p --op checkout --transport libgit2 --url $url --commit $new" \
  -n "git worktree add" "git -C $work/snap-g worktree add --quiet --detach $work/wt $new"

echo
echo "| operation | command | mean ms | ± ms | ratio to git |"
echo "|---|---|---:|---:|---:|"
for phase in cold warm checkout; do
  jq -r --arg phase "$phase" '
    (.results | map(select(.command | startswith("git"))) | .[0].mean) as $git
    | .results[] | "| \($phase) | \(.command) | \(.mean * 1000 | round) | \(.stddev * 1000 | round) | \((.mean / $git * 100 | round) / 100) |"' \
    "$work/$phase.json"
done
echo
echo "repository: $(git -C "$work/srv/bench.git" rev-list --count main) commits, $(git -C "$work/srv/bench.git" ls-tree -r main | wc -l) files, $(du -sh "$work/srv/bench.git" | cut -f1) packed; $runs runs each; $(nproc) cores; $(git --version); libgit2 $(pkg-config --modversion libgit2 2>/dev/null)"

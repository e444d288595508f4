#!/usr/bin/env bash
# Engine overhead (issue 2): `kiln run` of a no-op pipeline — wall time and peak RSS —
# and plugin loading time, next to `true` and `git ls-remote` as baselines in the same run.
# Usage: bench/engine/run.sh BUILD_DIR [RUNS]
set -euo pipefail
build=$(cd "$1" && pwd)
runs=${2:-30}
kiln="$build/bin/kiln"
work=$(mktemp -d /tmp/kiln-bench-engine-XXXXXX)
chmod 711 "$work"  # the job sandbox's uid enters it to reach the workspaces
trap 'rm -rf "$work"' EXIT

git init -q -b main "$work/repo"
git -C "$work/repo" -c user.name=b -c user.email=b@b commit -q --allow-empty -m empty
commit=$(git -C "$work/repo" rev-parse HEAD)
echo "return 1" >"$work/noop.lua"
cat >"$work/config.yaml" <<YAML
build: { workspace_path: $work/work, code_cache_path: $work/code, build_cache_path: $work/deps }
YAML

echo "== wall time (hyperfine, $runs runs)"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/wall.json" \
  "$kiln run --config $work/config.yaml --pipeline $work/noop.lua --commit $commit --branch main $work/repo" \
  "$kiln plugins --config $work/config.yaml" \
  "git -C $work/repo rev-parse HEAD" >/dev/null
python3 - "$work/wall.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    name = r["command"].split()[1] if "kiln" in r["command"] else "git rev-parse (baseline)"
    print(f"  {name:28s} median {r['median']*1000:7.2f} ms  min {r['min']*1000:7.2f}  max {r['max']*1000:7.2f}")
PY

echo "== CPU time (perf stat task-clock, $runs runs): what the wall time is on a machine nobody else uses"
if command -v perf >/dev/null; then
  perf stat -r "$runs" -e task-clock "$kiln" run --config "$work/config.yaml" --pipeline "$work/noop.lua" \
    --commit "$commit" --branch main "$work/repo" 2>&1 >/dev/null | awk '/task-clock/ {print "  kiln run no-op: " $1 " ms of CPU"}'
else
  echo "  (perf is not installed)"
fi

echo "== peak RSS (/usr/bin/time, max of 5)"
peak=0
for _ in 1 2 3 4 5; do
  /usr/bin/time -f "%M" -o "$work/rss" "$kiln" run --config "$work/config.yaml" --pipeline "$work/noop.lua" \
    --commit "$commit" --branch main "$work/repo" >/dev/null
  rss=$(tail -1 "$work/rss"); [ "$rss" -gt "$peak" ] && peak=$rss
done
echo "  kiln run no-op: peak RSS $((peak / 1024)) MiB ($peak KiB)"

echo "== plugin loading (kiln plugins --json, load_ms per plugin, median of 10)"
for _ in $(seq 10); do "$kiln" plugins --json --config "$work/config.yaml"; done | python3 -c '
import json, sys, statistics
text = sys.stdin.read()
dec = json.JSONDecoder(); i = 0; per = {}
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    obj, i = dec.raw_decode(text, i)
    for p in obj["plugins"]: per.setdefault(p["name"], []).append(p["load_ms"])
for name, values in sorted(per.items()):
    print(f"  {name:10s} median {statistics.median(values):6.2f} ms  max {max(values):6.2f} ms")
'

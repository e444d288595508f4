#!/usr/bin/env bash
# Generates the benchmark repository quickly with git fast-import: a bare repository with
# COMMITS commits on main (default 5000) over FILES files (default 2000, ~1 KiB each, in 50
# directories); the first commit adds every file, each later one rewrites 1-3 of them.
#   make_repo.sh DIR [COMMITS] [FILES]      -> DIR (bare), prints the head commit
# `make_repo.sh --append DIR` adds one more commit to main (the warm fetch's "new commit").
set -euo pipefail
export LC_ALL=C

if [[ "${1:-}" == "--append" ]]; then
  dir=$2
  n=$(git -C "$dir" rev-list --count main)
  content="appended line after commit $n"$'\n'
  {
    printf 'commit refs/heads/main\ncommitter Bench <bench@kiln.invalid> %d +0000\n' $((1700000000 + n + 1))
    printf 'data 6\nappend\nfrom refs/heads/main^0\n'
    printf 'M 100644 inline src/dir00/file0000.txt\ndata %d\n%s\n' "${#content}" "$content"
  } | git -C "$dir" fast-import --quiet
  git -C "$dir" rev-parse main
  exit 0
fi

dir=$1
commits=${2:-5000}
files=${3:-2000}
rm -rf "$dir"
git init -q --bare -b main "$dir"
awk -v commits="$commits" -v files="$files" '
function emit(f, c,   path, content, i) {
  path = sprintf("src/dir%02d/file%04d.txt", f % 50, f)
  content = ""
  for (i = 0; i < 20; i++) content = content sprintf("line %02d of file %04d, commit %05d: %08x\n", i, f, c, int(rand() * 4294967295))
  print "M 100644 inline " path
  print "data " length(content)
  printf "%s\n", content
}
BEGIN {
  srand(42)
  for (c = 1; c <= commits; c++) {
    print "commit refs/heads/main"
    print "committer Bench <bench@kiln.invalid> " (1700000000 + c) " +0000"
    msg = "commit " c
    print "data " length(msg)
    print msg
    if (c == 1) { for (f = 0; f < files; f++) emit(f, c) }
    else { n = 1 + int(rand() * 3); for (k = 0; k < n; k++) emit(int(rand() * files), c) }
  }
}' | git -C "$dir" fast-import --quiet
git -C "$dir" repack -adq
git -C "$dir" rev-parse main

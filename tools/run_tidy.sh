#!/usr/bin/env bash
# clang-tidy (.clang-tidy at the root: bugprone, performance, google, clang-analyzer) over the
# sources under the given folders or files (the Makefile's TIDY_DIRS: the libraries), with the
# compile commands of the GCC build in BUILD_DIR (default build/; `make build` first). Fails on
# any warning in our own files (.clang-tidy's HeaderFilterRegex). docs/development.md.
#
#   tools/run_tidy.sh crdt persistence          # two folders
#   tools/run_tidy.sh .                         # everything (tens of minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
db="$BUILD_DIR/compile_commands.json"
[ -f "$db" ] || { echo "run_tidy: $db missing (make build first)" >&2; exit 2; }
command -v clang-tidy >/dev/null || { echo "run_tidy: clang-tidy missing (make deps)" >&2; exit 2; }
[ $# -gt 0 ] || set -- .

/usr/bin/python3 - "$db" "$PWD" "$@" > "$BUILD_DIR/tidy_files.txt" <<'PY'
import json, os, sys
db, root, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
# Folders match everything under them; files match themselves.
paths = [os.path.normpath(os.path.join(root, d)) for d in dirs]
def wanted(f):
    return any(f == p or f.startswith(p + "/") for p in paths)
for e in json.load(open(db)):
    f = e["file"]
    if f.startswith(root + "/build") or not wanted(f):
        continue
    print(f)
PY
n=$(wc -l < "$BUILD_DIR/tidy_files.txt")
echo "run_tidy: $n files under $*, $JOBS at a time"
start=$(date +%s)
out="$BUILD_DIR/tidy_output.txt"
xargs -a "$BUILD_DIR/tidy_files.txt" -P "$JOBS" -n 4 clang-tidy -p "$BUILD_DIR" --quiet \
  >"$out" 2>&1 || true
warnings=$(grep -c ': warning: \|: error: ' "$out" || true)
if [ "$warnings" != "0" ]; then
  grep -A3 ': warning: \|: error: ' "$out" | head -200
  echo "run_tidy: FAILED: $warnings warnings ($out)" >&2
  exit 1
fi
echo "run_tidy: clean ($(( $(date +%s) - start )) s)"

#!/usr/bin/env bash
# clang's -Wthread-safety over the project's translation units (docs/development.md, "Static
# checks"): the locking annotations (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED, ...) are
# checked wherever a guarded member is used, not only in the library that declares it. Syntax
# only (no code generated), with the compile commands of the GCC build in BUILD_DIR (default
# build/; `make build` first). Only the translation units that contain an annotation or include
# a header that does (per the GCC build's dependency files) are compiled: the others have
# nothing to check. ALL=1 checks every one. Any thread-safety warning fails; other clang
# warnings are not this check's business (the GCC build has -Werror, clang-tidy its own target).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
db="$BUILD_DIR/compile_commands.json"
[ -f "$db" ] || { echo "check_thread_safety: $db missing (make build first)" >&2; exit 2; }
command -v clang++ >/dev/null || { echo "check_thread_safety: clang++ missing (make deps)" >&2; exit 2; }

# One line per project translation unit (generated protobuf code excluded): directory, command.
ALL=${ALL:-0} /usr/bin/python3 - "$db" "$PWD" > "$BUILD_DIR/thread_safety_tus.txt" <<'PY'
import json, os, re, shlex, subprocess, sys
db, root = sys.argv[1], sys.argv[2]
check_all = os.environ.get("ALL") == "1"
annotation = re.compile(r"ABSL_(GUARDED_BY|PT_GUARDED_BY|EXCLUSIVE_LOCKS_REQUIRED|"
                        r"SHARED_LOCKS_REQUIRED|LOCKS_EXCLUDED|LOCKABLE|SCOPED_LOCKABLE|"
                        r"ACQUIRE|RELEASE|ASSERT_EXCLUSIVE_LOCK)")
sources = subprocess.run(["git", "ls-files", "*.h", "*.cc"], cwd=root, capture_output=True,
                         text=True, check=True).stdout.split()
annotated = {os.path.join(root, f) for f in sources
             if annotation.search(open(os.path.join(root, f), errors="replace").read())}
def needs_check(entry):
    if check_all or entry["file"] in annotated:
        return True
    out = entry["command"].split(" -o ")[1].split()[0]
    depfile = os.path.join(entry["directory"], out + ".d")
    if not os.path.exists(depfile):
        return True  # no dependency information: check it
    deps = open(depfile).read().replace("\\\n", " ").split()
    return any(os.path.normpath(os.path.join(entry["directory"], d)) in annotated for d in deps)
for e in json.load(open(db)):
    f = e["file"]
    if not f.startswith(root + "/") or f.startswith(root + "/build") or not needs_check(e):
        continue
    args = shlex.split(e["command"])
    out, skip = ["clang++"], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c"):
            skip = True
            continue
        out.append(a)
    out += ["-fsyntax-only", "-Wno-everything", "-Wthread-safety", "-Werror=thread-safety", f]
    print(e["directory"] + "\t" + " ".join(shlex.quote(a) for a in out))
PY
n=$(wc -l < "$BUILD_DIR/thread_safety_tus.txt")
echo "check_thread_safety: $n translation units, $JOBS at a time"
start=$(date +%s)
# Each line: cd to its directory and run its command; xargs stops with status 123 on a failure.
if ! tr '\n' '\0' < "$BUILD_DIR/thread_safety_tus.txt" |
    xargs -0 -P "$JOBS" -I{} bash -c 'IFS=$'"'"'\t'"'"' read -r dir cmd <<< "$1"; cd "$dir" && eval "$cmd"' _ {}; then
  echo "check_thread_safety: FAILED (see the warnings above)" >&2
  exit 1
fi
echo "check_thread_safety: clean ($(( $(date +%s) - start )) s)"

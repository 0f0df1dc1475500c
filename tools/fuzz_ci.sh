#!/usr/bin/env bash
# The fuzzing tier of CI (docs/fuzzing.md): builds the libFuzzer targets with clang
# (-DACTIVEKV_FUZZ=ON: ASan + UBSan + libFuzzer) and, for each target, replays every input of its
# committed corpus (tests/fuzz/corpus/<target>/: seeds and past findings) and then fuzzes it for a
# bounded time. Fails on any crash, failed invariant, sanitizer report, leak, timeout or
# out-of-memory; the input that failed is kept under <build>/fuzz-artifacts/.
#
#   tools/fuzz_ci.sh                 # every target, 20 s each
#   FUZZ_SECONDS=60 FUZZ_TARGETS="acl_rules_fuzz topology_fuzz" tools/fuzz_ci.sh
#
# Environment: BUILD_DIR (build-fuzz), JOBS (nproc), FUZZ_SECONDS (20), FUZZ_TARGETS (all),
# FUZZ_CONFIGURE (1; 0: BUILD_DIR is already configured with -DACTIVEKV_FUZZ=ON, as make
# sanitize-ci's clang ASan build is, and is used as it is).
# Needs clang and libclang_rt.fuzzer (Debian: clang, libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
read -r -a TARGETS <<<"${FUZZ_TARGETS:-resp_parser_fuzz aof_reader_fuzz sync_message_fuzz snapshot_merge_fuzz topology_fuzz acl_rules_fuzz}"

start=$(date +%s)
if [ "${FUZZ_CONFIGURE:-1}" != 0 ]; then
  CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$BUILD_DIR" -DACTIVEKV_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
elif ! grep -q '^ACTIVEKV_FUZZ:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  echo "fuzz_ci: $BUILD_DIR is not configured with -DACTIVEKV_FUZZ=ON" >&2
  exit 1
fi
cmake --build "$BUILD_DIR" --target "${TARGETS[@]}" -j "$JOBS"
built=$(date +%s)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="$BUILD_DIR/fuzz-artifacts"
mkdir -p "$artifacts"
# Leaks, UBSan reports and assertion failures all end the run; stacks are symbolized.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

failed=()
summary=()
for t in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/fuzz/$t"
  corpus="tests/fuzz/corpus/$t"
  log="$work/$t.log"
  echo "=== $t"
  # 1. Regressions: every committed input once.
  if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ]; then
    if ! "$bin" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/$t-" \
        "$corpus"/* >"$log" 2>&1; then
      tail -n 40 "$log"
      echo "FAIL $t: a committed corpus input fails (see above; artifacts in $artifacts)"
      failed+=("$t")
      continue
    fi
    echo "replayed $(ls "$corpus" | wc -l) corpus inputs"
  fi
  # 2. A bounded run from the corpus; new inputs go to a scratch directory (listed first), the
  # committed corpus is only read.
  mkdir -p "$work/$t"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  if ! "$bin" "$work/$t" "$corpus" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "FAIL $t (artifacts in $artifacts)"
    failed+=("$t")
    continue
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  summary+=("$(printf '%-22s %12s execs %8s exec/s' "$t" "${execs:-?}" "${rate:-?}")")
done

end=$(date +%s)
echo
printf '%s\n' "${summary[@]}"
echo "build $((built - start)) s, runs $((end - built)) s, total $((end - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-ci: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz-ci: OK"

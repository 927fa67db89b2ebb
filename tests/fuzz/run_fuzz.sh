#!/usr/bin/env bash
# Runs the libFuzzer model-loader target on a copy of the seed corpus.
# Usage: tests/fuzz/run_fuzz.sh BUILD_DIR SECONDS
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout, OOM);
# reproducers are kept in BUILD_DIR/fuzz-artifacts/.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 2
fi
build_dir=$1
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
binary=$build_dir/tests/fuzz/fuzz_model_loader
if [[ ! -x $binary ]]; then
  echo "run_fuzz.sh: $binary is not built (configure with -DEP_FUZZ=ON)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp "$here"/corpus/* "$work/corpus/"
artifacts=$build_dir/fuzz-artifacts
mkdir -p "$artifacts"
rm -f "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-* \
  "$artifacts"/slow-unit-*

echo "fuzz: $binary for ${seconds}s from $(ls "$work/corpus" | wc -l) seeds"
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  "$binary" "$work/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=1048576 \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$work/log" 2>&1 || status=$?
# Keep the summary (start, end, coverage, stats) and, on failure, the report itself.
grep -E '^#[0-9]+\s+(INITED|DONE)|^stat::|^INFO: (Running|Loaded|seed)' "$work/log" || true
if [[ $status -ne 0 ]]; then
  sed -n '/^###### Recommended dictionary/,/^###### End of recommended dictionary/!p' "$work/log" |
    grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)|^\s+NEW_FUNC' | tail -n 80
fi

findings=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
  -o -name 'oom-*' \) | wc -l)
if [[ $status -ne 0 || $findings -ne 0 ]]; then
  echo "fuzz: FAILED (exit status $status, $findings reproducer(s) in $artifacts)" >&2
  exit 1
fi
echo "fuzz: no findings in ${seconds}s"

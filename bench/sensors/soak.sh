#!/usr/bin/env bash
# Soak test of `edgeperf log`: the simulator at RATE Hz for SECONDS seconds.
# Reports dropped/late samples and jitter (from the logger's sidecar JSON), CPU
# use from /proc/<pid>/stat (utime+stime over wall time), and RSS once a second
# from /proc/<pid>/status, with the RSS growth after the first chunk was written.
# Targets at 1 kHz for 60 s: zero dropped, < 2% of one core, RSS flat after the first chunk.
#   usage: bench/sensors/soak.sh [EDGEPERF] [SECONDS] [RATE] [CHUNK_SECS]
set -euo pipefail
EDGEPERF=${1:-build/edgeperf}
SECONDS_TO_RUN=${2:-60}
RATE=${3:-1000}
CHUNK_SECS=${4:-10}
OUT=$(mktemp -d /tmp/edgeperf-soak.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {  # utime + stime; fields counted after the ")" that ends the command name
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

"$EDGEPERF" log --source sim:42 --rate "$RATE" --duration "$SECONDS_TO_RUN" \
  --chunk-secs "$CHUNK_SECS" --out "$OUT/log" >"$OUT/stdout" 2>"$OUT/stderr" &
PID=$!
START_NS=$(date +%s%N)
RSS_LOG=()
FIRST_CHUNK_AT=""
LAST_TICKS=0
while kill -0 "$PID" 2>/dev/null; do
  if [ -r "/proc/$PID/stat" ]; then
    LAST_TICKS=$(cpu_ticks "$PID" 2>/dev/null || echo "$LAST_TICKS")
    RSS=$(rss_kib "$PID" 2>/dev/null || true)
    ELAPSED=$(( ($(date +%s%N) - START_NS) / 1000000000 ))
    if [ -n "$RSS" ]; then
      RSS_LOG+=("$ELAPSED:$RSS")
      if [ -z "$FIRST_CHUNK_AT" ] && compgen -G "$OUT/log/date=*/*.parquet" >/dev/null; then
        FIRST_CHUNK_AT=${#RSS_LOG[@]}
      fi
    fi
  fi
  sleep 1
done
set +e
wait "$PID"
STATUS=$?
set -e
WALL_NS=$(( $(date +%s%N) - START_NS ))
cat "$OUT/stdout"
if [ "$STATUS" -ne 0 ]; then
  cat "$OUT/stderr" >&2
  echo "soak: logger exited $STATUS" >&2
  exit 1
fi

SIDECAR=$(ls "$OUT"/log/log-*.json)
python3 - "$SIDECAR" "$LAST_TICKS" "$CLK_TCK" "$WALL_NS" "${FIRST_CHUNK_AT:-0}" "${RSS_LOG[@]}" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
ticks, clk, wall_ns, first_chunk = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rss = [tuple(map(int, item.split(":"))) for item in sys.argv[6:]]
cpu_s = ticks / clk
after = [kib for _, kib in rss[first_chunk:]] if first_chunk else []
print(f"rate {stats['rate_hz']:.0f} Hz, {stats['elapsed_s']:.1f} s, chunks {len(stats['chunks'])}")
print(f"samples {stats['samples']} written {stats['rows_written']} dropped {stats['dropped_samples']} "
      f"late {stats['late_samples']} skipped {stats['skipped_ticks']}")
j = stats["jitter_us"]
print(f"jitter p50 {j['p50']:.0f} us p99 {j['p99']:.0f} us max {j['max']:.0f} us")
print(f"cpu {cpu_s:.2f} s over {wall_ns / 1e9:.1f} s wall = {100 * cpu_s / (wall_ns / 1e9):.2f}% of one core "
      f"(last /proc sample, so slightly under the total)")
print("rss KiB over time (s:KiB): " + " ".join(f"{t}:{k}" for t, k in rss))
if after:
    print(f"rss after first chunk: min {min(after)} KiB max {max(after)} KiB growth {after[-1] - after[0]} KiB")
PY

#!/usr/bin/env bash
# Load test of `edgeperf dashboard`: wrk for 10 s against /api/latest on 127.0.0.1.
# Fails on socket errors, non-2xx responses, or p99 latency of 20 ms or more.
#   tests/e2e/dashboard_wrk.sh EDGEPERF [SECONDS] [CONNECTIONS]
set -euo pipefail
edgeperf=${1:?usage: dashboard_wrk.sh EDGEPERF [SECONDS] [CONNECTIONS]}
seconds=${2:-10}
connections=${3:-10}
command -v wrk >/dev/null || { echo "dashboard_wrk: wrk is not installed (scripts/setup.sh)"; exit 77; }

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/edgeperf-wrk-XXXXXX.log)
"$edgeperf" dashboard --source sim --port "$port" 2>"$log" >/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  curl_ok=$(/usr/bin/python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$port/api/latest', timeout=1).status)" 2>/dev/null || true)
  [[ "$curl_ok" == 200 ]] && break
  sleep 0.1
done
[[ "${curl_ok:-}" == 200 ]] || { echo "dashboard_wrk: server did not start"; cat "$log"; exit 1; }

out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/api/latest")
echo "$out"

# wrk prints latencies as 1.23ms / 456.78us / 1.20s.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
                         else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; print n }'
}
p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
requests=$(echo "$out" | awk '/requests in/ { print $1 }')
rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
socket_errors=$(echo "$out" | grep -c "Socket errors" || true)
non2xx=$(echo "$out" | awk '/Non-2xx or 3xx responses/ { print $NF }')
p99_ms=$(to_ms "$p99")
echo "dashboard_wrk: ${requests} requests, ${rps} req/s, p99 ${p99_ms} ms"

status=0
[[ -n "$p99" && "$requests" -gt 0 ]] || { echo "dashboard_wrk: FAIL: could not parse wrk output"; status=1; }
[[ "$socket_errors" -eq 0 ]] || { echo "dashboard_wrk: FAIL: socket errors"; status=1; }
[[ -z "$non2xx" ]] || { echo "dashboard_wrk: FAIL: ${non2xx} non-2xx responses"; status=1; }
awk -v p="$p99_ms" 'BEGIN { exit !(p < 20) }' || { echo "dashboard_wrk: FAIL: p99 ${p99_ms} ms >= 20 ms"; status=1; }

kill -TERM "$server"
wait "$server" || { echo "dashboard_wrk: FAIL: server exited with $? after SIGTERM"; status=1; }
trap 'rm -f "$log"' EXIT
[[ $status -eq 0 ]] && echo "dashboard_wrk: OK"
exit $status

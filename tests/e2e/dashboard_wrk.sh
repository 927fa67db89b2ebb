#!/usr/bin/env bash
# Load test of `edgeperf dashboard`: wrk for 10 s against /api/latest on 127.0.0.1, and
# meanwhile one more client (latency_probe.py) that times each of its own requests.
# Fails on socket errors, non-2xx responses, or a probe p99 of 20 ms or more. wrk's own
# percentiles are printed but not judged: they come from per-interval samples, with
# missed intervals recorded at wrk's maximum, so one ~100 ms pause of the VM's vCPUs
# makes them read ~100 ms (see latency_probe.py).
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

url="http://127.0.0.1:$port/api/latest"
wrk_out=$(mktemp /tmp/edgeperf-wrk-out-XXXXXX.txt)
wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url" >"$wrk_out" &
wrk_pid=$!
sleep 1
probe=$(/usr/bin/python3 "$(dirname "$0")/latency_probe.py" "$url" "$((seconds > 3 ? seconds - 2 : 1))") || true
wait "$wrk_pid" || true
out=$(cat "$wrk_out")
rm -f "$wrk_out"
echo "$out"
echo "probe: $probe"

# wrk prints latencies as 1.23ms / 456.78us / 1.20s.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
                         else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; print n }'
}
wrk_p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
requests=$(echo "$out" | awk '/requests in/ { print $1 }')
rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
socket_errors=$(echo "$out" | grep -c "Socket errors" || true)
non2xx=$(echo "$out" | awk '/Non-2xx or 3xx responses/ { print $NF }')
field() { echo "$probe" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
p99_ms=$(field p99_ms)
probe_requests=$(field requests)
probe_errors=$(field errors)
echo "dashboard_wrk: wrk ${requests} requests, ${rps} req/s (wrk's sampled p99 $(to_ms "$wrk_p99") ms);" \
  "probe ${probe_requests} requests, p50 $(field p50_ms) ms, p99 ${p99_ms} ms, max $(field max_ms) ms"

status=0
[[ -n "$wrk_p99" && "$requests" -gt 0 ]] || { echo "dashboard_wrk: FAIL: could not parse wrk output"; status=1; }
[[ -n "$p99_ms" && "${probe_requests:-0}" -gt 0 ]] || { echo "dashboard_wrk: FAIL: the latency probe made no request"; status=1; }
[[ "${probe_errors:-1}" -eq 0 ]] || { echo "dashboard_wrk: FAIL: ${probe_errors} probe requests failed"; status=1; }
[[ "$socket_errors" -eq 0 ]] || { echo "dashboard_wrk: FAIL: socket errors"; status=1; }
[[ -z "$non2xx" ]] || { echo "dashboard_wrk: FAIL: ${non2xx} non-2xx responses"; status=1; }
awk -v p="${p99_ms:-1e9}" 'BEGIN { exit !(p < 20) }' || { echo "dashboard_wrk: FAIL: probe p99 ${p99_ms} ms >= 20 ms"; status=1; }

kill -TERM "$server"
wait "$server" || { echo "dashboard_wrk: FAIL: server exited with $? after SIGTERM"; status=1; }
trap 'rm -f "$log"' EXIT
[[ $status -eq 0 ]] && echo "dashboard_wrk: OK"
exit $status

#!/usr/bin/env python3
"""Times every request of one keep-alive HTTP client, for the dashboard load test.

wrk's own latency percentiles are built from per-interval samples, with the intervals
it missed recorded at its maximum; on a VM whose vCPUs the host pauses for ~100 ms now
and then, that puts wrk's p99 at the pause length even when 99.9% of requests take
under a few ms. This probe records each request it makes, so its percentiles are over
requests.

    latency_probe.py URL SECONDS   ->  one line: requests=N p50_ms=.. p99_ms=.. max_ms=.. errors=N
"""
import http.client
import sys
import time
import urllib.parse


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: latency_probe.py URL SECONDS", file=sys.stderr)
        return 2
    url = urllib.parse.urlsplit(sys.argv[1])
    seconds = float(sys.argv[2])
    path = url.path or "/"
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    latencies, errors = [], 0
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            continue
        latencies.append(time.perf_counter() - start)
    if not latencies:
        print(f"requests=0 errors={errors}")
        return 1
    latencies.sort()
    n = len(latencies)

    def ms(q: float) -> float:
        return latencies[min(n - 1, int(q * n))] * 1e3

    print(f"requests={n} p50_ms={ms(0.50):.3f} p99_ms={ms(0.99):.3f} "
          f"max_ms={latencies[-1] * 1e3:.1f} errors={errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

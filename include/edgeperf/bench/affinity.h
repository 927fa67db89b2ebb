#pragma once
// Thread affinity for benchmarks (`bench --pin-cores`): on a Raspberry Pi or a big.LITTLE
// board, runs move between cores and clusters unless pinned, and latency moves with them.
#include <vector>

namespace edgeperf::bench {

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

// Pins the calling thread and the OpenMP team of `threads` threads, thread i to cores[i]:
// the pool threads stay on their cores for the parallel regions that follow. Throws
// Error when a core is not available to this process or there are fewer cores than
// threads.
void pin_threads_to_cores(const std::vector<int>& cores, int threads);

// The CPU each thread of an OpenMP team of `threads` may run on, one entry per thread in
// team order (for tests and reports): the single CPU of a pinned thread, -1 for a thread
// allowed on several.
std::vector<int> team_cpus(int threads);

}  // namespace edgeperf::bench

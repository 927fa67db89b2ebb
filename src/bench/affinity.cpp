#include "edgeperf/bench/affinity.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <atomic>

#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

bool pin_calling_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;  // 0: the calling thread
}

int single_cpu_of_calling_thread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) return cpu;
  }
  return -1;
}

}  // namespace

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

void pin_threads_to_cores(const std::vector<int>& cores, int threads) {
  EP_CHECK(!cores.empty(), "--pin-cores: no cores given");
  EP_CHECK(threads >= 1 && static_cast<std::size_t>(threads) <= cores.size(),
           "--pin-cores lists {} core(s) ({}) for {} threads: give one core per thread",
           cores.size(), fmt::join(cores, ","), threads);
  const std::vector<int> allowed = allowed_cpus();
  for (int core : cores) {
    EP_CHECK(std::find(allowed.begin(), allowed.end(), core) != allowed.end(),
             "--pin-cores: CPU {} is not available to this process (allowed: {})", core,
             fmt::join(allowed, ","));
  }
  std::atomic<int> failed{-1};
#pragma omp parallel num_threads(threads)
  {
    const int core = cores[static_cast<std::size_t>(omp_get_thread_num())];
    if (!pin_calling_thread(core)) failed = core;
  }
  EP_CHECK(failed.load() < 0, "--pin-cores: cannot pin a thread to CPU {}", failed.load());
}

std::vector<int> team_cpus(int threads) {
  std::vector<int> cpus(static_cast<std::size_t>(threads), -1);
#pragma omp parallel num_threads(threads)
  cpus[static_cast<std::size_t>(omp_get_thread_num())] = single_cpu_of_calling_thread();
  return cpus;
}

}  // namespace edgeperf::bench

#pragma once
// What the machine is: the facts a benchmark report must carry to be reproducible.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/bench/power.h"
#include "edgeperf/bench/probes.h"

namespace edgeperf::bench {

// CPUs of one core type (big.LITTLE boards have two or three such clusters).
struct CpuCluster {
  std::string core;  // "Cortex-A76", or "implementer 0x41 part 0xd99" when unknown
  std::string part;  // MIDR implementer:part, "0x41:0xd0b"
  std::vector<int> cpus;
  double max_mhz = 0;  // cpuinfo_max_freq; 0 when cpufreq is absent
};

// Raspberry Pi firmware's `vcgencmd get_throttled` bits, decoded.
struct ThrottleState {
  std::uint32_t raw = 0;
  std::vector<std::string> now;         // "under-voltage", "arm frequency capped", ...
  std::vector<std::string> since_boot;  // the same conditions, seen since boot
};
std::optional<ThrottleState> parse_throttled(const std::string& vcgencmd_output);
std::optional<ThrottleState> read_throttle_state(const MachinePaths& paths);

// ARM cores by MIDR ("CPU implementer" and "CPU part" in /proc/cpuinfo), grouped by
// type; empty on x86.
std::vector<CpuCluster> read_cpu_clusters(const MachinePaths& paths);
std::string arm_core_name(unsigned implementer, unsigned part);

struct SystemInfo {
  std::string cpu_model;
  std::string board;  // device-tree model ("Raspberry Pi 5 Model B Rev 1.0"); "" on PCs
  std::vector<CpuCluster> clusters;
  std::string architecture;
  std::vector<std::string>
      isa_extensions;  // those our kernels use: avx2, avx512f, avx512_vnni, neon...
  // The ISA our own kernels run with here, chosen at run time (CpuFeatures::best()):
  // avx512_vnni, avx512, avx2, neon_dotprod, neon or scalar.
  std::string kernel_isa;
  int physical_cores = 0;
  int logical_cpus = 0;
  std::string governor;         // "" when cpufreq is absent
  std::vector<double> cur_mhz;  // per CPU, empty when absent
  double memory_total_gib = 0;
  double memory_available_gib = 0;
  std::string kernel;
  std::string compiler;
  std::string onednn_version;
  std::string protobuf_version;
  // The shared library serving omp_* calls ("libomp.so.5": LLVM, "libgomp.so.1": GNU),
  // found by the dynamic linker at run time; "unavailable" when it cannot be told.
  std::string openmp_runtime;
  std::vector<std::string> thermal_zones;   // "type: 45.0 C"
  std::string energy_method;                // EnergyProbe::method()
  std::string power_method;                 // PowerProbe::method()
  std::string power_coverage;               // PowerProbe::coverage()
  std::vector<PowerRail> power_rails;       // one reading
  std::optional<ThrottleState> throttling;  // Raspberry Pi only
  bool virtualized = false;
  double measured_ghz = 0;  // set by whoever measures it (measure_cpu_ghz); 0: not measured
};

SystemInfo collect_system_info(const MachinePaths& paths = {});
nlohmann::json to_json(const SystemInfo& info);

}  // namespace edgeperf::bench

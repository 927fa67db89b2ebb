#pragma once
// What the machine is: the facts a benchmark report must carry to be reproducible.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace edgeperf::bench {

struct SystemInfo {
  std::string cpu_model;
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
  std::vector<std::string> thermal_zones;  // "type: 45.0 C"
  std::string energy_method;               // EnergyProbe::method()
  bool virtualized = false;
  double measured_ghz = 0;  // set by whoever measures it (measure_cpu_ghz); 0: not measured
};

SystemInfo collect_system_info(const std::filesystem::path& proc_root = "/proc",
                               const std::filesystem::path& sysfs_root = "/sys");
nlohmann::json to_json(const SystemInfo& info);

}  // namespace edgeperf::bench

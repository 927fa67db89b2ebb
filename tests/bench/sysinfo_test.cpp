#include <gtest/gtest.h>

#include <fstream>

#include "edgeperf/bench/sysinfo.h"

namespace edgeperf::bench {
namespace {
namespace fs = std::filesystem;

TEST(SystemInfo, ParsesCpuinfoAndMeminfo) {
  const fs::path root = fs::temp_directory_path() / "edgeperf-proc-test";
  fs::remove_all(root);
  fs::create_directories(root / "proc");
  std::ofstream(root / "proc/cpuinfo")
      << "processor\t: 0\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 0\n"
         "flags\t\t: fpu sse4_2 avx2 fma avx512f avx512_vnni hypervisor\n\n"
         "processor\t: 1\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 0\n"
         "flags\t\t: fpu sse4_2 avx2 fma avx512f avx512_vnni hypervisor\n\n";
  std::ofstream(root / "proc/meminfo") << "MemTotal:       2097152 kB\nMemAvailable:   1048576 kB\n";
  const SystemInfo info = collect_system_info(root / "proc", root / "sys");
  EXPECT_EQ(info.cpu_model, "Test CPU");
  EXPECT_EQ(info.logical_cpus, 2);
  EXPECT_EQ(info.physical_cores, 1);  // two hyperthreads of one core
  EXPECT_TRUE(info.virtualized);
  EXPECT_EQ(info.isa_extensions, (std::vector<std::string>{"sse4_2", "avx2", "fma", "avx512f", "avx512_vnni"}));
  EXPECT_DOUBLE_EQ(info.memory_total_gib, 2.0);
  EXPECT_EQ(info.energy_method, "unavailable");
  EXPECT_TRUE(info.thermal_zones.empty());
  EXPECT_FALSE(info.onednn_version.empty());
  fs::remove_all(root);
}

}  // namespace
}  // namespace edgeperf::bench

#pragma once
// Peak multiply-accumulate rates of this machine, measured (peak_kernels.cpp).
#include <string>

namespace edgeperf::bench {

struct MeasuredPeak {
  double f32_gmacs = 0;   // all `threads` at once
  double int8_gmacs = 0;  // 0 when the CPU has no int8 dot product we know
  std::string f32_instruction, int8_instruction;
};

MeasuredPeak measure_peak_gmacs(int threads);

}  // namespace edgeperf::bench

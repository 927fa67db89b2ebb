// EfficientNet-B0's squeeze-and-excitation trunks in int8 (u8 depthwise outputs,
// channels-last, swish), three ways: the activation pass and the gate with the trunk t
// stored in f32 between them, swish computed; the same with swish looked up in its table
// (AVX-512 VBMI); and the activation pass with only the pool's sums, the gate looking swish
// up again from the bytes. Same data, runs interleaved in one process, one thread (the ops
// split pixels between threads around these calls). Prints each way's median time per
// layer and its ratio to the first.
//
// With --hardswish, MobileNetV3's activation instead of swish.
//
//   squeeze_excite_bench [--runs 300] [--hardswish]
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "edgeperf/bench/runner.h"
#include "edgeperf/bench/stats.h"
#include "edgeperf/core/error.h"
#include "squeeze_excite.h"

namespace edgeperf::runtime::onednn {
namespace {

// EfficientNet-B0 (224x224 input): the SE trunk of each stage, pixels (112^2 down to 7^2)
// and channels.
const std::vector<ChannelsLast> kTrunks = {{12544, 32}, {3136, 96}, {3136, 144}, {784, 144},
                                           {784, 240},  {196, 240}, {196, 480},  {196, 672},
                                           {49, 672},   {49, 1152}};

double median_us(const std::vector<double>& latencies_ms) {
  return bench::summarize(latencies_ms).median * 1e3;
}

struct Result {
  double computed_us, looked_up_us, again_us;
  std::size_t mismatches;  // output bytes differing by more than 1 between the ways
};

Result bench_trunk(ChannelsLast shape, const Activation& computed_act, int runs) {
  const auto count = static_cast<std::size_t>(shape.pixels * shape.channels);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::uint8_t> q(count);
  for (std::uint8_t& b : q) b = static_cast<std::uint8_t>(byte(rng));
  std::vector<float> gate(shape.channels);
  std::uniform_real_distribution<float> gate_value(0.0f, 1.0f);
  for (float& g : gate) g = gate_value(rng);
  const Dequantization dq{0.04f, 100, false};
  const Activation& swish = computed_act;
  Activation table_swish = computed_act;
  table_swish.table = activation_table(dq, table_swish);
  const Quantization out{0.03f, 90, false};
  std::vector<float> t(count), sums(shape.channels);
  std::vector<std::uint8_t> computed_y(count), looked_up_y(count), again_y(count);
  const auto stored = [&](const Activation& act, std::vector<std::uint8_t>& y) {
    std::fill(sums.begin(), sums.end(), 0.0f);
    activate_bytes(q.data(), dq, act, shape, t.data(), sums.data());
    gate_quantize(t.data(), gate.data(), shape, out, y.data());
  };
  const std::vector<std::vector<double>> latencies = bench::measure_interleaved(
      {[&] { stored(swish, computed_y); }, [&] { stored(table_swish, looked_up_y); },
       [&] {
         std::fill(sums.begin(), sums.end(), 0.0f);
         activate_bytes(q.data(), dq, table_swish, shape, nullptr, sums.data());
         gate_quantize_bytes(q.data(), dq, table_swish, gate.data(), shape, out, again_y.data());
       }},
      static_cast<std::size_t>(runs), 5);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < count; ++i) {
    mismatches += std::abs(int{computed_y[i]} - int{looked_up_y[i]}) > 1 ||
                  std::abs(int{computed_y[i]} - int{again_y[i]}) > 1;
  }
  return {median_us(latencies[0]), median_us(latencies[1]), median_us(latencies[2]), mismatches};
}

int run(int argc, char** argv) {
  int runs = 300;
  Activation act{ByteActivation::swish};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--hardswish") {
      act = {ByteActivation::hard_sigmoid_gate, 1.0f / 6.0f, 0.5f};
      continue;
    }
    EP_CHECK(arg == "--runs" && i + 1 < argc,
             "usage: squeeze_excite_bench [--runs N] [--hardswish]");
    runs = std::stoi(argv[++i]);
    EP_CHECK(runs > 0, "--runs must be positive, got {}", runs);
  }
  fmt::print("squeeze-excite ISA: {}{}, {}, {} runs a way\n", squeeze_excite_isa(),
             looks_up_activations() ? " (tables looked up)" : " (tables not used)",
             act.kind == ByteActivation::swish ? "swish" : "hardswish", runs);
  fmt::print(
      "| pixels x channels | computed, t stored us | table, t stored us | "
      "table, no t us | mismatches |\n");
  fmt::print("|---|---|---|---|---|\n");
  double computed = 0, looked_up = 0, again = 0;
  for (const ChannelsLast& shape : kTrunks) {
    const Result r = bench_trunk(shape, act, runs);
    computed += r.computed_us;
    looked_up += r.looked_up_us;
    again += r.again_us;
    fmt::print("| {} x {} | {:.1f} | {:.1f} ({:.2f}) | {:.1f} ({:.2f}) | {} |\n", shape.pixels,
               shape.channels, r.computed_us, r.looked_up_us, r.looked_up_us / r.computed_us,
               r.again_us, r.again_us / r.computed_us, r.mismatches);
  }
  fmt::print("| all | {:.1f} | {:.1f} ({:.2f}) | {:.1f} ({:.2f}) | |\n", computed, looked_up,
             looked_up / computed, again, again / computed);
  return 0;
}

}  // namespace
}  // namespace edgeperf::runtime::onednn

int main(int argc, char** argv) {
  try {
    return edgeperf::runtime::onednn::run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "squeeze_excite_bench: {}\n", e.what());
    return 1;
  }
}

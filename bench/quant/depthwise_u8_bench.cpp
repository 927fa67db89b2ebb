// MobileNetV2's 3x3 depthwise layers in int8 (u8 activations, s8 weights, channels-last,
// per-channel requantization to u8): edgeperf's VNNI kernel against the oneDNN 2.6
// primitive the region would otherwise use, same data, runs interleaved in one process.
// Prints each one's median time, the ratio and the multiply-add rate.
//
//   depthwise_u8_bench [--runs 400] [--threads 1,2]
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "depthwise_u8.h"
#include "edgeperf/core/error.h"

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::memory;

struct Layer {
  std::int64_t channels, size, stride;
};

// MobileNetV2 (224x224 input): each depthwise layer's channels, input size and stride.
const std::vector<Layer> kLayers = {{32, 112, 1}, {96, 112, 2}, {144, 56, 1}, {144, 56, 2},
                                    {192, 28, 1}, {192, 28, 2}, {384, 14, 1}, {576, 14, 1},
                                    {576, 14, 2}, {960, 7, 1}};

double median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2),
                   values.end());
  return values[values.size() / 2];
}

template <typename Body>
double time_us(Body&& body) {
  const auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

struct Result {
  double ours_us, onednn_us;
  std::int64_t macs;
  std::size_t mismatches;  // outputs differing by more than 1
};

Result bench_layer(const Layer& layer, int threads, int runs) {
  DepthwiseU8Shape shape{1,
                         layer.channels,
                         layer.size,
                         layer.size,
                         (layer.size - 1) / layer.stride + 1,
                         (layer.size - 1) / layer.stride + 1,
                         layer.stride,
                         1,
                         1};
  const auto c = static_cast<std::size_t>(layer.channels);
  std::mt19937 rng(7);
  std::vector<std::uint8_t> src(c * static_cast<std::size_t>(layer.size * layer.size));
  for (auto& value : src) value = static_cast<std::uint8_t>(rng() % 256);
  std::vector<std::int8_t> weights(c * 9);
  for (auto& value : weights) value = static_cast<std::int8_t>(static_cast<int>(rng() % 255) - 127);
  DepthwiseU8Requant requant;
  std::vector<float> bias(c);
  for (std::size_t i = 0; i < c; ++i) {
    requant.scale.push_back(1.0f / static_cast<float>(1200 + 37 * (i % 11)));
    bias[i] = static_cast<float>(static_cast<int>(rng() % 20001) - 10000);
    requant.offset.push_back(bias[i] * requant.scale.back());
  }
  const std::size_t out_size = c * static_cast<std::size_t>(shape.out_height * shape.out_width);
  std::vector<std::uint8_t> ours(out_size);
  std::vector<std::uint8_t> theirs(out_size);
  const DepthwiseConvU8 kernel(shape, weights, requant);

  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const memory::dims x_dims = {1, layer.channels, layer.size, layer.size};
  const memory::dims y_dims = {1, layer.channels, shape.out_height, shape.out_width};
  const memory::dims w_dims = {layer.channels, 1, 1, 3, 3};
  dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      memory::desc(x_dims, memory::data_type::u8, memory::format_tag::acdb),
      memory::desc(w_dims, memory::data_type::s8, memory::format_tag::any),
      memory::desc({layer.channels}, memory::data_type::f32, memory::format_tag::x),
      memory::desc(y_dims, memory::data_type::u8, memory::format_tag::acdb),
      {layer.stride, layer.stride}, {0, 0}, {1, 1}, {1, 1});
  dnnl::primitive_attr attr;
  attr.set_output_scales(1 << 1, requant.scale);
  const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
  memory user_weights(memory::desc(w_dims, memory::data_type::s8, memory::format_tag::goihw),
                      engine, weights.data());
  memory packed_weights(pd.weights_desc(), engine);
  dnnl::reorder(user_weights, packed_weights).execute(stream, user_weights, packed_weights);
  memory bias_memory(pd.bias_desc(), engine, bias.data());
  memory src_memory(pd.src_desc(), engine, src.data());
  memory dst_memory(pd.dst_desc(), engine, theirs.data());
  const dnnl::convolution_forward conv(pd);
  const std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src_memory},
                                                {DNNL_ARG_WEIGHTS, packed_weights},
                                                {DNNL_ARG_BIAS, bias_memory},
                                                {DNNL_ARG_DST, dst_memory}};
  omp_set_num_threads(threads);
  std::vector<double> ours_us;
  std::vector<double> onednn_us;
  for (int run = -10; run < runs; ++run) {
    const double a = time_us([&] { kernel.run(src.data(), ours.data(), threads); });
    const double b = time_us([&] {
      conv.execute(stream, args);
      stream.wait();
    });
    if (run >= 0) ours_us.push_back(a), onednn_us.push_back(b);
  }
  Result result{median(ours_us), median(onednn_us),
                layer.channels * 9 * shape.out_height * shape.out_width, 0};
  for (std::size_t i = 0; i < out_size; ++i) {
    result.mismatches += std::abs(int{ours[i]} - int{theirs[i]}) > 1;
  }
  return result;
}

int parse_count(const std::string& text, const std::string& flag) {
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value >= 1) return value;
  } catch (const std::exception&) {
  }
  fail("{}: expected a positive integer, got '{}'", flag, text);
}

int main_impl(int argc, char** argv) {
  int runs = 400;
  std::vector<int> thread_counts = {1, 2};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--runs") {
      runs = parse_count(argv[i + 1], flag);
    } else if (flag == "--threads") {
      thread_counts.clear();
      const std::string list = argv[i + 1];
      for (std::size_t start = 0; start < list.size();) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        thread_counts.push_back(parse_count(list.substr(start, comma - start), flag));
        start = comma + 1;
      }
    } else {
      fail("unknown option '{}' (expected --runs or --threads)", flag);
    }
  }
  EP_CHECK(DepthwiseConvU8::available(), "built without AVX-512 VNNI: nothing to compare");
  fmt::print(
      "| layer (C, HxW, stride) | threads | edgeperf us | oneDNN us | ratio | edgeperf "
      "GMAC/s | oneDNN GMAC/s | outputs off by >1 |\n|---|---|---|---|---|---|---|---|\n");
  for (int threads : thread_counts) {
    double ours_total = 0.0;
    double onednn_total = 0.0;
    for (const Layer& layer : kLayers) {
      const Result r = bench_layer(layer, threads, runs);
      ours_total += r.ours_us;
      onednn_total += r.onednn_us;
      fmt::print("| {}, {}x{}, s{} | {} | {:.1f} | {:.1f} | {:.2f} | {:.0f} | {:.0f} | {} |\n",
                 layer.channels, layer.size, layer.size, layer.stride, threads, r.ours_us,
                 r.onednn_us, r.ours_us / r.onednn_us, r.macs / r.ours_us / 1e3,
                 r.macs / r.onednn_us / 1e3, r.mismatches);
    }
    fmt::print("| all ten (one each) | {} | {:.1f} | {:.1f} | {:.2f} | | | |\n", threads,
               ours_total, onednn_total, ours_total / onednn_total);
  }
  return 0;
}

}  // namespace
}  // namespace edgeperf::runtime::onednn

int main(int argc, char** argv) {
  try {
    return edgeperf::runtime::onednn::main_impl(argc, argv);
  } catch (const std::exception& error) {
    fmt::print(stderr, "depthwise_u8_bench: {}\n", error.what());
    return 1;
  }
}
